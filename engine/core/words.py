"""The one "did you mean" of every message that names something unknown."""

from __future__ import annotations

from collections.abc import Iterable


def did_you_mean(name: object, known: Iterable, otherwise: str = "") -> str:
    """"did you mean `x`?" for the closest of `known` to `name`, ignoring case, or `otherwise` when none is close.

    A name that differs only in case (`SAPAPP01`, `dio-no-match`) gets its one match.
    """
    names = [str(k) for k in known]
    wanted = str(name).casefold()
    by_fold: dict[str, str] = {}
    for k in names:
        by_fold.setdefault(k.casefold(), k)
    if wanted in by_fold:
        return f"did you mean `{by_fold[wanted]}`?"
    import difflib  # only for a name that is not found (cold start)

    close = difflib.get_close_matches(wanted, list(by_fold), n=1)
    return f"did you mean `{by_fold[close[0]]}`?" if close else otherwise
