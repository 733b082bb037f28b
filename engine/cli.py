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
import json
import os
import sys
from pathlib import Path

from . import __version__
from .app import explaining, pipeline
from .app import waves as wave
from .app.importing import register as register_import  # migcheck import, migcheck collector
from .app.requests import InternalError, Request, UsageError
from .app.ruletest import run_pack_tests
from .core.diagnostics import render_all
from .core.perf import TIMINGS, timings_wanted
from .core.verdicts import EXIT_BAD_INPUT, EXIT_EVAL_ERROR, EXIT_OK
from .eval.waivers import warn_days
from .files.document import DEFAULT_MAX_BYTES, LoadError
from .files.outputs import flush_stdout, silence_stdout, stdout_problem
from .files.reader import byte_limit
from .lang.diagnostics import RuleError

__all__ = ["main", "build_parser", "COMMANDS", "UsageError"]


def _request(args, command: str, reporting: bool = True) -> Request:
    """The argparse namespace as the pipeline's explicit request."""
    return Request(
        command=command, snapshot=getattr(args, "snapshot", None), rules=list(getattr(args, "rules", None) or []),
        config=getattr(args, "config", None), waivers=getattr(args, "waivers", None),
        fail_on=getattr(args, "fail_on", None), formats=list(getattr(args, "format", None) or []) if reporting else [],
        output=getattr(args, "output", None), baseline=getattr(args, "baseline", None),
        fail_on_new=getattr(args, "fail_on_new", False), warn_expiring=getattr(args, "warn_expiring", None),
        max_bytes=getattr(args, "max_bytes", DEFAULT_MAX_BYTES), guest=getattr(args, "guest", None),
        target=getattr(args, "target", None), mode=getattr(args, "mode", None), stop=getattr(args, "stop", False),
        rule=getattr(args, "rule", None), subject=list(getattr(args, "subject", None) or []), reporting=reporting,
        source_root=getattr(args, "source_root", None), plan=getattr(args, "plan", None),
        step=getattr(args, "step", None), emit_snapshot=getattr(args, "emit_snapshot", None),
        place=wave.place_options(args) if command == "place" else None,
        guest_globs=list(getattr(args, "guest_glob", None) or []) if command in ("matrix", "where") else [],
        target_globs=list(getattr(args, "target_glob", None) or []) if command in ("matrix", "where") else [],
        limit=getattr(args, "limit", None), quiet=getattr(args, "quiet", False), jobs=getattr(args, "jobs", None))


def _colour() -> bool:
    return sys.stdout is not None and sys.stdout.isatty() and "NO_COLOR" not in os.environ


# -- commands ---------------------------------------------------------------------------
def cmd_report(args) -> int:
    """audit, check, matrix (and any command registered in `pipeline.EVALUATIONS`)."""
    run = pipeline.run(_request(args, args.command))
    pipeline.write_outputs(run, color=_colour())
    return run.exit_code()


def cmd_matrix(args) -> int:
    """matrix: the report, or with --summary the counts per guest and per target (no findings)."""
    if not args.summary:
        return cmd_report(args)
    formats = args.format or ["table"]
    if len(formats) > 1 or formats[0].partition(":")[0] not in ("table", "json"):
        raise UsageError("--summary writes one report, table or json")
    fmt, _, path = formats[0].partition(":")
    text, code = pipeline.matrix_summary(_request(args, "matrix", reporting=False), fmt)
    pipeline.write_text(path or args.output or None, text)
    return code


def cmd_where(args) -> int:
    """Where can GUEST go: every other VSP, ready ones first."""
    text, code = pipeline.where(_request(args, "where", reporting=False), args.format)
    sys.stdout.write(text)
    return code


def cmd_validate(args) -> int:
    try:
        snapshot = pipeline.validate(args.snapshot, args.max_bytes)
    except LoadError as exc:
        if args.format != "json":
            raise
        print(json.dumps({"snapshot": args.snapshot, "valid": False,
                          "problems": [p.to_json() for p in exc.problems]}, indent=2))
        return EXIT_BAD_INPUT
    if args.format == "json":
        print(json.dumps({"snapshot": args.snapshot, "valid": True, "sha256": snapshot.doc.sha256,
                          "hosts": len(snapshot.hosts), "guests": len(snapshot.guests), "problems": []}, indent=2))
    else:
        print(f"{args.snapshot}: valid snapshot: {len(snapshot.hosts)} hosts, {len(snapshot.guests)} guests",
              file=sys.stderr)
    return EXIT_OK


