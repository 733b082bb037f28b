"""A streamed matrix's results are made as UTF-8 bytes and written as they are (`files.outputs.write_bytes`,
issue 23): to the binary buffer of a stream that encodes UTF-8, after any text written before them; to any
other stream (another encoding, no buffer) as text, so what it writes is what the text would have been."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from migcheck.files import outputs

TEXT = "guest é, ü → vsp\n"


def test_bytes_go_to_a_utf8_streams_buffer_after_the_text_before_them():
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", newline="")
    stream.write("before ")  # held by the text layer: written first
    outputs.write_bytes(stream, TEXT.encode())
    stream.write("after")
    stream.flush()
    assert raw.getvalue() == ("before " + TEXT + "after").encode()
    assert outputs.utf8_buffer(stream) is raw


@pytest.mark.parametrize("encoding", ["latin-1", "ascii"])
def test_a_stream_of_another_encoding_gets_text(encoding):
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
    assert outputs.utf8_buffer(stream) is None
    outputs.write_bytes(stream, TEXT.encode())
    stream.flush()
    assert raw.getvalue() == TEXT.encode(encoding, errors="replace")  # not the UTF-8 bytes
    lenient = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="replace")
    assert outputs.utf8_buffer(lenient) is None  # (a stream that replaces what it cannot encode: as text)


def test_a_stream_without_a_buffer_gets_text_and_nothing_is_written_for_no_bytes():
    stream = io.StringIO()
    outputs.write_bytes(stream, TEXT.encode())
    outputs.write_bytes(stream, b"")
    assert stream.getvalue() == TEXT


def test_a_report_file_takes_bytes_and_text_in_order(tmp_path):
    path = tmp_path / "report.txt"
    with outputs.open_output(str(path)) as out:
        out.write("a ")
        out.write_bytes(TEXT.encode())
        out.write("b")
    assert path.read_bytes() == ("a " + TEXT + "b").encode()


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_a_matrix_to_standard_output_in_another_encoding_is_that_encodings_text(tmp_path, fmt):
    """The same report to a file (UTF-8) and to a standard output that encodes latin-1: the same text, each in
    its encoding (the streamed results are not written as UTF-8 bytes to the latin-1 stream)."""
    from bench.generate import generate

    data = generate(3, 6, 1)
    for guest in data["guests"]:
        guest["name"] = "gäst-" + guest["name"]  # (in every result's subject, message and fix)
    estate = tmp_path / "estate.json"
    estate.write_text(json.dumps(data), encoding="utf-8")
    file = tmp_path / f"report.{fmt}"
    base = [sys.executable, "-m", "migcheck", "matrix", str(estate), "-q", "--fail-on", "never", "-f"]
    subprocess.run(base + [f"{fmt}:{file}"], check=True)
    shown = subprocess.run(base + [fmt], capture_output=True, check=True,
                           env={**os.environ, "PYTHONIOENCODING": "latin-1"}).stdout
    expected = file.read_bytes().decode("utf-8")
    assert "gäst" in expected
    if fmt == "json":  # (the time it was generated differs)
        shown_text = shown.decode("latin-1")
        drop = [line for line in expected.splitlines() if '"generated"' in line]
        expected = "\n".join(line for line in expected.splitlines() if line not in drop)
        shown_text = "\n".join(line for line in shown_text.splitlines() if '"generated"' not in line)
        assert shown_text == expected
    else:
        assert shown == expected.encode("latin-1")
