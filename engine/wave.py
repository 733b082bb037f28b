"""The `plan` and `place` commands: glue between the command line, `plan`, `place` and reports.

The thin adapter to the rest of the pipeline (`Context`, reports) lives here, so that the
plan checker and the placement model know nothing of argparse.
"""

from __future__ import annotations

import sys

from .document import Limits, LoadError, Problem
from .findings import check_verdict
from .report import Report


class _Usage(Exception):
    pass


def add_commands(sub, snapshot_arg, report_args, cmd_plan, cmd_place) -> None:
    p = sub.add_parser("plan", help="check a wave of migrations, in order")
    snapshot_arg(p)
    p.add_argument("plan", metavar="PLAN", help="the plan file (YAML or JSON)")
    p.add_argument("--emit-snapshot", metavar="FILE",
                   help="write the estate after the plan (its migrations that were not blocked) as a snapshot: "
                   "YAML, or JSON for a .json name")
    report_args(p)
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("place", help="propose a wave (a constraint solver), checked by plan")
    snapshot_arg(p)
    p.add_argument("--vacate", metavar="VSP", help="move every guest off this VSP")
    p.add_argument("--guest", metavar="GLOB", help="move the guests whose names match (with --vacate: of that VSP)")
    p.add_argument("--to", metavar="GLOB", help="only to VSPs whose names match (default: every other VSP)")
    p.add_argument("--mode", choices=["offline", "online"], default="offline",
                   help="offline (default: running guests are stopped by the migration, hpvmmigrate -d) or online")
    p.add_argument("--time-limit", type=float, default=5.0, metavar="SECONDS",
                   help="the solver's time limit (default 5)")
    p.add_argument("--output", dest="plan_output", metavar="FILE", help="write the proposed plan file to FILE")
    p.add_argument("--name", metavar="TEXT", help="the proposed plan's name")
    p.add_argument("--rules", action="append", metavar="DIR", help="an extra rule pack (repeatable)")
    p.add_argument("--config", metavar="FILE", help="site configuration (migcheck.yaml)")
    p.add_argument("--waivers", metavar="FILE", help="waivers of known findings (YAML)")
    p.add_argument("--format", action="append", metavar="FMT[:FILE]",
                   help="report format: table (default), json, csv, markdown, html, sarif or junit")
    p.add_argument("--fail-on", choices=["error", "warning", "info", "never"], default=None,
                   help="lowest severity that fails the run (default error)")
    p.set_defaults(func=cmd_place, output=None, baseline=None, fail_on_new=False, warn_expiring=None)


def _limits(args) -> Limits:
    return Limits(max_bytes=args.max_bytes)


def _plan_report(ctx, command: str, outcome, placement: dict | None = None) -> Report:
    verdict = "blocked" if placement and placement["unplaced"] else outcome.verdict
    return ctx.report(command, lambda r: verdict, outcome.results, plan=outcome.to_json(), placement=placement)


def plan_report(ctx, args) -> Report:
    """`migcheck plan SNAPSHOT PLAN`: check the plan; with --emit-snapshot write the estate after it."""
    from .plan import load_plan, run_plan, snapshot_text

    plan = load_plan(args.plan, ctx.snapshot, _limits(args))
    waive = ctx.waivers.waive if ctx.waivers is not None else None
    outcome = run_plan(ctx.ruleset, ctx.snapshot, plan, waive=waive)
    if args.emit_snapshot:
        _write(args.emit_snapshot, snapshot_text(outcome.estate, args.emit_snapshot))
    return _plan_report(ctx, "plan", outcome)


def _write(path: str, text: str) -> None:
    from .atomic import write_atomic
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise LoadError([Problem(path, 1, 1, f"cannot write `{path}`: {exc.strerror or exc}")]) from None


def explain_step(ctx, args):
    """For `explain --plan PLAN --step N`: the estate as step N finds it, and its mode and stop."""
    from .plan import estate_before, load_plan

    if not args.plan or args.step is None:
        raise LoadError([Problem(args.plan or "<command line>", 1, 1, "`--plan` and `--step` go together",
                                 "give both: --plan PLAN --step N")])
    plan = load_plan(args.plan, ctx.snapshot, _limits(args))
    count = len(plan.migrations)
    if not 1 <= args.step <= count:
        raise LoadError([Problem(args.plan, 1, 1, f"step {args.step} is not in the plan, which has {count} "
                                 f"migration(s)", f"give a step from 1 to {count}")])
    estate, migration = estate_before(ctx.snapshot, plan, ctx.ruleset, args.step)
    if args.subject and len(args.subject) == 2 and (args.subject[0], args.subject[1]) != (migration.guest, migration.to):
        raise LoadError([Problem(args.plan, *plan.locate(migration.path)[1:],
                                 f"step {args.step} moves `{migration.guest}` to `{migration.to}`, not "
                                 f"`{args.subject[0]}` to `{args.subject[1]}`",
                                 help=f"explain RULE {migration.guest} {migration.to} --plan {args.plan} --step {args.step}")])
    return estate.snapshot, args.mode or migration.mode, migration.stop


def place_report(ctx, args):
    """`migcheck place`: propose a plan, check it with `plan`, report both. Returns (report, None) or (None, exit code)."""
    try:
        from .place import propose
    except ImportError as exc:  # OR-Tools is the optional extra migcheck[place]
        print(f"migcheck: `place` needs OR-Tools ({exc.name or exc}): install it with "
              "`pip install 'migcheck[place]'`", file=sys.stderr)
        return None, 2
    if not args.vacate and not args.guest:
        print("migcheck: `place` needs --vacate VSP or --guest GLOB (or both)", file=sys.stderr)
        return None, 2
    if args.vacate and args.vacate not in ctx.snapshot.host_by_name:
        from .suggest import did_you_mean
        hint = did_you_mean(args.vacate, ctx.snapshot.host_by_name)
        print(f"migcheck: unknown VSP `{args.vacate}`" + (f"; {hint}" if hint else ""), file=sys.stderr)
        return None, 2
    if args.time_limit <= 0:
        print("migcheck: --time-limit must be a positive number of seconds", file=sys.stderr)
        return None, 2
    waive = ctx.waivers.waive if ctx.waivers is not None else None
    proposal = propose(ctx.ruleset, ctx.snapshot, vacate=args.vacate, guests=args.guest, targets=args.to,
                       mode=args.mode, time_limit=args.time_limit, name=args.name, waive=waive)
    if proposal.check.verdict == "blocked":
        # the solver is never trusted on its own: a proposal its own check blocks is a bug, not a plan
        print("migcheck: internal error: the proposed plan failed its check by `plan`; please report it with the "
              "snapshot", file=sys.stderr)
        return None, 3
    placement = proposal.placement()
    if args.plan_output:
        _write(args.plan_output, proposal.plan_text())
        placement["plan_file"] = args.plan_output
    return _plan_report(ctx, "place", proposal.check, placement), None
