"""Cold start (issue 23, item 4): the cycle collector is paused while the command line is parsed and its
modules imported, and while a run reads its inputs (packs, snapshot), what they made frozen for the
evaluation; it runs as before during the evaluation and is left as it was found, nothing frozen, when the
command ends, whether it succeeded or failed."""

from __future__ import annotations

import gc
import io
import sys
from pathlib import Path

import pytest

from migcheck import cli
from migcheck.app import pipeline

ROOT = Path(__file__).resolve().parent.parent
MIXED = str(ROOT / "fixtures" / "mixed-site.yaml")


@pytest.fixture(autouse=True)
def _collector_on():
    assert gc.isenabled() and gc.get_freeze_count() == 0
    yield
    gc.enable()
    gc.unfreeze()


def test_the_evaluation_runs_with_the_collector_and_the_inputs_frozen(monkeypatch):
    seen = {}
    load = pipeline.load_rules

    def spy_load(*args, **kwargs):
        seen["packs"] = gc.isenabled()
        return load(*args, **kwargs)

    def spy_evaluation(run):
        seen["evaluation"] = (gc.isenabled(), gc.get_freeze_count() > 0)
        return evaluation(run)

    monkeypatch.setattr(pipeline, "load_rules", spy_load)
    (evaluation,) = [s.run for s in pipeline.STAGES if s.name == "evaluation"]
    stages = tuple(pipeline.Stage(s.name, spy_evaluation if s.name == "evaluation" else s.run, s.note)
                   for s in pipeline.STAGES)
    monkeypatch.setattr(pipeline, "STAGES", stages)
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    assert cli.main(["check", MIXED, "sapapp01", "vsp-e2"]) == 1
    assert seen == {"packs": False, "evaluation": (True, True)}
    assert gc.isenabled() and gc.get_freeze_count() == 0 and "BLOCKED" in out.getvalue()


def test_a_failed_run_leaves_the_collector_as_it_was(tmp_path, monkeypatch, capsys):
    assert cli.main(["check", str(tmp_path / "absent.yaml"), "g", "t"]) == 2
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert cli.main(["check", "--no-such-option"]) == 2
    assert gc.isenabled() and gc.get_freeze_count() == 0
    with pytest.raises(Exception):
        pipeline.run(pipeline.Request(command="check", snapshot=str(tmp_path / "absent.yaml"), guest="g",
                                      target="t"))
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_caller_s_paused_collector_stays_paused(monkeypatch):
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    gc.disable()
    try:
        assert cli.main(["check", MIXED, "sapapp01", "vsp-e2"]) == 1
        assert not gc.isenabled() and gc.get_freeze_count() == 0
    finally:
        gc.enable()
