"""CSV sent to a terminal shows control and bidirectional characters as escapes; a file keeps them.

Every other format escapes them (SARIF, JUnit, JSON); a CSV read on a terminal (`migcheck matrix
--format csv` without a file) wrote ESC, BEL and U+202E raw: a guest name could recolour, retitle
or reorder what the terminal shows.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from bench.generate import generate
from migcheck.core.results import Cell, Result
from migcheck.report.common import CellFindings
from migcheck.report.csv_report import CsvCellsWriter, CsvWriter

HOSTILE = "evil\x1b]0;pwned\x07\u202etxt.exe\x9b\u2066"
RAW = ("\x1b", "\x07", "\u202e", "\x9b", "\u2066")


class Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def _result() -> Result:
    return Result("RULE-1", "error", "fail", {"guest": HOSTILE, "source": "vsp\u200f1", "target": "=vsp2\x1b",
                                              "mode": "offline"},
                  f"guest {HOSTILE} has a\r\nsecond line", fix="run `x`\rover", cite="c\u061c")


def _written(tty: bool) -> str:
    out = Stream(tty)
    writer = CsvWriter(None, out)
    writer.feed([], [_result()], {})
    writer.finish(None)
    return out.getvalue()


def test_csv_to_a_terminal_escapes_controls_and_bidi():
    text = _written(True)
    assert not any(ch in text for ch in RAW + ("\u200f", "\u061c"))
    assert "evil\\x1b]0;pwned\\x07\\u202etxt.exe\\x9b\\u2066" in text
    assert "'=vsp2\\x1b" in text  # still neutralised as a formula
    assert "run `x`\\x0dover" in text  # a carriage return alone would overwrite the line
    assert "has a\r\nsecond line" in text  # a line end inside the quoted field is the field's own
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2 and len(rows[1]) == len(rows[0])


def test_csv_to_a_file_keeps_the_exact_text():
    text = _written(False)
    reference = io.StringIO()
    writer = csv.writer(reference, lineterminator="\r\n")
    rows = list(csv.reader(io.StringIO(text)))
    writer.writerows(rows)
    assert text == reference.getvalue()
    assert rows[1][4] == HOSTILE and rows[1][7] == "'=vsp2\x1b"


def test_csv_cells_to_a_terminal_escape_too():
    cell = Cell(HOSTILE, "vsp1", "vsp2", "offline", "ready", [])
    out = Stream(True)
    CsvCellsWriter(None, out).feed([cell], [], {(HOSTILE, "vsp2"): CellFindings()})
    assert not any(ch in out.getvalue() for ch in RAW)
    assert "evil\\x1b" in out.getvalue()


def _estate(tmp_path) -> str:
    data = generate(3, 6, 1)
    data["guests"][0]["name"] = HOSTILE
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_the_command_escapes_csv_on_a_terminal_and_not_in_a_pipe(tmp_path):
    snapshot = _estate(tmp_path)
    command = [sys.executable, "-m", "migcheck", "matrix", snapshot, "--format", "csv", "--quiet"]
    piped = subprocess.run(command, capture_output=True, check=False).stdout.decode()
    assert HOSTILE in piped
    shown = _on_a_terminal(command)
    assert "evil\\x1b]0;pwned\\x07\\u202etxt.exe" in shown
    assert not any(ch in shown for ch in RAW)


def test_check_s_csv_on_a_terminal_escapes_too(tmp_path):
    """`check`, `audit` and `plan` render their CSV whole (not streamed): escaped on a terminal all the same."""
    snapshot = _estate(tmp_path)
    target = next(h["name"] for h in json.loads(Path(snapshot).read_text())["hosts"]
                  if h["name"] != json.loads(Path(snapshot).read_text())["guests"][0]["host"])
    for fmt in ("csv", "csv-cells"):
        command = [sys.executable, "-m", "migcheck", "check", snapshot, HOSTILE, target, "--format", fmt, "--quiet"]
        piped = subprocess.run(command, capture_output=True, check=False).stdout.decode()
        assert HOSTILE in piped  # a pipe keeps the exact text
        shown = _on_a_terminal(command)
        assert "evil\\x1b]0;pwned\\x07\\u202etxt.exe" in shown and "\r\n" in shown, (fmt, shown[:300])
        assert not any(ch in shown for ch in RAW), fmt


def _on_a_terminal(command: list) -> str:
    """What `command` writes to a terminal (a pty) as its standard output."""
    master, slave = pty.openpty()
    try:
        child = subprocess.Popen(command, stdout=slave, stderr=subprocess.DEVNULL)
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        child.wait(timeout=120)
    finally:
        os.close(master)
    return b"".join(chunks).decode()
