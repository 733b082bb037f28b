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


def _in_generation(obj, generation: int) -> bool:
    return any(o is obj for o in gc.get_objects(generation))


def test_what_a_paused_stretch_keeps_is_not_scanned_by_the_young_collections():
    """`collector_paused(kept=True)`: what was made is out of the young generations when the collector
    resumes (oldest generation, nothing frozen left behind), and a garbage cycle among it is still found by a
    full collection; without `kept`, it is young."""
    from migcheck.core.perf import collector_paused

    with collector_paused():
        young = [[i] for i in range(3)]
    assert _in_generation(young, 0) or _in_generation(young, 1)
    with collector_paused(kept=True):
        kept = [[i] for i in range(3)]
        cycle = [[]]
        cycle[0].append(cycle)
    assert gc.isenabled() and gc.get_freeze_count() == 0 and gc.get_count()[0] < 10
    assert not _in_generation(kept, 0) and any(o is kept for o in gc.get_objects())  # tracked, not young
    import weakref

    class Node:
        pass

    with collector_paused(kept=True):
        a, b = Node(), Node()
        a.other, b.other = b, a
        gone = weakref.ref(a)
    del a, b
    assert gone() is not None  # a cycle: refcounts alone do not free it
    gc.collect()
    assert gone() is None


def test_a_paused_stretch_inside_a_frozen_one_leaves_the_freeze_to_its_owner():
    from migcheck.core.perf import collector_paused

    gc.freeze()
    before = gc.get_freeze_count()
    with collector_paused(kept=True):
        made = [[1], [2]]
    assert gc.get_freeze_count() >= before + 3  # the list and its two
    assert not any(_in_generation(made, g) for g in (0, 1, 2))  # frozen with the rest
    gc.unfreeze()  # (the owner, at its end: the autouse fixture checks none is left)
    assert gc.get_freeze_count() == 0 and not _in_generation(made, 0) and any(o is made for o in gc.get_objects())


_EXITING = """
import atexit, gc, sys
# registered before the command runs, so run after the hooks it registers (last in, first out)
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count(), file=sys.stderr))
from migcheck.cli import main
code = main(sys.argv[1:])
print("frozen after main:", gc.get_freeze_count(), file=sys.stderr)
sys.exit(code)
"""


def test_a_process_that_ran_a_command_exits_with_what_is_left_frozen(tmp_path):
    """The interpreter's last collections at exit would scan all that the command left alive to free nothing the
    exit does not: once a command has run, an `atexit` hook freezes it; `main` itself leaves nothing frozen, and
    the run's output and exit code are as ever."""
    import subprocess

    out = tmp_path / "check.json"
    done = subprocess.run([sys.executable, "-c", _EXITING, "check", MIXED, "sapapp01", "vsp-e2", "-f", "json",
                           "-o", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 1, done.stderr  # blocked, as in-process
    assert "frozen after main: 0\n" in done.stderr
    frozen = int(done.stderr.split("frozen at exit: ")[1].split()[0])
    assert frozen > 10_000, done.stderr  # the modules, the packs, the snapshot: all of it
    assert '"verdict": "blocked"' in out.read_text()
