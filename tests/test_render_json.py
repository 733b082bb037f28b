"""The JSON report of check, audit, plan and a matrix made in memory: `render_json` builds it from the
streamed writer's pre-encoded pieces (no dict per result, no pure-Python `indent` encoder), and must be
`json.dumps(report.to_json(), indent=2, ensure_ascii=False)` and a line end, byte for byte: the reference
it replaced."""

from __future__ import annotations

import json

import pytest

from migcheck.report.json_report import render_json

from .conftest import ROOT
from .conftest import whole_report as _report

COMMANDS = {
    "check": ["check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "--waivers", "fixtures/waivers.yaml"],
    "check online": ["check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "--mode", "online"],
    "audit": ["audit", "fixtures/estate-broken.yaml"],
    "plan": ["plan", "fixtures/mixed-site.yaml", "fixtures/plan-dio.yaml"],
    "plan rolling": ["plan", "fixtures/rolling-site.yaml", "fixtures/plan-rolling.yaml"],
    "matrix": ["matrix", "fixtures/mixed-site.yaml", "--waivers", "fixtures/waivers.yaml"],
}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_render_json_is_the_reference_encoders_bytes(name, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")
    report = _report(COMMANDS[name])
    assert report.results  # something to write
    assert render_json(report) == json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"
