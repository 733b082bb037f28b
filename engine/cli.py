"""The `migcheck` command: parses arguments, calls the pipeline, maps outcomes to exit codes.

Exit codes: 0 nothing at or above `--fail-on`; 1 findings at or above it (for `check`, the
migration is blocked); 2 bad invocation or bad input, every problem on stderr as
`file:line:col: message`; 3 a rule could not be evaluated and nothing else failed.

Each subcommand is one entry of `COMMANDS`: its name, help, a function adding its
arguments and a handler `args -> exit code`. A command added elsewhere registers itself
with a few lines there.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import os
import sys
from datetime import date
from importlib import import_module

from . import __version__
from .core.vocabulary import MODES, NEVER, OFFLINE, SEVERITIES

FAIL_ON_CHOICES = (*SEVERITIES, NEVER)  # `--fail-on`
# files.reader.DEFAULT_MAX_BYTES, written here so that `--version` and `--help` import none of the
# engine (tests/test_cli_conventions.py keeps the two equal)
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
# the report formats (report.FORMATS, kept equal by a test): listed in help and on an unknown format
REPORT_FORMATS = ("table", "json", "jsonl", "csv", "csv-cells", "markdown", "html", "sarif", "junit", "github",
                  "gitlab")
EXIT_OK, EXIT_BAD_INPUT = 0, 2  # core.verdicts' codes (a test keeps them equal)

__all__ = ["main", "build_parser", "COMMANDS"]


# -- arguments --------------------------------------------------------------------------
def byte_limit(text: str) -> int:
    """`--max-bytes N` (files.reader.byte_limit, imported when the option is given)."""
    return import_module(f"{__package__}.files.reader").byte_limit(text)


def snapshot_arg(p):
    p.add_argument("snapshot", metavar="SNAPSHOT", help="inventory snapshot (YAML or JSON)")
    p.add_argument("--max-bytes", type=byte_limit, default=DEFAULT_MAX_BYTES, metavar="N",
                   help=f"refuse input files larger than N bytes (default {DEFAULT_MAX_BYTES:,})")


def rules_args(p):
    p.add_argument("--rules", action="append", metavar="DIR", help="an extra rule pack (repeatable)")
    p.add_argument("--config", metavar="FILE", help="site configuration (migcheck.yaml)")


def terminal_args(p, headline: bool = True) -> None:
    """`-q`, `-v` and `--color`, on every reporting command."""
    p.add_argument("-q", "--quiet", action="store_true",
                   help="nothing on stderr but problems: " + ("no headline when every report goes to a file, "
                                                              if headline else "") + "no progress")
    p.add_argument("-v", "--verbose", action="store_true", help="also say which configuration file was used")
    p.add_argument("--color", choices=COLOR_CHOICES, default="auto",
                   help="colour the table: auto (default: on a terminal, unless NO_COLOR is set and not empty; "
                   "FORCE_COLOR set and not empty forces it), always or never")


COLOR_CHOICES = ("auto", "always", "never")


def stale_check_arg(p) -> None:
    """`--stale-check`, on every command that reads `--waivers` and reports on them."""
    p.add_argument("--stale-check", action="store_true",
                   help="call an unused waiver stale only when nothing in the snapshot matches it; costly: it also "
                   "evaluates audit and the whole matrix in both modes (on a large estate many times the run "
                   "itself). Default: an unused waiver is judged from what the run evaluated")


def report_args(p):
    rules_args(p)
    p.add_argument("--waivers", metavar="FILE", help="waivers of known findings (YAML)")
    p.add_argument("--as-of", type=as_of_date, metavar="YYYY-MM-DD",
                   help="judge the waivers' expiry on this day (an auditor's 'as of' report; default: today, in UTC)")
    p.add_argument("--warn-expiring", type=warn_days, metavar="DAYS", help="list waivers that lapse within DAYS")
    stale_check_arg(p)
    p.add_argument("-f", "--format", action="append", metavar="FMT[:FILE]",
                   help=f"{REPORT_FORMATS[0]} (default), {', '.join(REPORT_FORMATS[1:-1])} or {REPORT_FORMATS[-1]}; "
                   "repeatable with :FILE")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE (atomically)")
    p.add_argument("--fail-on", choices=FAIL_ON_CHOICES, default=None,
                   help="lowest severity that fails the run (default error)")
    p.add_argument("--sarif-category", metavar="ID", help="SARIF: the run's automationDetails.id (default: from "
                   "the command and the site), so that each nightly upload replaces the last one's alerts")
    terminal_args(p)
    p.add_argument("--baseline", metavar="REPORT", help="an earlier JSON report: mark results new or unchanged")
    p.add_argument("--fail-on-new", action="store_true", help="with --baseline: fail only on new findings")
    p.add_argument("--source-root", metavar="DIR", help="SARIF: file URIs relative to DIR as %%SRCROOT%% "
                   "(default: the working directory)")
    p.add_argument("--limit", type=_positive, default=None, metavar="N",
                   help="table: list at most N findings, then group them by rule and guest (default 200)")


def _plan_args(p) -> None:
    snapshot_arg(p)
    p.add_argument("plan", metavar="PLAN", help="the plan file (YAML or JSON)")
    p.add_argument("--emit-snapshot", metavar="FILE",
                   help="write the estate after the plan (its migrations that were not blocked) as a snapshot: "
                   "YAML, or JSON for a .json name")
    report_args(p)


def _place_args(p) -> None:
    snapshot_arg(p)
    p.add_argument("--vacate", metavar="VSP", help="move every guest off this VSP")
    p.add_argument("--guest", metavar="GLOB", help="move the guests whose names match (with --vacate: of that VSP)")
    p.add_argument("--to", metavar="GLOB", help="only to VSPs whose names match (default: every other VSP)")
    p.add_argument("--mode", choices=MODES, default=OFFLINE,
                   help="offline (default: running guests are stopped by the migration, hpvmmigrate -d) or online")
    p.add_argument("--time-limit", type=_seconds, default=5.0, metavar="SECONDS",
                   help="the solver's time limit (default 5)")
    _proposal_args(p)


def _proposal_args(p) -> None:
    """What `place` and `campaign` share: the plan file they propose, the packs, waivers and the report."""
    p.add_argument("-o", "--output", dest="plan_output", metavar="FILE", help="write the proposed plan file to FILE")
    p.add_argument("--name", metavar="TEXT", help="the proposed plan's name")
    rules_args(p)
    p.add_argument("--waivers", metavar="FILE", help="waivers of known findings (YAML)")
    p.add_argument("--as-of", type=as_of_date, metavar="YYYY-MM-DD",
                   help="judge the waivers' expiry on this day (an auditor's 'as of' report; default: today, in UTC)")
    stale_check_arg(p)
    p.add_argument("-f", "--format", action="append", metavar="FMT[:FILE]",
                   help=f"{REPORT_FORMATS[0]} (default), {', '.join(REPORT_FORMATS[1:-1])} or {REPORT_FORMATS[-1]}; "
                   "repeatable with :FILE")
    p.add_argument("--fail-on", choices=FAIL_ON_CHOICES, default=None,
                   help="lowest severity that fails the run (default error)")
    p.add_argument("--sarif-category", metavar="ID", help="SARIF: the run's automationDetails.id")
    terminal_args(p)


def _campaign_args(p) -> None:
    snapshot_arg(p)
    p.add_argument("--upgrade", metavar="GLOB", required=True, help="the VSPs to upgrade (names matching GLOB)")
    p.add_argument("--to", metavar="RELEASE", required=True, help="the release they are upgraded to, e.g. 6.3")
    p.add_argument("--keep", metavar="GLOB", help="guests that must not move (their VSP is not upgraded)")
    p.add_argument("--offline-window", type=_positive, metavar="N", help="at most N offline moves per stage")
    p.add_argument("--max-stages", type=_positive, metavar="N", help="at most N stages (whole VSP steps)")
    p.add_argument("--time-limit", type=_seconds, default=30.0, metavar="SECONDS",
                   help="the solver's time limit over the whole campaign (default 30)")
    p.add_argument("--return", dest="return_guests", action="store_true",
                   help="move the guests back to their VSP once it is upgraded")
    _proposal_args(p)


def _explain_plan_args(p) -> None:
    p.add_argument("--plan", metavar="PLAN", help="explain a migration of this plan, against the estate as it will be")
    p.add_argument("--step", type=int, metavar="N", help="with --plan: the migration's step (from 1)")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not a number of seconds") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"`{text}`: give a time limit above 0 and at most 3600 seconds")
    return value



def _import_commands(sub, only: str | None = None) -> None:
    """Add the two subcommands to migcheck's argument parser (`only`: that one, when it is one of them)."""
    if only not in (None, "import"):
        return _collector_command(sub, only)
    p = sub.add_parser("import", help="a snapshot from HP command output captured on each VSP")
    p.add_argument("dir", metavar="DIR", help="the capture folder: one folder per VSP, as `migcheck collector` "
                   "writes them")
    p.add_argument("--site", metavar="NAME", help="the snapshot's `site`")
    p.add_argument("--output", metavar="FILE", help="write the snapshot to FILE (atomically; JSON when FILE "
                   "ends in .json), not to standard output")
    p.add_argument("--partial", action="store_true", help="write what could be read even when some capture "
                   "lines were not understood, and list them")
    p.add_argument("--max-bytes", type=byte_limit, default=DEFAULT_MAX_BYTES, metavar="N",
                   help=f"refuse capture files larger than N bytes (default {DEFAULT_MAX_BYTES:,})")
    p.set_defaults(func="importing:cmd_import")
    _collector_command(sub, only)


