"""Small performance helpers shared by the stages: the cycle collector paused, stage timings."""

from __future__ import annotations

import gc
import os
import time
from contextlib import contextmanager


@contextmanager
def collector_paused():
    """Pause the cycle collector while building many small acyclic objects (a loaded
    snapshot, a matrix's cells): it would scan them again and again for nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# -- stage timings (as OPA's runStage keeps a metric per compiler stage) ----------------------
TIMINGS_ENV = "MIGCHECK_TIMINGS"  # set to 1: each stage's time on stderr when the command ends


class Timings:
    """The wall and CPU seconds each stage of this process's command took, in the order they ran.

    Stages nest (`packs` holds `packs.parse`...): a name with a dot is part of the stage before
    it. The pipeline, the pack loader and the output writers record here; the command line
    prints them when `MIGCHECK_TIMINGS=1`; `bench/` reads them from that output."""

    def __init__(self):
        self.stages: list[tuple[str, float, float]] = []

    def reset(self) -> None:
        self.stages.clear()

    @contextmanager
    def stage(self, name: str):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.stages.append((name, time.perf_counter() - wall, time.process_time() - cpu))

    def render(self) -> str:
        """One line a stage: `migcheck: timing: NAME WALL s wall CPU s cpu`, nested stages indented."""
        return "".join(f"migcheck: timing: {'  ' * name.count('.')}{name:<{24 - 2 * name.count('.')}} "
                       f"{wall:9.4f} s wall {cpu:9.4f} s cpu\n" for name, wall, cpu in self.stages)


TIMINGS = Timings()


def timings_wanted() -> bool:
    return os.environ.get(TIMINGS_ENV, "") not in ("", "0")
