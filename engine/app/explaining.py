"""`migcheck explain`: a rule traced for one subject, in the estate as it is or, with
`--plan PLAN --step N`, as the plan's earlier migrations leave it."""

from __future__ import annotations

from ..core.diagnostics import LoadError, Problem
from ..core.results import Subject
from ..core.vocabulary import OFFLINE
from ..eval.engine import Engine
from ..eval.explain import explain as render_explanation
from ..files.document import Limits
from ..waves.plans import estate_before, load_plan
from .messages import guest_named, host_named, wrong_kind
from .pipeline import run
from .requests import Request, UsageError, unknown


def explain(request: Request) -> str:
    """`migcheck explain`: the rule's evaluation for one subject, traced (see `explain`)."""
    state = run(request, until="snapshot")
    rule = state.ruleset.by_id(request.rule)
    if rule is None:
        raise unknown(request.rule, state.ruleset.ids(), "rule")
    engine = Engine(state.ruleset, state.snapshot, stop=request.stop)
    return render_explanation(engine, rule, explain_subject(state.snapshot, rule, request))


_SUBJECT_ARGS = {"host": ["HOST"], "guest": ["GUEST"], "migration": ["GUEST", "TARGET"], "snapshot": []}


def explain_subject(snapshot, rule, request: Request) -> Subject:
    """The subject `explain` names on its command line, for a rule `on rule.subject`."""
    if rule.subject == "stage":
        raise UsageError(f"rule `{rule.id}` is `on stage`: it runs in `migcheck plan SNAPSHOT PLAN`, whose results "
                         "say why for each stage")
    wanted = _SUBJECT_ARGS[rule.subject]
    names = request.subject
    if len(names) != len(wanted):
        raise UsageError(f"rule `{rule.id}` is `on {rule.subject}`: give " + (" ".join(wanted) or "no subject"))

    on = f"rule `{rule.id}` is `on {rule.subject}`: give " + " ".join(wanted)
    if rule.subject == "host":
        return Subject("host", host=host_named(snapshot, names[0], on))
    if rule.subject == "guest":
        return Subject("guest", guest=guest_named(snapshot, names[0], on), mode=request.mode)
    if rule.subject == "migration":
        guest = guest_named(snapshot, names[0], on)
        target = host_named(snapshot, names[1], on)
        if guest["host"] == target["name"]:  # (as `check` refuses it: no migration to explain)
            raise UsageError(f"guest `{names[0]}` is already on `{names[1]}`; choose another target")
        return Subject("migration", guest=guest, target=target, mode=request.mode or OFFLINE)
    return Subject("snapshot")


# -- explain --plan PLAN --step N -----------------------------------------------------------------
def explain_in_plan(request: Request) -> str:
    """`explain` of a migration of a plan: the rule traced against the estate as step N finds it."""
    if not request.plan or request.step is None:
        raise UsageError("`--plan PLAN` and `--step N` go together")
    state = run(request, until="snapshot")
    rule = state.ruleset.by_id(request.rule)
    if rule is None:
        raise unknown(request.rule, state.ruleset.ids(), "rule")
    try:
        plan = load_plan(request.plan, state.snapshot, Limits(max_bytes=request.max_bytes))
    except LoadError as exc:
        raise wrong_kind(exc, request.plan, "plan", request.max_bytes, "--plan takes a plan file") from None
    count = len(plan.migrations)
    if not 1 <= request.step <= count:
        raise LoadError([Problem(request.plan, 1, 1, f"step {request.step} is not in the plan, which has {count} "
                                 f"migration(s)", help=f"give a step from 1 to {count}", code="bad-step")])
    estate, migration = estate_before(state.snapshot, plan, state.ruleset, request.step)
    if len(request.subject) == 2 and tuple(request.subject) != (migration.guest, migration.to):
        _, line, col = plan.locate(migration.path)
        raise LoadError([Problem(request.plan, line, col,
                                 f"step {request.step} moves `{migration.guest}` to `{migration.to}`, not "
                                 f"`{request.subject[0]}` to `{request.subject[1]}`",
                                 help=f"explain RULE {migration.guest} {migration.to} --plan {request.plan} "
                                      f"--step {request.step}", code="bad-step")])
    step = Request(**{**request.__dict__, "mode": request.mode or migration.mode, "stop": migration.stop})
    view = estate.view()  # the estate as step N finds it
    engine = Engine(state.ruleset, view, stop=migration.stop)
    text = render_explanation(engine, rule, explain_subject(view.snapshot, rule, step))
    return f"plan {request.plan}, step {request.step}: the estate as the earlier migrations leave it\n" + text
