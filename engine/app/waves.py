"""The `plan` and `place` commands: their arguments, their evaluations in the pipeline, and
`explain --plan PLAN --step N`.

`pipeline.EVALUATIONS` runs `plan_evaluation` and `place_evaluation` after the snapshot,
packs and waivers are loaded; the plan checker (`plan`) and the placement model (`place`)
know nothing of argparse or the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.verdicts import place_verdict
from ..core.vocabulary import BLOCKED, OFFLINE
from ..estate import view
from ..files.document import Limits, LoadError
from ..files.outputs import OutputError, write_output
from ..waves.plans import load_plan, run_plan, snapshot_text
from .messages import wrong_kind
from .requests import Evaluation, InternalError, Run, UsageError, must_match, unknown


@dataclass(frozen=True)
class PlaceOptions:
    """What `place` is asked: which guests, to which VSPs, how, and where the plan goes."""

    vacate: str | None = None
    guests: str | None = None  # a glob of guest names
    targets: str | None = None  # a glob of VSP names
    time_limit: float = 5.0
    output: str | None = None  # the proposed plan file
    name: str | None = None


def place_options(args) -> PlaceOptions:
    """The options, names and globs in NFC as the snapshot's names are (`estate.view.name`)."""
    vacate, guests, targets = (value and view.name(value) for value in (args.vacate, args.guest, args.to))
    return PlaceOptions(vacate=vacate, guests=guests, targets=targets, time_limit=args.time_limit,
                        output=args.plan_output, name=args.name)


# -- evaluations (pipeline.EVALUATIONS) ----------------------------------------------------------
def plan_evaluation(run: Run) -> Evaluation:
    """`migcheck plan SNAPSHOT PLAN`: check the plan; with --emit-snapshot write the estate after it."""

    request = run.request
    try:
        plan = load_plan(request.plan, run.snapshot, Limits(max_bytes=request.max_bytes))
    except LoadError as exc:  # the snapshot given twice, say: named as such, not as its schema errors
        raise wrong_kind(exc, request.plan, "plan", request.max_bytes,
                         "give the snapshot first, then the plan: `migcheck plan SNAPSHOT PLAN`") from None
    outcome = run_plan(run.ruleset, run.snapshot, plan, waivers=run.waivers)
    if request.emit_snapshot:
        _write(request.emit_snapshot, snapshot_text(outcome.estate, request.emit_snapshot))
    return Evaluation(outcome.results, plan=outcome.to_json(), verdict=outcome.verdict)


def place_evaluation(run: Run) -> Evaluation:
    """`migcheck place`: propose a plan, check it with `plan`, report both."""
    try:
        from ..waves.place import propose, select_guests, select_targets
    except ImportError as exc:  # OR-Tools is the optional extra hpvm-migcheck[place]
        raise UsageError(f"`place` needs OR-Tools ({exc.name or exc}): install it with "
                         "`pip install 'hpvm-migcheck[place]'`") from None
    options: PlaceOptions = run.request.place
    snapshot = run.snapshot
    if not options.vacate and not options.guests:
        raise UsageError("`place` needs --vacate VSP or --guest GLOB (or both)")
    if options.vacate and options.vacate not in snapshot.host_by_name:
        raise unknown(options.vacate, list(snapshot.host_by_name), "VSP")
    must_match(options.guests, list(snapshot.guest_by_name), "guest", "--guest")
    must_match(options.targets, list(snapshot.host_by_name), "VSP", "--to")
    if options.guests and options.vacate and not select_guests(snapshot, options.vacate, options.guests):
        raise UsageError(f"--guest: no guest on `{options.vacate}` (the VSP vacated) matches `{options.guests}`")
    if options.targets and not select_targets(snapshot, options.vacate, options.targets):
        raise UsageError(f"--to: no VSP but `{options.vacate}` (the one vacated) matches `{options.targets}`")
    proposal = propose(run.ruleset, snapshot, vacate=options.vacate, guests=options.guests, targets=options.targets,
                       mode=run.request.mode or OFFLINE, time_limit=options.time_limit, name=options.name,
                       waivers=run.waivers)
    if proposal.check.verdict == BLOCKED:
        # the solver is never trusted on its own: a proposal its own check blocks is a bug, not a plan
        raise InternalError("the proposed plan failed its check by `plan`; please report it with the snapshot")
    placement = proposal.placement()
    if options.output and proposal.stages:  # nothing placed: no plan file (one with `stages: []` is no plan)
        _write(options.output, proposal.plan_text())
        placement["plan_file"] = options.output
    return Evaluation(proposal.check.results, plan=proposal.check.to_json(), placement=placement,
                      verdict=place_verdict(proposal.check.verdict, bool(proposal.unplaced)))


def _write(path: str, text: str) -> None:
    try:
        write_output(path, text)
    except OutputError as exc:
        raise UsageError(str(exc)) from None
