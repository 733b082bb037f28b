"""Running one parsed command: its handler called, its problems mapped to exit codes.

`cli` parses the arguments (importing none of the engine, so `--version`, `--help` and a usage
error stay fast) and hands the namespace and the command's handler here. A problem with the
invocation or an input exits 2 with every problem on stderr; when `sarif` or `junit` was asked
for with a FILE, that file is written as a failure document too (`failures`, loaded only then:
a run that succeeds imports no SARIF or JUnit writer), so a CI upload step finds it and shows the
real error instead of "file not found".
"""

from __future__ import annotations

import sys
from importlib import import_module

from ..core.diagnostics import LoadError, Problem, UsageError, render_all
from ..core.perf import TIMINGS, timings_wanted
from ..core.verdicts import EXIT_BAD_INPUT, EXIT_OK
from ..files.outputs import flush_stdout, silence_stdout, stdout_problem
from ..lang.diagnostics import RuleError
from .messages import with_file_suggestions

FAILURES = f"{__package__}.failures"  # the failure documents (SARIF, JUnit): imported when a run fails


def run_command(args, handler) -> int:
    """The command's exit code; with `MIGCHECK_TIMINGS=1` each stage's time on stderr at the end."""
    TIMINGS.reset()
    try:
        return _run(args, handler)
    finally:
        if timings_wanted() and TIMINGS.stages:
            sys.stderr.write(TIMINGS.render())


def _run(args, handler) -> int:
    try:
        code = handler(args)
        flush_stdout()  # a full disk is reported here, not as a traceback at exit
        return code
    except LoadError as exc:
        exc.problems = with_file_suggestions(exc.problems)
        print(render_all(exc.problems), file=sys.stderr)
        print(f"migcheck: {len(exc.problems)} problem(s)", file=sys.stderr)
        return _failed(args, exc.problems)
    except RuleError as exc:
        print(exc.render(), file=sys.stderr)
        print(f"migcheck: {len(exc.errors)} problem(s) in rule packs", file=sys.stderr)
        return _failed(args, list(exc.errors))
    except UsageError as exc:
        print(f"migcheck: {exc}", file=sys.stderr)
        return _failed(args, [Problem("", 1, 1, str(exc))])  # no file: the command line
    except BrokenPipeError:  # e.g. `migcheck matrix ... | head`
        silence_stdout()
        return EXIT_OK
    except KeyboardInterrupt:  # Ctrl-C: a half-written report has already been removed
        print("migcheck: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # every file is read through the reader: what is left is standard output
        message = stdout_problem(exc)
        if message is None:
            raise
        print(f"migcheck: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _failed(args, problems: list) -> int:
    import_module(FAILURES).write_failure_documents(args, problems)
    return EXIT_BAD_INPUT
