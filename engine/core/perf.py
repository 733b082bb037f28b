"""Small performance helpers shared by the stages: the cycle collector paused, stage timings."""

from __future__ import annotations

import gc
import os
import time
from contextlib import contextmanager


@contextmanager
def collector_paused(kept: bool = False):
    """Pause the cycle collector while building many small acyclic objects (a loaded
    snapshot, a matrix's cells): it would scan them again and again for nothing.

    `kept`: what is made meanwhile is kept for the rest of the run (a matrix's rows for the walk
    that follows, a walk's text classes): as the collector resumes, it is set apart from the young
    generations, so that the collection the resumed collector would run at once, and every young
    one after it, does not scan it all again (half a second at 200 x 10,000; two of `--summary`'s
    ten). Set apart with what a caller froze already (`gc.freeze`: the command line's and the
    pipeline's inputs, let go of when they end); with nothing frozen, moved to the oldest generation
    (`gc.freeze` then `gc.unfreeze`), where a garbage cycle waits for a full collection."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if kept:
            frozen = gc.get_freeze_count()
            gc.freeze()  # (also zeroes the young generation's count)
            if not frozen:
                gc.unfreeze()
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
