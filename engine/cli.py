"""The `migcheck` command: parses arguments, calls the stages, maps outcomes to exit codes.

Exit codes: 0 nothing at or above `--fail-on`; 1 findings at or above it (for `check`, the
migration is blocked); 2 bad invocation or bad input, every problem on stderr as
`file:line:col: message`; 3 a rule could not be evaluated and nothing else failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__
from .document import DEFAULT_MAX_BYTES, Limits, LoadError
from .evaluate import Engine
from .findings import audit_verdict, check_verdict, exit_code
from .lang.diagnostics import RuleError
from .packs import RuleSet, load_rules
from .report import FORMATS, Report, render
from .snapshot import Snapshot, load_snapshot
from .suggest import did_you_mean
from .reader import byte_limit
from .waivers import warn_days

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_EVAL_ERROR = 0, 1, 2, 3


class UsageError(Exception):
    """A bad invocation: reported on stderr with exit code 2."""


def _limits(args) -> Limits:
    return Limits(max_bytes=args.max_bytes)


def _suggest(name: str, known: list[str], what: str) -> UsageError:
    hint = did_you_mean(name, known)
    return UsageError(f"unknown {what} `{name}`" + (f"; {hint}" if hint else ""))


# -- context shared by the reporting commands ---------------------------------------------
class Context:
    """What a reporting command loads: rules (with site configuration), snapshot, waivers."""

    def __init__(self, args, need_snapshot: bool = True):
        self.args = args
        if hasattr(args, "output"):  # a reporting command: check what it is asked to write before any work
            _format_targets(args)
            if args.fail_on_new and not args.baseline:
                raise UsageError("--fail-on-new needs --baseline REPORT.json")
        self.baseline = None
        if getattr(args, "baseline", None):
            from .baseline import load_baseline
            self.baseline = load_baseline(args.baseline)
        self.config = None
        if getattr(args, "config", None):
            from .config import load_config
            self.config = load_config(args.config)
        rule_dirs = list(getattr(args, "rules", None) or [])
        if self.config is not None:
            rule_dirs = self.config.rules + rule_dirs
        if hasattr(args, "output"):  # no report may land on another or on an input, before any work
            _check_outputs(args, rule_dirs)
        self.ruleset: RuleSet = load_rules(rule_dirs)
        if self.config is not None:
            problems = self.config.problems_against(self.ruleset)
            if problems:
                raise LoadError(problems)
            c = self.config
            if c.disable or c.severity or c.data:
                self.ruleset = load_rules(rule_dirs, disable=c.disable, severity=c.severity, extra_rows=c.data)
            self.ruleset.rules = [r for r in self.ruleset.rules if c.selects(r)]
        self.fail_on = args.fail_on or (self.config.fail_on if self.config and self.config.fail_on else "error")
        self.snapshot: Snapshot | None = load_snapshot(args.snapshot, _limits(args)) if need_snapshot else None
        self.waivers = None
        if getattr(args, "waivers", None):
            from .waivers import load_waivers
            self.waivers = load_waivers(args.waivers, known_rules=set(self.ruleset.ids()))

    def engine(self) -> Engine:
        return Engine(self.ruleset, self.snapshot, stop=getattr(self.args, "stop", False))

    def report(self, command: str, verdict_of, results, notes_now: bool = True, **extra) -> Report:
        """The report of a run; `notes_now=False` (a streamed run) leaves the waiver notes for `waiver_notes()`."""
        notes = []
        if self.waivers is not None and notes_now:
            self.waivers.apply(results)
            from .waivers import notes_for_run
            notes = notes_for_run(self.waivers, self.engine(), command, getattr(self.args, "mode", None),
                                  getattr(self.args, "warn_expiring", None))
        report = Report(command, "", results, snapshot_path=self.snapshot.path,
                        snapshot_sha256=self.snapshot.doc.sha256, site=self.snapshot.site,
                        rules=self.ruleset.rules, fail_on=self.fail_on, waiver_notes=notes, **extra)
        report.verdict = verdict_of(report)
        report.manifest = self.manifest()
        report.collected = self.snapshot.doc.data.get("collected")
        report.source_root = getattr(self.args, "source_root", None)
        report.limit = getattr(self.args, "limit", None) or report.limit
        return report

    def waiver_notes(self, command: str) -> list[dict]:
        if self.waivers is None:
            return []
        from .waivers import notes_for_run
        return notes_for_run(self.waivers, self.engine(), command, getattr(self.args, "mode", None),
                             getattr(self.args, "warn_expiring", None))

    def manifest(self) -> dict:
        from .manifest import build_manifest
        return build_manifest(self)


def _check_outputs(args, rule_dirs) -> None:
    from ._resources import builtin_rules_dir
    from .atomic import check_outputs, pack_inputs
    inputs = {**pack_inputs([builtin_rules_dir(), *rule_dirs]), getattr(args, "snapshot", None): "the snapshot",
              args.config: "the configuration", args.waivers: "the waiver file", args.baseline: "the baseline"}
    problem = check_outputs(_format_targets(args), inputs)
    if problem:
        raise UsageError(problem)


def _emit(report: Report, args) -> None:
    from .atomic import OutputError, write_output
    targets = _format_targets(args)
    for fmt, path in targets:
        try:
            if path is None or path in ("-", "/dev/stdout"):
                tty = sys.stdout is not None and sys.stdout.isatty()
                write_output(None, render(report, fmt, color=fmt == "table" and tty and "NO_COLOR" not in os.environ))
            else:
                write_output(path, render(report, fmt))
        except OutputError as exc:
            raise UsageError(str(exc)) from None


def _format_targets(args) -> list[tuple[str, str | None]]:
    specs = args.format or ["table"]
    out = []
    for spec in specs:
        fmt, _, path = spec.partition(":")
        if fmt not in FORMATS:
            raise _suggest(fmt, list(FORMATS), "format")
        out.append((fmt, path or None))
    if args.output:
        if len([t for t in out if t[1] is None]) != 1:
            raise UsageError("--output takes one format without a file; write `--format FMT:FILE` for more")
        out = [(fmt, path or args.output) for fmt, path in out]
    return out


def _finish(report: Report, args, ctx: Context) -> int:
    if ctx.baseline is not None:
        from .baseline import apply_baseline
        apply_baseline(report, args.baseline, ctx.baseline)
        if args.fail_on_new:
            _emit(report, args)
            new = [r for r in report.results if r.baseline == "new"]
            return exit_code(new, ctx.fail_on)
    _emit(report, args)
    return exit_code(report.results, ctx.fail_on)


# -- commands ---------------------------------------------------------------------------
def cmd_validate(args) -> int:
    try:
        snapshot = load_snapshot(args.snapshot, _limits(args))
        problems = snapshot.integrity_report()
        if problems:
            raise LoadError(problems)
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


def cmd_audit(args) -> int:
    ctx = Context(args)
    results = ctx.engine().audit()
    report = ctx.report("audit", lambda r: audit_verdict(r.results, ctx.fail_on), results)
    return _finish(report, args, ctx)


def _find(snapshot: Snapshot, guest: str, target: str):
    g = snapshot.guest_by_name.get(guest)
    if g is None:
        if guest in snapshot.host_by_name:  # GUEST and TARGET swapped, or a VSP given as the guest
            swapped = target in snapshot.guest_by_name
            raise UsageError(f"`{guest}` is a VSP, not a guest; " + (
                f"write the guest first: `check SNAPSHOT {target} {guest}`" if swapped else
                "give GUEST TARGET: the guest to move, then the VSP to move it to"))
        raise _suggest(guest, list(snapshot.guest_by_name), "guest")
    t = snapshot.host_by_name.get(target)
    if t is None:
        if target in snapshot.guest_by_name:
            raise UsageError(f"`{target}` is a guest, not a VSP; the target is the VSP to move `{guest}` to")
        raise _suggest(target, list(snapshot.host_by_name), "host")
    if g["host"] == target:
        raise UsageError(f"guest `{guest}` is already on `{target}`; choose another target")
    return g, t


def cmd_check(args) -> int:
    ctx = Context(args)
    guest, target = _find(ctx.snapshot, args.guest, args.target)
    results = ctx.engine().check(guest, target, args.mode)
    request = {"guest": guest["name"], "source": guest["host"], "target": target["name"], "mode": args.mode,
               "stop": args.stop}
    report = ctx.report("check", lambda r: check_verdict(r.results), results, request=request)
    return _finish(report, args, ctx)


def cmd_matrix(args) -> int:
    """The matrix, streamed: every output is fed guest by guest in one pass (report/stream.py)."""
    from .report.stream import Progress
    ctx = Context(args)
    engine = ctx.engine()
    waive = ctx.waivers.waive if ctx.waivers is not None else None
    report = ctx.report("matrix", lambda r: "", [], notes_now=False, cells=[])

    def finish(report, tally):
        report.waiver_notes = ctx.waiver_notes("matrix")
        if ctx.baseline is not None:
            report.baseline = tally.baseline(args.baseline)
    guests = len({g["name"] for g in ctx.snapshot.guests})
    progress = Progress(guests, sys.stderr.isatty() and not args.quiet)
    tally = _emit_stream(report, engine.iter_matrix(args.mode, waive=waive), args, progress, ctx.baseline, finish)
    return tally.exit_code(only_new=bool(args.fail_on_new))


def _emit_stream(report: Report, chunks, args, progress, baseline, finish):
    """Open every output (files atomically), stream the chunks to them in one pass, close them."""
    from contextlib import ExitStack

    from .atomic import STDOUT, OutputError, open_output
    from .report.stream import write_matrix, writer_for
    tty = sys.stdout is not None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    try:
        with ExitStack() as stack:
            writers = []
            for fmt, path in _format_targets(args):
                to_stdout = path is None or path in (STDOUT, "/dev/stdout")
                out = stack.enter_context(open_output(None if to_stdout else path))
                regular = not to_stdout and (os.path.isfile(path) or not os.path.exists(path))
                spool = os.path.dirname(os.path.abspath(path)) if regular else None  # JSON, JUnit: beside it
                writers.append(writer_for(fmt, report, out, color=tty and to_stdout and fmt == "table",
                                          spool_dir=spool))
            return write_matrix(report, chunks, writers, progress=progress, baseline=baseline, finish=finish)
    except OutputError as exc:
        raise UsageError(str(exc)) from None


def cmd_rules(args) -> int:
    ctx = Context(args, need_snapshot=False)
    from .report.catalogue import render_catalogue
    fmt = (args.format or ["table"])[0]
    sys.stdout.write(render_catalogue(ctx.ruleset, fmt))
    return EXIT_OK


def cmd_lint(args) -> int:
    from .packs import packs_under_test
    builtin, dirs = packs_under_test(args.dirs, args.no_builtin)  # a copy of the built-in pack replaces it
    dirs = [Path(os.path.realpath(d)) for d in dirs]  # realpath: a symbolic link loop is not an exception
    try:
        ruleset = load_rules(dirs, builtin=builtin)  # site packs load beside the built-in one: ids must not clash
    except RuleError as exc:
        if args.format != "json":
            raise
        print(json.dumps({"diagnostics": [d.to_json() for d in exc.diagnostics]}, indent=2))
        return EXIT_BAD_INPUT
    if args.format == "json":
        print(json.dumps({"diagnostics": []}))
    count = sum(1 for r in ruleset.rules if any(Path(r.span.file).resolve().is_relative_to(d) for d in dirs))
    print(f"{count} rule(s) checked in {len(dirs)} pack(s): no problems", file=sys.stderr)
    return EXIT_OK


def cmd_test(args) -> int:
    from .ruletest import run_pack_tests
    return run_pack_tests([Path(d) for d in args.dirs], out=sys.stdout, verbose=args.verbose,
                          no_builtin=args.no_builtin)


def cmd_explain(args) -> int:
    from .explain import explain
    ctx = Context(args)
    sys.stdout.write(explain(ctx, args.rule, args.subject, args.mode))
    return EXIT_OK


_NO_BUILTIN_HELP = ("leave the built-in pack out (a DIR that is a copy of it, such as a checkout's rules/, "
                    "replaces it anyway)")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"`{text}` is not a positive whole number")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="migcheck", description="Policy-as-code migration checks for HP vPars "
                                     "and Integrity VM estates.")
    parser.add_argument("--version", action="version", version=f"migcheck {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
        p.add_argument("--limit", type=_positive, default=None, metavar="N",
                       help="table: list at most N findings, then group them by rule and guest (default 200)")
        p.add_argument("--source-root", metavar="DIR", help="SARIF: file URIs relative to DIR as %%SRCROOT%% "
                       "(default: the working directory)")

    p = sub.add_parser("validate", help="check a snapshot's schema and integrity, nothing else")
    snapshot_arg(p)
    p.add_argument("--format", choices=["text", "json"], default="text",
                   help="json: the verdict and every problem as one JSON object on stdout")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("audit", help="run host, guest and snapshot rules over a snapshot")
    snapshot_arg(p)
    report_args(p)
    p.set_defaults(func=cmd_audit)

    def migration_args(p, mode_default="offline", mode_help="offline (default) or online"):
        p.add_argument("--mode", choices=["offline", "online"], default=mode_default, help=mode_help)
        p.add_argument("--stop", action="store_true", help="the migration stops a running guest first "
                       "(hpvmmigrate -d)")

    p = sub.add_parser("check", help="can GUEST migrate to TARGET?")
    snapshot_arg(p)
    p.add_argument("guest", metavar="GUEST")
    p.add_argument("target", metavar="TARGET")
    migration_args(p)
    report_args(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("matrix", help="every guest against every other VSP")
    snapshot_arg(p)
    migration_args(p)
    report_args(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr (shown only on a terminal, "
                   "for runs longer than a second)")
    p.set_defaults(func=cmd_matrix)

    p = sub.add_parser("explain", help="why a rule gave its result for a subject")
    snapshot_arg(p)
    p.add_argument("rule", metavar="RULE")
    p.add_argument("subject", metavar="SUBJECT", nargs="*", help="host, guest, or guest and target")
    migration_args(p, None, "the migration's mode (default offline; guest rules: absent, as in audit)")
    rules_args(p)
    p.add_argument("--fail-on", default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("rules", help="the catalogue of loaded rules")
    rules_args(p)
    p.add_argument("--format", action="append", choices=["table", "json", "markdown"], metavar="FMT")
    p.add_argument("--fail-on", default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_rules)

    p = sub.add_parser("lint", help="parse and check rule packs")
    p.add_argument("dirs", metavar="DIR", nargs="+")
    p.add_argument("--format", choices=["text", "json"], default="text",
                   help="json: the diagnostics as one JSON object on stdout")
    p.add_argument("--no-builtin", action="store_true", help=_NO_BUILTIN_HELP)
    p.set_defaults(func=cmd_lint)

    p = sub.add_parser("test", help="run the rule tests of packs")
    p.add_argument("dirs", metavar="DIR", nargs="+")
    p.add_argument("-v", "--verbose", action="store_true", help="list every case")
    p.add_argument("--no-builtin", action="store_true", help=_NO_BUILTIN_HELP)
    p.set_defaults(func=cmd_test)

    from .importer.command import register as register_import  # migcheck import, migcheck collector
    register_import(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage problem
        return EXIT_BAD_INPUT if exc.code not in (0, None) else EXIT_OK
    from .atomic import flush_stdout, silence_stdout, stdout_problem
    try:
        code = args.func(args)
        flush_stdout()  # a full disk is reported here, not as a traceback at exit
        return code
    except LoadError as exc:
        for problem in exc.problems:
            print(problem.render(), file=sys.stderr)
        print(f"migcheck: {len(exc.problems)} problem(s)", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RuleError as exc:
        print(exc.render(), file=sys.stderr)
        print(f"migcheck: {len(exc.diagnostics)} problem(s) in rule packs", file=sys.stderr)
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