def cmd_rules(args) -> int:
    sys.stdout.write(pipeline.catalogue(_request(args, "rules", reporting=False), (args.format or ["table"])[0]))
    return EXIT_OK


def cmd_lint(args) -> int:
    try:
        count, warnings = pipeline.lint(args.dirs, args.no_builtin)
    except RuleError as exc:
        if args.format != "json":
            raise
        print(json.dumps({"diagnostics": [d.to_json() for d in exc.diagnostics]}, indent=2))
        return EXIT_BAD_INPUT
    failed = bool(warnings) and args.warnings_as_errors
    if args.format == "json":
        print(json.dumps({"diagnostics": [d.to_json() for d in warnings]}, indent=2 if warnings else None))
    elif warnings:
        print(render_all(warnings), file=sys.stderr)
    print(f"{count} rule(s) checked in {len(args.dirs)} pack(s): "
          + (f"{len(warnings)} warning(s)" if warnings else "no problems"), file=sys.stderr)
    return EXIT_BAD_INPUT if failed else EXIT_OK


def cmd_test(args) -> int:
    return run_pack_tests([Path(d) for d in args.dirs], out=sys.stdout, verbose=args.verbose,
                          no_builtin=args.no_builtin)


def cmd_explain(args) -> int:
    request = _request(args, "explain", reporting=False)
    sys.stdout.write(explaining.explain_in_plan(request) if args.plan or args.step is not None
                     else explaining.explain(request))
    return EXIT_OK


def cmd_place(args) -> int:
    """`place`: a report like the others; a guest that fits nowhere fails the run; an internal error exits 3."""
    try:
        run = pipeline.run(_request(args, "place"))
    except InternalError as exc:
        print(f"migcheck: internal error: {exc}", file=sys.stderr)
        return EXIT_EVAL_ERROR
    pipeline.write_outputs(run, color=_colour())
    return run.exit_code()  # a guest that fits nowhere fails the run (`verdicts.exit_code`)


# -- arguments --------------------------------------------------------------------------
def snapshot_arg(p):
    p.add_argument("snapshot", metavar="SNAPSHOT", help="inventory snapshot (YAML or JSON)")
    p.add_argument("--max-bytes", type=byte_limit, default=DEFAULT_MAX_BYTES, metavar="N",
                   help=f"refuse input files larger than N bytes (default {DEFAULT_MAX_BYTES:,})")


def rules_args(p):
    p.add_argument("--rules", action="append", metavar="DIR", help="an extra rule pack (repeatable)")
    p.add_argument("--config", metavar="FILE", help="site configuration (migcheck.yaml)")


def report_args(p):
    rules_args(p)
    p.add_argument("--waivers", metavar="FILE", help="waivers of known findings (YAML)")
    p.add_argument("--warn-expiring", type=warn_days, metavar="DAYS", help="list waivers that lapse within DAYS")
    p.add_argument("--format", action="append", metavar="FMT[:FILE]",
                   help="table (default), json, jsonl, csv, csv-cells, markdown, html, sarif or junit; "
                   "repeatable with :FILE")
    p.add_argument("--output", metavar="FILE", help="write the report to FILE (atomically)")
    p.add_argument("--fail-on", choices=["error", "warning", "info", "never"], default=None,
                   help="lowest severity that fails the run (default error)")
    p.add_argument("--baseline", metavar="REPORT", help="an earlier JSON report: mark results new or unchanged")
    p.add_argument("--fail-on-new", action="store_true", help="with --baseline: fail only on new findings")
    p.add_argument("--source-root", metavar="DIR", help="SARIF: file URIs relative to DIR as %%SRCROOT%% "
                   "(default: the working directory)")
    p.add_argument("--limit", type=_positive, default=None, metavar="N",
                   help="table: list at most N findings, then group them by rule and guest (default 200)")


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


def migration_args(p, mode_default="offline", mode_help="offline (default) or online"):
    p.add_argument("--mode", choices=["offline", "online"], default=mode_default, help=mode_help)
    p.add_argument("--stop", action="store_true", help="the migration stops a running guest first "
                   "(hpvmmigrate -d)")


def _validate_args(p):
    snapshot_arg(p)
    p.add_argument("--format", choices=["text", "json"], default="text",
                   help="json: the verdict and every problem as one JSON object on stdout")


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
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr (shown only on a terminal, "
                   "for runs longer than a second)")
    p.add_argument("--jobs", type=_jobs, default=None, metavar="N",
                   help="processes that write a json, jsonl, csv, csv-cells or junit matrix, each a share of the "
                   "guests (default: 2 on two cores or more for 250,000 pairs or more, else 1); the report is the "
                   "same")


