"""The one "did you mean" of every message that names something unknown."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: object, known: Iterable, otherwise: str = "") -> str:
    """"did you mean `x`?" for the closest of `known` to `name`, or `otherwise` when none is close."""
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
    return f"did you mean `{close[0]}`?" if close else otherwise
