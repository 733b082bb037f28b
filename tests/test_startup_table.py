"""Cold start (issue 23, item 4): the table report lays out its plain-text tables itself, as tabulate's
"simple" format does, and leaves any other table to tabulate: the two agree byte for byte."""

from __future__ import annotations

import random

import pytest
from tabulate import tabulate

from migcheck.report import table

WORDS = ["", " ", "a", "guest", "sapapp01", "HPVM-GUEST-MEM", "error", "warning", "n/a", "1", "12", "1.5", "-3",
         "1,000", ".5", "1e3", "nan", "inf", "True", "False", "a b", " padded ", "x\ny", "two\n\nlines", "\nlead",
         "trail\n", "  \n  ", "v1.2", "3 guests", "=", "ok", "X", "?", "guest \\ target", "\x1b[31mFAIL\x1b[0m",
         "caf\u00e9", "\u5bb9\u5668", "tab\there", "cr\rlf", "\x01", "a" * 40, "word " * 12]


def _table(rng: random.Random) -> tuple[list, list]:
    cols = rng.randint(1, 5)
    pick = WORDS[:rng.choice([8, 20, 34, len(WORDS)])]
    headers = [rng.choice(pick) or "h" for _ in range(cols)]
    rows = [[rng.choice(pick) for _ in range(cols)] for _ in range(rng.randint(0, 6))]
    if rng.random() < 0.1 and rows:
        rows[0] = rows[0][:-1] or [""]
    if rng.random() < 0.05 and rows:
        rows[-1][0] = 7
    return rows, headers


@pytest.mark.parametrize("seed", range(40))
def test_the_table_s_layout_is_tabulate_s(seed):
    rng = random.Random(seed)
    for _ in range(100):
        rows, headers = _table(rng)
        assert table._simple(rows, headers) == tabulate(rows, headers=headers, tablefmt="simple"), (rows, headers)


@pytest.mark.parametrize("rows, headers", [
    ([["a", ""], ["", ""]], ["x", "y"]),  # a row of empty cells is a blank line...
    ([["a\nb", ""], ["", ""]], ["x", "y"]),  # ...and no line at all in a table of several-line cells
    ([["", ""]], ["x", "y\nz"]),
    ([["1", "a"], ["2", "b"]], ["n", "s"]),  # numbers: tabulate's
    ([["True", "a"]], ["b", "s"]),
    ([["  spaced  ", "x"]], [" h ", "k"]),
])
def test_edges_agree(rows, headers):
    assert table._simple(rows, headers) == tabulate(rows, headers=headers, tablefmt="simple")


def test_plain_text_tables_are_laid_out_here():
    assert table._plain_table([["sapapp01", "FAIL", "a message\non two lines"]], ["guest", "status", "message"])
    assert not table._plain_table([["sapapp01", "12"]], ["guest", "count"])  # a column of numbers
    assert not table._plain_table([["\x1b[31mFAIL\x1b[0m"]], ["status"])  # colour
    assert not table._plain_table([], ["guest"])
