"""Questions of the estate: `where`, `matrix --guest/--target` and `matrix --summary`."""

from __future__ import annotations

import json
from pathlib import Path

from migcheck.eval.engine import Engine
from migcheck.packs.ruleset import load_rules
from migcheck.estate.snapshot import load_snapshot

ROOT = Path(__file__).resolve().parent.parent
MIXED = ROOT / "fixtures" / "mixed-site.yaml"


def _matrix_json(run_cli, *extra):
    code, out, err = run_cli("matrix", MIXED, "--format", "json", *extra)
    assert code in (0, 1), err
    return json.loads(out)


def test_where_ranks_ready_targets_first_with_blocking_rules(run_cli):
    code, out, _ = run_cli("where", MIXED, "sapapp01", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["request"] == {"guest": "sapapp01", "source": "vsp-e1", "mode": "offline"}
    targets = data["targets"]
    assert [t["target"] for t in targets] == ["vsp-e4", "vsp-e3", "vsp-e2"]
    assert [t["verdict"] for t in targets] == ["ready", "blocked", "blocked"]
    assert targets[0]["blocking"] == [] and targets[0]["warnings"] == 1
    assert targets[1]["blocking"] == ["DIO-NO-MATCH"]
    assert targets[2]["blocking"] == ["DIO-NO-MATCH", "VSWITCH-MISSING"]
    assert data["summary"] == {"ready": 1, "unknown": 0, "blocked": 2}
    # the same verdicts as the matrix's cells for that guest
    cells = {c["target"]: c for c in _matrix_json(run_cli)["cells"] if c["guest"] == "sapapp01"}
    assert {t["target"]: t["verdict"] for t in targets} == {k: c["verdict"] for k, c in cells.items()}
    assert all(set(t["blocking"]) <= set(cells[t["target"]]["failing"]) for t in targets)


def test_where_table_and_exit_when_blocked_everywhere(run_cli):
    code, out, _ = run_cli("where", MIXED, "sapapp01")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "sapapp01 (on vsp-e1, offline migration): ready for 1 of 3 VSP(s), blocked on 2, undecided on 0"
    assert lines[3].split()[:2] == ["vsp-e4", "ready"]
    assert lines[5].endswith("DIO-NO-MATCH, VSWITCH-MISSING")
    code, out, _ = run_cli("where", MIXED, "sapapp01", "--target", "vsp-e2", "--target", "vsp-e3")
    assert code == 1 and "ready for 0 of 2 VSP(s)" in out


def test_where_unknown_guest_suggests(run_cli):
    code, _, err = run_cli("where", MIXED, "sapap01")
    assert code == 2 and "unknown guest `sapap01`" in err and "sapapp01" in err


def test_matrix_restricted_by_globs_evaluates_only_those_pairs(run_cli):
    full = _matrix_json(run_cli)
    part = _matrix_json(run_cli, "--guest", "sap*", "--target", "vsp-e[23]")
    want = [c for c in full["cells"] if c["guest"].startswith("sap") and c["target"] in ("vsp-e2", "vsp-e3")]
    assert part["cells"] == want and want
    assert {r["subject"]["guest"] for r in part["results"]} <= {c["guest"] for c in want}
    code, _, err = run_cli("matrix", MIXED, "--target", "nope*")
    assert code == 2 and "no target matches `nope*`" in err


def test_restriction_is_in_the_evaluation():
    snapshot = load_snapshot(str(MIXED))
    engine = Engine(load_rules(), snapshot)
    one = engine.matrix_of("offline", [snapshot.guests[0]], snapshot.hosts[:1])
    list(one.walk(results=False))
    everything = engine.matrix_of("offline")
    list(everything.walk(results=False))
    assert 0 < one.evaluations < everything.evaluations


def test_matrix_summary_counts_cells(run_cli):
    full = _matrix_json(run_cli)
    code, out, _ = run_cli("matrix", MIXED, "--summary", "--format", "json")
    data = json.loads(out)
    assert code == 1  # blocked cells: as the full matrix exits
    assert "results" not in data and "cells" not in data
    for g in data["guests"]:
        mine = [c for c in full["cells"] if c["guest"] == g["guest"]]
        assert g["ready"] == sum(c["verdict"] == "ready" for c in mine)
        assert g["blocked"] == sum(c["verdict"] == "blocked" for c in mine)
    for t in data["targets"]:
        coming = [c for c in full["cells"] if c["target"] == t["target"]]
        assert t["candidates"] == sum(c["verdict"] == "ready" for c in coming)
    assert sum(g["ready"] for g in data["guests"]) == sum(t["candidates"] for t in data["targets"]) > 0
    code, out, _ = run_cli("matrix", MIXED, "--summary")
    assert out.startswith("matrix summary (offline migration): ") and "candidates" in out
    assert run_cli("matrix", MIXED, "--summary", "--fail-on", "never")[0] == 0


def test_matrix_summary_exits_as_the_matrix(run_cli):
    waivers = ROOT / "fixtures" / "waivers.yaml"
    for extra in ([], ["--waivers", str(waivers)], ["--guest", "web*"], ["--target", "vsp-e4"]):
        for fail_on in ("error", "warning", "info", "never"):
            full = run_cli("matrix", MIXED, "--fail-on", fail_on, *extra)[0]
            summary = run_cli("matrix", MIXED, "--summary", "--fail-on", fail_on, *extra)[0]
            assert summary == full, (extra, fail_on)
