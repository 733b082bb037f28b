"""Stage timings: `MIGCHECK_TIMINGS=1` prints the time of every stage a command ran, in order, on
stderr (as OPA's `runStage` metrics); without it nothing is printed and the output is the same."""

from __future__ import annotations

import re

from .conftest import FIXTURES

TIMING = re.compile(r"^migcheck: timing: ( *)(\S+) +(\d+\.\d{4}) s wall +(\d+\.\d{4}) s cpu$")


def _timings(err: str) -> list[str]:
    return [m.group(2) for m in map(TIMING.match, err.splitlines()) if m]


def test_every_stage_is_timed_in_order(run_cli, monkeypatch):
    monkeypatch.setenv("MIGCHECK_TIMINGS", "1")
    code, out, err = run_cli("check", FIXTURES / "mixed-site.yaml", "sapapp01", "vsp-e2")
    assert code == 1 and out.startswith("BLOCKED")
    names = _timings(err)
    assert names == ["options", "configuration", "packs.parse", "packs.check", "packs.compile", "packs",
                     "snapshot", "waivers", "baseline", "evaluation", "report", "outputs"], err
    assert all(TIMING.match(line) for line in err.splitlines() if line.startswith("migcheck: timing:"))


def test_a_command_that_stops_early_times_what_it_ran(run_cli, monkeypatch):
    monkeypatch.setenv("MIGCHECK_TIMINGS", "1")
    code, _, err = run_cli("rules")
    assert code == 0
    assert _timings(err)[-1] == "packs"  # `rules` runs the stages up to the packs


def test_no_timings_unless_asked(run_cli, monkeypatch):
    monkeypatch.delenv("MIGCHECK_TIMINGS", raising=False)
    plain = run_cli("check", FIXTURES / "mixed-site.yaml", "sapapp01", "vsp-e2")
    monkeypatch.setenv("MIGCHECK_TIMINGS", "0")
    zero = run_cli("check", FIXTURES / "mixed-site.yaml", "sapapp01", "vsp-e2")
    monkeypatch.setenv("MIGCHECK_TIMINGS", "1")
    timed = run_cli("check", FIXTURES / "mixed-site.yaml", "sapapp01", "vsp-e2")
    assert "timing" not in plain[2] and plain == zero
    assert timed[:2] == plain[:2] and timed[2].startswith(plain[2])
