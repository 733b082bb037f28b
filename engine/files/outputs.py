"""Report outputs: checked before any work, then written without destroying anything.

`check_outputs(targets, inputs)` says (before the run reads or evaluates anything) why the
requested outputs cannot be written: two reports to one file (or both to standard output),
or a report onto one of the run's inputs. `write_output(path, text)` writes one report:
a regular file (or a new one) is replaced atomically (a temporary file beside it, flushed,
renamed over it; a symbolic link is followed, so the link stays and its target gets the
report); a device, a FIFO, `-` or `/dev/stdout` is written directly, never replaced by a regular file.
The temporary file is removed when the write fails or the process is interrupted (SIGINT,
SIGTERM, SIGHUP). Failures raise `OutputError` with a message in words.
"""

from __future__ import annotations

import codecs
import errno
import io
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STDOUT = "-"


class OutputError(Exception):
    """A report cannot be written; the message says which and why."""


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EISDIR:
        return "it is a directory"
    if exc.errno == errno.ENOTDIR:
        return "a part of the path is not a directory"
    if exc.errno == errno.ELOOP:
        return "a symbolic link loop"
    if exc.errno == errno.EROFS:
        return "the file system is read-only"
    return (exc.strerror or type(exc).__name__).lower()


# -- before the run ------------------------------------------------------------------------
def real_path(path) -> str:
    """`os.path.realpath`, or the absolute path where a link on the way cannot be read (another user's
    `/proc/PID/cwd`): the path is refused later by what opens it, said in words, never a traceback here."""
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return os.path.abspath(path)


def identity(path: str | None) -> tuple:
    """What a path writes to: the same tuple for two spellings of one file (a link, a hard link, `..`)."""
    if _is_stdout(path):
        return ("stdout",)
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return ("path", real_path(path))
    if _is_fd1(info):
        return ("stdout",)
    return ("file", info.st_dev, info.st_ino, stat.S_ISCHR(info.st_mode))


def _is_fd1(info) -> bool:
    """Whether `info` is what file descriptor 1 writes to (another spelling of standard output: `/dev/./stdout`,
    `/dev/fd/../fd/1`, or the file the shell redirected it to): written as standard output, never replaced."""
    try:
        out = os.fstat(1)
    except OSError:
        return False
    return (out.st_dev, out.st_ino) == (info.st_dev, info.st_ino)


_STDOUT_NAMES = {STDOUT, "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"}


def _is_stdout(path: str | None) -> bool:
    """`-` and the names of file descriptor 1 are standard output, written as it is (never replaced)."""
    return path is None or str(path) in _STDOUT_NAMES


def inside(path: str, folder: str) -> bool:
    """Whether `path` (followed through links, as a write would) lies in `folder` or below it."""
    real, base = real_path(path), real_path(folder)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def pack_inputs(dirs: list[str | os.PathLike]) -> dict[str, str]:
    """The files of rule packs a run reads: rule files, data tables, rule tests."""
    found = {}
    for d in dirs:
        base = Path(d)
        for pattern, role in (("*.rules", "a rule file"), ("data/*.yaml", "a data table"),
                              ("tests/*.yaml", "a rule test")):
            try:
                for file in base.glob(pattern):
                    found[str(file)] = role
            except OSError:
                continue
    return found


def check_outputs(targets: list[tuple[str, str | None]], inputs: dict[str, str]) -> str | None:
    """Why the (format, path) outputs cannot be written, or None; `inputs` maps input paths to their role.
    A target is a report (`json`, `FILE`) or another file the command writes (`plan file`, `FILE`): the one
    check of every output option of every command, before any work."""
    def shown(fmt, path):
        if " " in fmt or fmt == "snapshot":  # not a report format: the proposed plan, the estate after
            return f"the {fmt} `{path}`"
        return f"the report `{fmt}` to standard output" if path in (None, STDOUT) else f"the report `{fmt}:{path}`"

    read = {}
    for path, role in inputs.items():
        if path:
            ident = identity(str(path))
            if ident[0] != "stdout":
                read.setdefault(ident, (str(path), role))
    seen: dict[tuple, tuple[str, str | None]] = {}
    for fmt, path in targets:
        ident = identity(path)
        if ident in read:
            where, role = read[ident]
            return (f"{shown(fmt, path)} would overwrite `{where}`, {role} this run reads; "
                    "write it to another file")
        if ident[0] == "file" and ident[3]:
            continue  # a character device (/dev/null, a terminal): writing twice destroys nothing
        if ident in seen:
            other = seen[ident]
            if ident == ("stdout",):
                return (f"two reports would go to standard output ({shown(*other)} and {shown(fmt, path)}); "
                        "give all but one a file: `--format FMT:FILE`")
            kind = "reports" if not any(" " in f or f == "snapshot" for f in (fmt, other[0])) else "outputs"
            return (f"two {kind} would be written to one file: {shown(*other)} and {shown(fmt, path)}; "
                    "give each its own file")
        seen[ident] = (fmt, path)
    return None