def _collector_command(sub, only: str | None) -> None:
    if only not in (None, "collector"):
        return
    p = sub.add_parser("collector", help="print the POSIX sh script that captures a VSP for `migcheck import`")
    p.set_defaults(func="importing:cmd_collector")



def as_of_date(text: str):
    """`--as-of YYYY-MM-DD`: the day waivers are judged on."""
    try:
        if not (len(text) == 10 and text[4] == text[7] == "-" and (text[:4] + text[5:7] + text[8:]).isascii()
                and (text[:4] + text[5:7] + text[8:]).isdigit()):  # fromisoformat also takes 20261205 and
            raise ValueError(text)                                   # week dates (2026-W49-7): YYYY-MM-DD only
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not a date: give it as YYYY-MM-DD") from None


def warn_days(text: str) -> int:
    """`--warn-expiring DAYS`: a whole number of days, 0 or more (any size: the horizon stops at year 9999)."""
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text[:40]}` is not a whole number of days") from None
    if days < 0:
        raise argparse.ArgumentTypeError(f"`{text}` days is in the past; give 0 or more days")
    return days



def _jobs(text: str) -> int:
    value = _positive(text)
    if value > MAX_JOBS:
        raise argparse.ArgumentTypeError(f"`{text}` is more processes than {MAX_JOBS}")
    return value


MAX_JOBS = 64


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"`{text}` is not a positive whole number")
    return value


def migration_args(p, mode_default=OFFLINE, mode_help="offline (default) or online"):
    p.add_argument("--mode", choices=MODES, default=mode_default, help=mode_help)
    p.add_argument("--stop", action="store_true", help="the migration stops a running guest first "
                   "(hpvmmigrate -d)")


def _validate_args(p):
    snapshot_arg(p)
    p.add_argument("-f", "--format", choices=["text", "json"], default="text",
                   help="json: the verdict and every problem as one JSON object on stdout")
    p.add_argument("-q", "--quiet", action="store_true", help="no line on stderr when the snapshot is valid")
    p.add_argument("-v", "--verbose", action="store_true", help=argparse.SUPPRESS)


def _audit_args(p):
    snapshot_arg(p)
    report_args(p)


def _check_args(p):
    snapshot_arg(p)
    p.add_argument("guest", metavar="GUEST")
    p.add_argument("target", metavar="TARGET")
    migration_args(p)
    report_args(p)


def _matrix_args(p):
    snapshot_arg(p)
    migration_args(p)
    report_args(p)
    p.add_argument("--guest", dest="guest_glob", action="append", metavar="GLOB",
                   help="only guests whose name matches GLOB (repeatable); the others are not evaluated")
    p.add_argument("--target", dest="target_glob", action="append", metavar="GLOB",
                   help="only targets whose name matches GLOB (repeatable); the others are not evaluated")
    p.add_argument("--summary", action="store_true",
                   help="per guest the targets it is ready for, per target the guests ready to come; no findings")
    p.add_argument("--jobs", type=_jobs, default=None, metavar="N",
                   help="processes that write a json, jsonl, csv, csv-cells or junit matrix, each a share of the "
                   "guests (default: 2 on two cores or more for 250,000 pairs or more when no report is json, "
                   "else 1); the report is the same")


def _where_args(p):
    snapshot_arg(p)
    p.add_argument("guest", metavar="GUEST")
    migration_args(p)
    rules_args(p)
    p.add_argument("--waivers", metavar="FILE", help="waivers of known findings (YAML)")
    p.add_argument("--as-of", type=as_of_date, metavar="YYYY-MM-DD",
                   help="judge the waivers' expiry on this day (an auditor's 'as of' report; default: today, in UTC)")
    p.add_argument("--target", dest="target_glob", action="append", metavar="GLOB",
                   help="only targets whose name matches GLOB (repeatable)")
    p.add_argument("-f", "--format", choices=["table", "json"], default="table")
    p.add_argument("-o", "--output", metavar="FILE", help="write the answer to FILE (atomically)")
    p.add_argument("--fail-on", default=None, help=argparse.SUPPRESS)
    terminal_args(p, headline=False)


def _explain_args(p):
    snapshot_arg(p)
    p.add_argument("rule", metavar="RULE")
    p.add_argument("subject", metavar="SUBJECT", nargs="*", help="host, guest, or guest and target")
    migration_args(p, None, "the migration's mode (default offline; guest rules: absent, as in audit)")
    rules_args(p)
    p.add_argument("--fail-on", default=None, help=argparse.SUPPRESS)
    p.add_argument("-v", "--verbose", action="store_true", help="also say which configuration file was used")
    _explain_plan_args(p)


def _rules_args(p):
    rules_args(p)
    p.add_argument("-f", "--format", action="append", choices=["table", "json", "markdown"], metavar="FMT",
                   help="table (default), json or markdown")
    p.add_argument("-o", "--output", metavar="FILE", help="write the catalogue to FILE (atomically)")
    p.add_argument("--fail-on", default=None, help=argparse.SUPPRESS)
    p.add_argument("-v", "--verbose", action="store_true", help="also say which configuration file was used")


def _lint_args(p):
    p.add_argument("dirs", metavar="DIR", nargs="+")
    p.add_argument("-f", "--format", choices=["text", "json"], default="text",
                   help="json: the diagnostics as one JSON object on stdout")
    p.add_argument("--warnings-as-errors", action="store_true", help="fail (exit 2) on warnings too")
    p.add_argument("--no-builtin", action="store_true", help=_NO_BUILTIN_HELP)
    p.add_argument("-q", "--quiet", action="store_true", help="no count of rules checked on stderr")


def _test_args(p):
    p.add_argument("dirs", metavar="DIR", nargs="+")
    p.add_argument("-f", "--format", choices=["text", "json", "junit"], default="text",
                   help="text (default): failures and coverage; json: cases and per-rule coverage as one object; "
                   "junit: a test case per case, for CI")
    p.add_argument("-o", "--output", metavar="FILE", help="write the results to FILE (atomically)")
    p.add_argument("--run", metavar="REGEX", help="only the cases whose name matches REGEX (Python `re.search`); "
                   "coverage is then not required")
    p.add_argument("-v", "--verbose", action="store_true", help="list every case")
    p.add_argument("-q", "--quiet", action="store_true", help="text: no coverage table, only failures and the count")
    p.add_argument("--no-builtin", action="store_true", help=_NO_BUILTIN_HELP)


def _fmt_args(p):
    p.add_argument("dirs", metavar="DIR", nargs="+", help="rule packs (directories) or .rules files")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 when a file is not formatted")
    p.add_argument("--diff", action="store_true", help="change nothing; print what formatting would change")


def _completion_args(p):
    p.add_argument("shell", choices=("bash", "zsh", "fish"), help="the shell to complete in")


_NO_BUILTIN_HELP = ("leave the built-in pack out (a DIR that is a copy of it, such as a checkout's rules/, "
                    "replaces it anyway)")


# (name, help, arguments, handler): in the order `migcheck --help` lists them
COMMANDS: list[tuple[str, str, object, object]] = [
    ("validate", "check a snapshot's schema and integrity, nothing else", _validate_args, "tools:cmd_validate"),
    ("audit", "run host, guest and snapshot rules over a snapshot", _audit_args, "commands:cmd_report"),
    ("check", "can GUEST migrate to TARGET?", _check_args, "commands:cmd_report"),
    ("matrix", "every guest against every other VSP", _matrix_args, "commands:cmd_matrix"),
    ("where", "where can GUEST go: every other VSP, ready ones first", _where_args, "commands:cmd_where"),
    ("explain", "why a rule gave its result for a subject", _explain_args, "tools:cmd_explain"),
    ("plan", "check a wave of migrations, in order", _plan_args, "commands:cmd_report"),
    ("place", "propose a wave (a constraint solver), checked by plan", _place_args, "commands:cmd_place"),
    ("campaign", "propose a rolling upgrade of VSPs to a release, checked by plan", _campaign_args,
     "commands:cmd_campaign"),
    ("rules", "the catalogue of loaded rules", _rules_args, "tools:cmd_rules"),
    ("lint", "parse and check rule packs", _lint_args, "tools:cmd_lint"),
    ("test", "run the rule tests of packs", _test_args, "tools:cmd_test"),
    ("fmt", "format rule files canonically (comments kept)", _fmt_args, "formatting:cmd_fmt"),
    ("completion", "print a shell completion script: bash, zsh or fish", _completion_args,
     "completion:cmd_completion"),
]


def _handler(name: str):
    """A command's handler, `MODULE:FUNCTION` under `migcheck.app`, imported when the command runs:
    `--version`, `--help` and a usage error import none of the engine."""
    module, _, function = name.partition(":")
    return getattr(import_module(f"{__package__}.app.{module}"), function)


class _BadUsage(Exception):
    """A usage problem argparse found (its message already printed)."""


def _terminal_columns() -> int:
    """`shutil.get_terminal_size().columns`, worked out as shutil does ($COLUMNS, else standard output's
    terminal, else 80) without importing shutil, which imports zlib, bz2 and lzma (cold start)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
        except (AttributeError, ValueError, OSError):
            columns = 80
    return columns


class _Formatter(argparse.HelpFormatter):
    """argparse's help formatter, as wide as it makes itself (the terminal's columns less 2): argparse
    makes one for every argument added, and its own way of measuring the terminal imports shutil."""

    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None):
        super().__init__(prog, indent_increment, max_help_position, _terminal_columns() - 2 if width is None else width)


class _Parser(argparse.ArgumentParser):
    """argparse's parser (its subcommands' too), whose usage errors `main` sees, so that it can still
    write the SARIF or JUnit failure document a CI job asked for."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise _BadUsage(message)

    def parse_known_args(self, args=None, namespace=None):
        """argparse's, and an option given an empty value is refused (`--config ""` fell back to the configuration
        found upward, `--baseline ""` was ignored, `-o ""` wrote to standard output)."""
        namespace, extras = super().parse_known_args(args, namespace)
        for action in self._actions:
            if not action.option_strings or action.nargs == 0:
                continue
            value = getattr(namespace, action.dest, None)
            if value == "" or (isinstance(value, list) and "" in value):
                self.error(f"argument {'/'.join(action.option_strings)}: empty value: give one, or leave the "
                           "option out")
        return namespace, extras


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """migcheck's argument parser. With `command` (the first argument, when it names a command other than
    `completion`, which writes its scripts from the whole parser) only that command's subparser is built:
    argparse hands every argument after the command to its subparser, so the others would go unused,
    and building them all cost more than the rest of the parse (cold start). None: every command's."""
    only = command if command in _commands() and command != "completion" else None
    parser = _Parser(prog="migcheck", description="Policy-as-code migration checks for HP vPars "
                                     "and Integrity VM estates.")
    parser.add_argument("--version", action="version", version=f"migcheck {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text, add_arguments, handler in COMMANDS:
        if only is not None and name != only:
            continue
        p = sub.add_parser(name, help=help_text)
        add_arguments(p)
        p.set_defaults(func=handler)
    _import_commands(sub, only)
    parser.set_defaults(parser=parser)  # `completion` writes its scripts from the parser itself
    return parser


def main(argv: list[str] | None = None) -> int:
    """The command's exit code: the arguments parsed here, the command run by `app.running.run_command`
    (which maps problems to exit code 2 and prints each stage's time with `MIGCHECK_TIMINGS=1`)."""
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    if argv == ["--version"]:  # before the parser is built: nothing but the version to say
        print(f"migcheck {__version__}")
        return EXIT_OK
    # the cycle collector paused while the parser is built, the arguments parsed and the command's modules
    # imported: thousands of objects made and kept (functions, classes, the parser), none of them garbage,
    # which it would scan again and again (cold start); then frozen (`gc.freeze`: left out of every later
    # scan) for the command, which runs with the collector as before, and let go of when it ends
    collecting = gc.isenabled()
    if collecting:
        _freeze_at_exit()
    gc.disable()
    try:
        parser = build_parser(argv[0] if argv else None)
        unknown = _unknown_command(argv)
        if unknown:
            parser.print_usage(sys.stderr)
            print(f"migcheck: {unknown}", file=sys.stderr)
            if _failure_documents_asked(argv):
                _handler("failures:write_usage_failure")(argv, unknown, _commands())
            return EXIT_BAD_INPUT
        try:
            args = parser.parse_args(argv)
        except _BadUsage as exc:  # printed; the engine is imported only to write a failure document asked for
            if _failure_documents_asked(argv):
                _handler("failures:write_usage_failure")(argv, str(exc), _commands())
            return EXIT_BAD_INPUT
        except SystemExit as exc:  # --help, --version
            return EXIT_BAD_INPUT if exc.code not in (0, None) else EXIT_OK
        run_command, handler = _handler("running:run_command"), _handler(args.func)
        if collecting:
            gc.freeze()
    finally:
        if collecting:
            gc.enable()
    try:
        return run_command(args, handler)
    finally:
        if collecting:
            gc.unfreeze()


def _freeze_at_exit() -> None:
    """Once a process has run a command, what is left when it exits is frozen (`gc.freeze`, an `atexit` hook,
    which runs before the interpreter's last collections): those would scan it all to free nothing that the
    exit does not. CPU from the last hook to the end: JSON `--jobs 1` at 200 x 10,000, 2.44 s -> 0.09 s, and
    at 200 x 2,000, 2.2 s -> 0.05 s; `--summary` at 200 x 10,000, 0.71 s -> 0.04 s (a scan of a heap of
    hundreds of MB, all cache misses: 1% of the instructions). Nothing else about the exit changes (streams
    flushed, files closed, other hooks run); in a process that goes on (a test calling `main` again and
    again), nothing changes until it ends."""
    global _FREEZING
    if not _FREEZING:
        atexit.register(gc.freeze)
        _FREEZING = True


_FREEZING = False


def _failure_documents_asked(argv: list[str]) -> bool:
    """Whether the command line asks for a `sarif` or `junit` report (to a file or not: the failures
    module decides)."""
    return any(a.startswith(("sarif", "junit", "--format=sarif", "--format=junit", "-fsarif", "-fjunit"))
               for a in argv)


def _commands() -> list[str]:
    return [name for name, *_ in COMMANDS] + ["import", "collector"]


def _unknown_command(argv: list[str]) -> str | None:
    """"unknown command `chek`; did you mean `check`?" when the first word is no command."""
    first = next((a for a in argv if not a.startswith("-")), None)
    if first is None or first in _commands() or argv.index(first) != 0:
        return None  # options before the command (`--version`, `--help`) are argparse's to judge
    import difflib  # only for an unknown command

    close = difflib.get_close_matches(first.casefold(), _commands(), n=1)
    return f"unknown command `{first}`; " + (f"did you mean `{close[0]}`?" if close else
                                            "the commands are " + ", ".join(_commands()))


if __name__ == "__main__":
    sys.exit(main())
