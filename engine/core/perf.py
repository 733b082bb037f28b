"""Small performance helpers shared by the stages."""

from __future__ import annotations

import gc
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