# -- writing ---------------------------------------------------------------------------------
def write_output(path: str | None, text: str) -> None:
    """Write one report to `path` (`-` or None: standard output); raise `OutputError` in words."""
    if identity(path) == ("stdout",):
        write_stdout(text)
        return
    try:
        info = os.stat(path)  # through symbolic links
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputError(f"cannot write `{path}`: {_reason(exc)}") from None
    try:
        if info is not None and stat.S_ISDIR(info.st_mode):
            raise OutputError(f"cannot write `{path}`: it is a directory")
        if info is not None and not stat.S_ISREG(info.st_mode):
            _write_direct(path, text)  # a device, a FIFO, /dev/stdout: replacing it would destroy it
        else:
            write_atomic(real_path(path), text)  # a symbolic link keeps pointing at the report
    except OSError as exc:
        raise OutputError(f"cannot write `{path}`: {_reason(exc)}") from None


def _write_direct(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(text)


def write_stdout(text: str) -> None:
    """Write to standard output; a full disk or a closed stream is an `OutputError`, never a traceback."""
    stream = sys.stdout
    if stream is None:
        raise OutputError("standard output is closed; write the report to a file with `--output FILE`")
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        silence_stdout()
        raise
    except (OSError, ValueError) as exc:
        silence_stdout()
        reason = _reason(exc) if isinstance(exc, OSError) else "it is closed"
        raise OutputError(f"cannot write the report to standard output: {reason}") from None


def flush_stdout() -> None:
    """Flush standard output now, so that a failure is reported here and not at the interpreter's exit."""
    if sys.stdout is not None:
        sys.stdout.flush()


_STREAM_ERRORS = {errno.ENOSPC, errno.EIO, errno.EBADF, errno.EFBIG, errno.EROFS, getattr(errno, "EDQUOT", errno.ENOSPC)}


def stdout_problem(exc: OSError) -> str | None:
    """The words for a failed write to standard output (full disk, closed stream), or None if it is not one."""
    if isinstance(exc, BrokenPipeError) or exc.errno not in _STREAM_ERRORS:
        return None
    silence_stdout()
    return f"cannot write to standard output: {_reason(exc)}"


def silence_stdout() -> None:
    """Point standard output at the null device, so that the exit's final flush cannot fail again."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)
    except OSError:
        pass


class _Interrupted(BaseException):
    def __init__(self, signum: int):
        self.signum = signum


@contextmanager
def _interruptible():
    """While a temporary file exists, SIGTERM and SIGHUP unwind (so it is removed) instead of killing."""
    import signal  # signal, tempfile and threading only when a file is written (cold start)
    import threading

    installed = {}
    if threading.current_thread() is threading.main_thread():
        def handler(signum, frame):
            raise _Interrupted(signum)
        for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
            if sig is None:
                continue
            try:
                if signal.getsignal(sig) == signal.SIG_DFL:
                    installed[sig] = signal.signal(sig, handler)
            except (ValueError, OSError):  # pragma: no cover - platform without the signal
                pass
    try:
        yield
    finally:
        for sig, previous in installed.items():
            signal.signal(sig, previous)


def write_atomic(path: str | os.PathLike, text: str) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename it over `path`."""
    with _atomic_stream(os.fspath(path)) as out:
        out.write(text)


# -- writing a report that streams -------------------------------------------------------------
_sendfile = getattr(os, "sendfile", None)


def spool_text(spool, start: int = 0) -> Iterator[str]:
    """A binary spool of UTF-8 text, from byte `start` (its start, or where an earlier copy ended), as text in
    pieces of about 1 MB."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    spool.seek(start)
    for piece in iter(lambda: spool.read(1 << 20), b""):
        yield decoder.decode(piece)
    yield decoder.decode(b"", final=True)


def spool_writer(spool):
    """A text stream that writes UTF-8 into the binary spool `spool` (a share written by a helper
    process); `release` it when done: the spool stays open for the process that copies it."""
    return io.TextIOWrapper(spool, encoding="utf-8", newline="", write_through=True)


def release(stream) -> None:
    """Flush a `spool_writer` and let go of its spool without closing it."""
    stream.flush()
    stream.detach()


def copy_spool(out, spool, start: int = 0) -> None:
    """A binary spool of UTF-8 text appended to `out`, from byte `start` on: an output of `open_output` (by
    the kernel where it can), or any text stream."""
    if isinstance(out, _Named):
        out.write_spool(spool, start)
        return
    for piece in spool_text(spool, start):
        out.write(piece)


def utf8_buffer(stream):
    """The binary buffer under the text stream `stream` when the UTF-8 bytes of a text are what it writes of
    the text (it encodes UTF-8, strictly, and no line end is translated: not on Windows), else None."""
    buffer = getattr(stream, "buffer", None)
    encoding = getattr(stream, "encoding", None)
    if buffer is None or type(encoding) is not str or os.linesep != "\n":
        return None
    try:
        return buffer if codecs.lookup(encoding).name == "utf-8" and stream.errors == "strict" else None
    except (LookupError, AttributeError):
        return None


def write_bytes(out, data: bytes) -> None:
    """UTF-8 text as bytes appended to the text stream `out` (an output of `open_output`, a `spool_writer`, any
    text stream): to its binary buffer as they are where it has one that takes them (`utf8_buffer`), else as
    text. A streamed matrix's results are made as bytes, so that gigabytes of text are not encoded again."""
    if not data:
        return
    if isinstance(out, _Named):
        out.write_bytes(data)
        return
    buffer = utf8_buffer(out)
    if buffer is None:
        out.write(data.decode("utf-8"))
        return
    out.flush()
    buffer.write(data)


def spool_size(spool) -> int:
    """The bytes in a spool so far (another process may be writing it)."""
    return os.fstat(spool.fileno()).st_size


def take_early(out, spool, start: int, before: str = "") -> int:
    """What another process has written to `spool` so far, appended to the report file `out` from byte `start`
    (`can_take_early`), `before` ahead of its first byte; where the copy ended, for the next."""
    end = spool_size(spool)
    if end > start:
        if start == 0 and before:
            out.write(before)
        out.write_spool(spool, start, end)
    return end


def can_take_early(out) -> bool:
    """Whether `out` can take a spool's bytes while another process still writes it (`copy_spool` with
    `end`), and give them back if that process fails (`mark`, `rewind`): a report file of `open_output` that
    takes UTF-8 bytes as they are."""
    return isinstance(out, _Named) and out.rewindable and out.binary is not None


_fadvise = getattr(os, "posix_fadvise", None)
WRITEBACK = 64 << 20  # a file written this much further is sent to the disk (`_Named.write`)


class _Named:
    """A report's text stream whose failures say which report: `OutputError` naming `path`.

    `writeback`: a temporary file renamed over the report (`_atomic_stream`, flushed to disk at the end), which
    can be cut back (`mark`, `rewind`):
    every `WRITEBACK` characters or so, what is written is sent to the disk while the report goes on, so the
    flush at the end waits for the last piece only, and a report of gigabytes never holds them all in memory
    (where the kernel would slow every writer down to the disk's pace, and the page cache would grow by the
    report's size). `posix_fadvise(DONTNEED)` starts writing the pages not yet written and lets go of those
    already on the disk, never of one still being written: each advice covers the file from its start, so
    that the pages an earlier advice found still being written are let go of by a later one. Advising the new
    piece alone held the whole report in memory (3 GB at 200 x 10,000: every page was still being written
    when advised once) and cost the process twice the kernel time (`bench/README.md`)."""

    def __init__(self, stream, path: str | None, writeback: bool = False):
        self.stream, self.path = stream, path
        self.binary = utf8_buffer(stream)  # where `write_bytes` writes, or None: as text
        self.rewindable = writeback  # a file of its own: `mark` and `rewind` serve
        self.pending = WRITEBACK if writeback and _fadvise is not None else -1  # < 0: never

    def write(self, text: str) -> int:
        return self._put(self.stream.write, text)

    def write_bytes(self, data: bytes) -> None:
        """UTF-8 text as bytes (`write_bytes`), to the file as they are, never decoded and encoded again."""
        if self.binary is None:
            self.write(data.decode("utf-8"))
        else:
            self._put(self.binary.write, data, flush=True)  # (flushed: the text written before it first)

    def _put(self, write, data, flush: bool = False) -> int:
        """`write(data)` (the text stream's or its binary buffer's), counted for `_written`; a failure named."""
        try:
            if flush:
                self.stream.flush()
            n = write(data)
            if self.pending >= 0:
                self._written(n)
            return n
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise self._failed(exc) from None

    def _written(self, n: int) -> None:
        """`n` more characters or bytes written: every `WRITEBACK` of them, `_writeback`."""
        self.pending -= n
        if self.pending < 0:
            self._writeback()

    def _writeback(self) -> None:
        """Send what is written so far to the disk, without waiting for it, and let go of what is on it."""
        self.stream.flush()
        fd = self.stream.fileno()
        end = os.lseek(fd, 0, os.SEEK_CUR)
        try:
            _fadvise(fd, 0, end, os.POSIX_FADV_DONTNEED)
        except OSError:  # advice only: the file is flushed at the end all the same
            self.pending = -1
            return
        self.pending = WRITEBACK

    def mark(self) -> int:
        """Where the report's file ends now (`rewind`)."""
        self.stream.flush()
        return os.lseek(self.stream.fileno(), 0, os.SEEK_CUR)

    def rewind(self, mark: int) -> None:
        """Cut the report's file back to `mark`: what was appended since is let go of (a helper's share taken as
        it was written, when the helper then fails)."""
        try:
            self.stream.flush()
            fd = self.stream.fileno()
            os.ftruncate(fd, mark)
            os.lseek(fd, mark, os.SEEK_SET)
        except OSError as exc:
            raise self._failed(exc) from None

    def write_spool(self, spool, start: int = 0, end: int | None = None) -> None:
        """`spool` (a binary file of UTF-8 text, written by the report) appended from byte `start` to `end`
        (None: its end): by the kernel (`sendfile`) where it can, else in 1 MB pieces, never decoded and
        encoded again. A piece that ends inside a character is followed by its rest: bytes are copied.
        The spool's offset is never moved (nor the spool flushed) while another process may still be writing
        it (`end` given: `take_early`)."""
        if end is None:
            spool.flush()
        size = spool_size(spool) if end is None else end
        try:
            self.stream.flush()
            out = self.stream.fileno() if self.binary is not None else None
        except (AttributeError, ValueError, OSError):  # not a file (a test's StringIO)
            out = None
        if out is None:  # as text: or a stream that writes another encoding than UTF-8 would take UTF-8 bytes
            for piece in spool_text(spool, start):
                self.write(piece)
            return
        try:
            offset = start
            kernel = _sendfile is not None
            while offset < size:
                piece = min(size - offset, WRITEBACK if self.pending >= 0 else 1 << 30)
                sent = 0
                if kernel:
                    try:
                        sent = _sendfile(out, spool.fileno(), offset, piece)
                    except OSError as exc:
                        if exc.errno not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSOCK):
                            raise  # (ENOTSOCK: macOS sends files to sockets only)
                        kernel = False  # not between these files: read and written from here on
                if not kernel:
                    sent = os.write(out, os.pread(spool.fileno(), min(piece, 1 << 20), offset))
                if sent == 0:
                    raise OSError(errno.EIO, "the copy stopped short")
                offset += sent
                if self.pending >= 0:
                    self._written(sent)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise self._failed(exc) from None

    def _failed(self, exc: OSError) -> OutputError:
        where = "the report to standard output" if _is_stdout(self.path) else f"`{self.path}`"
        if _is_stdout(self.path):
            silence_stdout()
        return OutputError(f"cannot write {where}: {_reason(exc)}")


