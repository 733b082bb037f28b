"""A report written to a file goes to the disk as it is written (`files.outputs._Named`, issue 23): the
kernel is told to write each `WRITEBACK` bytes while the report goes on, so a report of gigabytes is not
all held dirty in memory (where the kernel slows every writer down) and the flush at the end is short.
Each advice covers the file from its start: `DONTNEED` lets go of pages already on the disk only, so the
pages an advice found still being written are let go of by a later one (advised once, a 3 GB report stayed
in the page cache whole)."""

from __future__ import annotations

import os
import tempfile

import pytest

from migcheck.files import outputs

pytestmark = pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="no posix_fadvise on this system")


def _advised(monkeypatch):
    calls = []
    real = os.posix_fadvise

    def advise(fd, offset, length, advice):
        calls.append((offset, length, advice))
        return real(fd, offset, length, advice)

    monkeypatch.setattr(outputs, "_fadvise", advise)
    monkeypatch.setattr(outputs, "WRITEBACK", 1000)
    return calls


def test_a_report_file_is_sent_to_disk_piece_by_piece_and_keeps_its_bytes(tmp_path, monkeypatch):
    calls = _advised(monkeypatch)
    path = tmp_path / "report.json"
    pieces = [f"line {i} é\n" * 40 for i in range(30)]
    with outputs.open_output(str(path)) as out:
        for piece in pieces:
            out.write(piece)
    assert path.read_text(encoding="utf-8") == "".join(pieces)
    assert len(calls) >= 10
    # each range is the file from its start to where the report has got, each further than the last:
    # what an advice found still being written is advised again
    assert all(offset == 0 and advice == os.POSIX_FADV_DONTNEED for offset, _, advice in calls)
    ends = [length for _, length, _ in calls]
    assert ends == sorted(set(ends)) and ends[0] >= 1000
    assert ends[-1] <= len("".join(pieces).encode())


def test_a_spool_appended_by_the_kernel_is_sent_to_disk_too(tmp_path, monkeypatch):
    calls = _advised(monkeypatch)
    path = tmp_path / "report.jsonl"
    body = ("x" * 99 + "\n") * 200
    with tempfile.TemporaryFile("w+b", dir=tmp_path) as spool:
        spool.write(body.encode())
        with outputs.open_output(str(path)) as out:
            out.write("head\n")
            outputs.copy_spool(out, spool)
            out.write("tail\n")
    assert path.read_text() == "head\n" + body + "tail\n"
    # appended a piece of `WRITEBACK` bytes at a time, each advised with all before it, up to past the spool
    assert len(calls) >= 10 and all(offset == 0 for offset, _, _ in calls)
    ends = [length for _, length, _ in calls]
    assert ends == sorted(set(ends)) and ends[-1] >= len("head\n" + body)


def test_standard_output_and_devices_are_never_advised(monkeypatch, capsys):
    calls = _advised(monkeypatch)
    with outputs.open_output(None) as out:
        out.write("y" * 5000)
    with outputs.open_output(os.devnull) as out:
        out.write("z" * 5000)
    assert calls == []
    assert capsys.readouterr().out == "y" * 5000


@pytest.mark.parametrize("kernel", ["none", "refuses"])
def test_a_spool_is_appended_without_sendfile_too(tmp_path, monkeypatch, kernel):
    """Where the kernel cannot send a file to a file (no sendfile; macOS: ENOTSOCK), the spool is read and
    written in pieces, from `start`, and its offset is left where it was (another process may be writing)."""
    import errno

    calls = []

    def refuses(*args):
        calls.append(args)
        raise OSError(errno.ENOTSOCK, "Socket operation on non-socket")
    monkeypatch.setattr(outputs, "_sendfile", None if kernel == "none" else refuses)
    body = "é" * 700_000  # more than a piece of 1 MB, a character across its end
    path = tmp_path / "report.csv"
    with tempfile.TemporaryFile("w+b", dir=tmp_path) as spool:
        spool.write(("skip" + body).encode())
        spool.seek(2)
        with outputs.open_output(str(path)) as out:
            out.write("a")
            outputs.copy_spool(out, spool, start=4)
            out.write("b")
        assert spool.tell() == 2
    assert path.read_text(encoding="utf-8") == "a" + body + "b"
    assert len(calls) == (0 if kernel == "none" else 1)  # refused once, not once per piece
