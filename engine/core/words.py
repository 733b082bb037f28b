"""The one "did you mean" of every message that names something unknown."""

from __future__ import annotations

from collections.abc import Iterable


def closest(name: object, known: Iterable) -> str | None:
    """The one of `known` (as text) that `name` most likely meant, ignoring case: the one that differs from it
    only in case (`SAPAPP01`, `dio-no-match`), else the closest by `difflib` (its cutoff, 0.6); None when none
    is close."""
    wanted = str(name).casefold()
    by_fold: dict[str, str] = {}
    for k in known:
        k = str(k)
        by_fold.setdefault(k.casefold(), k)
    if wanted in by_fold:
        return by_fold[wanted]
    import difflib  # only for a name that is not found (cold start)

    close = difflib.get_close_matches(wanted, list(by_fold), n=1)
    return by_fold[close[0]] if close else None


def did_you_mean(name: object, known: Iterable, otherwise: str = "") -> str:
    """"did you mean `x`?" for the closest of `known` to `name` (`closest`), or `otherwise` when none is close."""
    found = closest(name, known)
    return otherwise if found is None else f"did you mean `{found}`?"


def path_text(path) -> str:
    """A path as report text: a file name's bytes that are not UTF-8 (kept as surrogates by the command line) shown
    as U+FFFD, so that every report stays UTF-8 (a JSON or SARIF report of `snap\\xff.yaml` raised)."""
    text = str(path)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        try:
            return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        except UnicodeEncodeError:
            return text.encode("utf-8", "replace").decode("utf-8")