@contextmanager
def open_output(path: str | None):
    """The text stream of one report written piece by piece (a matrix that streams), by the rules
    of `write_output`: standard output as it is; a device or a FIFO directly; a regular file (or
    a new one, or a symbolic link's target) through a temporary file beside it, flushed and
    renamed over it when the block ends, removed when the block raises or the process is
    interrupted. Failures raise `OutputError` naming the report."""
    if identity(path) == ("stdout",):
        if sys.stdout is None:
            raise OutputError("standard output is closed; write the report to a file with `--output FILE`")
        yield _Named(sys.stdout, path)
        return
    try:
        info = os.stat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputError(f"cannot write `{path}`: {_reason(exc)}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise OutputError(f"cannot write `{path}`: it is a directory")
    try:
        if info is not None and not stat.S_ISREG(info.st_mode):
            out = open(path, "w", encoding="utf-8", newline="")  # a device, a FIFO: never replaced
        else:
            out = None
    except OSError as exc:
        raise OutputError(f"cannot write `{path}`: {_reason(exc)}") from None
    if out is not None:
        try:
            yield _Named(out, path)
            try:
                out.flush()  # what is still buffered: a full device says so here
            except OSError as exc:
                raise OutputError(f"cannot write `{path}`: {_reason(exc)}") from None
        finally:
            try:
                out.close()
            except OSError:
                pass
        return
    try:
        with _atomic_stream(real_path(path)) as out:
            yield _Named(out, path, writeback=True)
    except OSError as exc:  # creating, flushing or renaming the temporary file
        raise OutputError(f"cannot write `{path}`: {_reason(exc)}") from None


@contextmanager
def _atomic_stream(path: str):
    """The stream of a temporary file beside `path`, flushed to disk and renamed over `path` at the end;
    removed when writing fails or a signal interrupts it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    umask = os.umask(0)
    os.umask(umask)
    tmp = None
    import tempfile

    try:
        with _interruptible():
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            os.fchmod(fd, 0o666 & ~umask)  # as an ordinary write would create it, not mkstemp's 0600
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                yield out
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
            tmp = None
    except _Interrupted as stop:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        os.kill(os.getpid(), stop.signum)  # the default action again, now that nothing is left behind
        raise SystemExit(128 + stop.signum) from None  # pragma: no cover - the signal ends the process
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise
