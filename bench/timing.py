"""How the in-process benchmarks time their contenders: CPU seconds of this process, runs
interleaved (one run of each contender in turn, `repeat` rounds), the fastest run of each kept.

On a machine shared by several people the wall clock measures the others' work too; CPU time
of this process does not, and interleaving spreads what remains (caches, frequency) over every
contender alike. The cycle collector is paused around each run, for every contender alike, as
migcheck pauses it while it builds results.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

from migcheck.core.perf import collector_paused


def interleaved(contenders: dict[str, Callable[[], object]], repeat: int) -> tuple[dict, dict[str, float]]:
    """Each contender's value (of its last run) and its fastest CPU seconds over `repeat` interleaved rounds."""
    values: dict = {}
    best: dict[str, float] = {}
    for _ in range(max(1, repeat)):
        for name, fn in contenders.items():
            values.pop(name, None)  # the last run's value freed before the next run is timed
            gc.collect()
            with collector_paused():
                start = time.process_time()
                value = fn()
                took = time.process_time() - start
            values[name] = value
            best[name] = min(best.get(name, took), took)
    return values, best


def ratio(a: float, b: float) -> str:
    """`a / b` as the benchmarks print it ('-' when `b` is nothing measurable)."""
    return f"{a / b:.2f}x" if b > 0 else "-"