def _where_args(p):
    snapshot_arg(p)
    p.add_argument("guest", metavar="GUEST")
    migration_args(p)
    rules_args(p)
    p.add_argument("--waivers", metavar="FILE", help="waivers of known findings (YAML)")
    p.add_argument("--target", dest="target_glob", action="append", metavar="GLOB",
                   help="only targets whose name matches GLOB (repeatable)")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--fail-on", default=None, help=argparse.SUPPRESS)


def _explain_args(p):
    snapshot_arg(p)
    p.add_argument("rule", metavar="RULE")
    p.add_argument("subject", metavar="SUBJECT", nargs="*", help="host, guest, or guest and target")
    migration_args(p, None, "the migration's mode (default offline; guest rules: absent, as in audit)")
    rules_args(p)
    p.add_argument("--fail-on", default=None, help=argparse.SUPPRESS)
    wave.explain_args(p)


def _rules_args(p):
    rules_args(p)
    p.add_argument("--format", action="append", choices=["table", "json", "markdown"], metavar="FMT")
    p.add_argument("--fail-on", default=None, help=argparse.SUPPRESS)


def _lint_args(p):
    p.add_argument("dirs", metavar="DIR", nargs="+")
    p.add_argument("--format", choices=["text", "json"], default="text",
                   help="json: the diagnostics as one JSON object on stdout")
    p.add_argument("--warnings-as-errors", action="store_true", help="fail (exit 2) on warnings too")
    p.add_argument("--no-builtin", action="store_true", help=_NO_BUILTIN_HELP)


def _test_args(p):
    p.add_argument("dirs", metavar="DIR", nargs="+")
    p.add_argument("-v", "--verbose", action="store_true", help="list every case")
    p.add_argument("--no-builtin", action="store_true", help=_NO_BUILTIN_HELP)


_NO_BUILTIN_HELP = ("leave the built-in pack out (a DIR that is a copy of it, such as a checkout's rules/, "
                    "replaces it anyway)")


# (name, help, arguments, handler): in the order `migcheck --help` lists them
COMMANDS: list[tuple[str, str, object, object]] = [
    ("validate", "check a snapshot's schema and integrity, nothing else", _validate_args, cmd_validate),
    ("audit", "run host, guest and snapshot rules over a snapshot", _audit_args, cmd_report),
    ("check", "can GUEST migrate to TARGET?", _check_args, cmd_report),
    ("matrix", "every guest against every other VSP", _matrix_args, cmd_matrix),
    ("where", "where can GUEST go: every other VSP, ready ones first", _where_args, cmd_where),
    ("explain", "why a rule gave its result for a subject", _explain_args, cmd_explain),
    ("plan", "check a wave of migrations, in order", lambda p: wave.plan_args(p, snapshot_arg, report_args),
     cmd_report),
    ("place", "propose a wave (a constraint solver), checked by plan",
     lambda p: wave.place_args(p, snapshot_arg, rules_args), cmd_place),
    ("rules", "the catalogue of loaded rules", _rules_args, cmd_rules),
    ("lint", "parse and check rule packs", _lint_args, cmd_lint),
    ("test", "run the rule tests of packs", _test_args, cmd_test),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="migcheck", description="Policy-as-code migration checks for HP vPars "
                                     "and Integrity VM estates.")
    parser.add_argument("--version", action="version", version=f"migcheck {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text, add_arguments, handler in COMMANDS:
        p = sub.add_parser(name, help=help_text)
        add_arguments(p)
        p.set_defaults(func=handler)
    register_import(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """The command's exit code; with `MIGCHECK_TIMINGS=1` each stage's time on stderr at the end."""
    TIMINGS.reset()
    try:
        return _main(argv)
    finally:
        if timings_wanted() and TIMINGS.stages:
            sys.stderr.write(TIMINGS.render())


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage problem
        return EXIT_BAD_INPUT if exc.code not in (0, None) else EXIT_OK
    try:
        code = args.func(args)
        flush_stdout()  # a full disk is reported here, not as a traceback at exit
        return code
    except LoadError as exc:
        print(render_all(exc.problems), file=sys.stderr)
        print(f"migcheck: {len(exc.problems)} problem(s)", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RuleError as exc:
        print(exc.render(), file=sys.stderr)
        print(f"migcheck: {len(exc.errors)} problem(s) in rule packs", file=sys.stderr)
        return EXIT_BAD_INPUT
    except UsageError as exc:
        print(f"migcheck: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
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


if __name__ == "__main__":
    sys.exit(main())
