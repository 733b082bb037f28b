"""The one place the stages are put together: a request in, a complete report (or text) out.

`run(request)` runs the ordered table `STAGES` (OPA's compiler keeps its stages the same
way: a name, a function, and why it sits where it does). Each stage reads what earlier
stages left on the `Run` and adds its own part; a stage that does not concern the
command is skipped. `python -m migcheck.pipeline --stages` lists them.

    options        the report's formats and --fail-on-new are checked before any file is read
    configuration  --config: extra packs, disabled rules, severities, data rows, fail_on, tags
    packs          built-in and site packs parsed, checked and compiled once; then the
                   configuration is applied to the compiled rule set (names checked, rules
                   disabled or re-graded, rows added): after configuration, whose packs load
    snapshot       the snapshot loaded, validated and indexed (exit 2 on schema problems)
    waivers        after packs: a waiver names rule ids, which must exist
    baseline       an earlier JSON report, read before any evaluation so a bad one costs nothing
    evaluation     the command's evaluation (`EVALUATIONS[command]`), waivers attached as
                   results are made (the engine is the one place waivers are applied)
    report         a complete `Report`: verdict (findings.verdict), manifest, waiver notes,
                   baseline marks; never patched afterwards

Commands register their evaluation in `EVALUATIONS` (a function `Run -> Evaluation`), so a
new reporting command (`plan`, ...) adds its own module and one entry here, and its
subcommand in the CLI.

`cli` parses arguments into a `Request`, calls `run` (or `explain`, `catalogue`,
`validate`, `lint`), writes the outputs and maps the outcome to an exit code.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from contextlib import ExitStack
from importlib import import_module
from pathlib import Path

from ..core.records import record
from ..core.verdicts import report_verdict as verdict
from ..estate.snapshot import load_snapshot
from ..core.perf import TIMINGS
from ..eval.engine import Engine
from ..files.document import DEFAULT_MAX_BYTES, Limits, LoadError
from ..files.manifest import build_manifest
from ..files.outputs import OutputError, STDOUT, check_outputs, open_output, pack_inputs, real_path, write_output
from ..files.resources import builtin_rules_dir
from ..packs.config import load_config
from ..packs.ruleset import load_rules, packs_under_test
from ..report import FORMATS, Report, render
from ..report.common import csv_terminal_text
from ..report.model import Tail
from .messages import guest_named, host_named, wrong_kind
from .terminal import is_terminal
from .requests import EXIT_BAD_INPUT, EXIT_OK, Evaluation, Request, Run, UsageError, unknown  # noqa: F401

# The parts a run loads only when it needs them (`part(NAME)`, with importlib): a `check` without
# --waivers or --baseline imports no waiver, baseline, matrix-writing, catalogue, estate-question,
# plan or campaign code (the two last import the solver's side: waves.plans, waves.place).
PARTS = {
    "waivers": "eval.waivers",  # --waivers
    "baseline": "eval.baseline",  # --baseline
    "stream": "report.stream",  # a matrix, written as it is evaluated
    "catalogue": "report.catalogue",  # `rules`
    "questions": "waves.questions",  # matrix --guest/--target and --summary, `where`
    "waves": "app.waves",  # `plan`, `place`
    "campaign": "app.campaign",  # `campaign`
}
_PACKAGE = __package__.rpartition(".")[0]  # migcheck


def part(name: str):
    """A part of the run (`PARTS`), imported when first asked for."""
    return import_module(f"{_PACKAGE}.{PARTS[name]}")


# -- stages ------------------------------------------------------------------------------
def format_targets(formats: list[str], output: str | None) -> list[tuple[str, str | None]]:
    """`--format FMT[:FILE]` and `--output FILE` as (format, file or None for stdout)."""
    out = []
    for spec in formats or ["table"]:
        fmt, _, path = spec.partition(":")
        if fmt not in FORMATS:
            raise UsageError(f"{unknown(fmt, list(FORMATS), 'format')}; the formats are {', '.join(FORMATS)}")
        out.append((fmt, path or None))
    if output:
        if len([t for t in out if t[1] is None]) != 1:
            raise UsageError("--output takes one format without a file; write `--format FMT:FILE` for more")
        out = [(fmt, path or output) for fmt, path in out]
    return out


def _options(run: Run) -> None:
    request = run.request
    if not request.reporting:
        return
    run.targets = format_targets(request.formats, request.output)
    if request.fail_on_new and not request.baseline:
        raise UsageError("--fail-on-new needs --baseline REPORT.json")


def _configuration(run: Run) -> None:
    if run.request.config:
        run.config = load_config(run.request.config)


def _packs(run: Run) -> None:
    dirs = list(run.request.rules)
    if run.request.reporting or run.request.output:  # no report (nor answer: `where`, `rules`, `matrix --summary`)
        # may land on another or on an input, before any work
        _check_outputs(run, (run.config.rules if run.config is not None else []) + dirs)
    if run.config is not None:
        run.ruleset = load_rules(run.config.rules + dirs, config=run.config)
    else:
        run.ruleset = load_rules(dirs)


def _check_outputs(run: Run, rule_dirs: list) -> None:
    """`check_outputs` of the run's reports and other files, or of the answer of a command that is not a report
    (`request.output`), against every file it reads."""
    request = run.request
    inputs = {**pack_inputs([builtin_rules_dir(), *rule_dirs]), request.snapshot: "the snapshot",
              request.config: "the configuration", request.waivers: "the waiver file",
              request.baseline: "the baseline", request.plan: "the plan file"}
    outputs = run.targets + written_files(request) if request.reporting else [("output file", request.output)]
    problem = check_outputs(outputs, inputs)
    if problem:
        raise UsageError(problem)


def written_files(request: Request) -> list[tuple[str, str]]:
    """The files a command writes besides its reports, as (what, path): the proposed plan of `place`
    and `campaign`, the estate after a plan (`--emit-snapshot`); checked with the reports."""
    out = []
    place_output = getattr(request.place, "output", None)
    campaign_output = (request.campaign or {}).get("output")
    for what, path in (("plan file", place_output), ("plan file", campaign_output),
                       ("snapshot", request.emit_snapshot)):
        if path:
            out.append((what, path))
    return out


def _snapshot(run: Run) -> None:
    request = run.request
    if request.snapshot is None:
        return
    try:
        run.snapshot = load_snapshot(request.snapshot, Limits(max_bytes=request.max_bytes))
    except LoadError as exc:  # a plan given first, say: named as such, not as its schema errors
        hint = ("give the snapshot first, then the plan: `migcheck plan SNAPSHOT PLAN`" if request.plan else
                "give the inventory snapshot (a file with `snapshot: 1`, its hosts and guests)")
        raise wrong_kind(exc, request.snapshot, "snapshot", request.max_bytes, hint) from None


def _waivers(run: Run) -> None:
    if run.request.waivers:
        # a rule the configuration does not run is no unknown rule: its waiver is not in scope of the run
        known = set(run.ruleset.ids()) | run.ruleset.left_out
        run.waivers = part("waivers").load_waivers(run.request.waivers, known_rules=known, as_of=run.request.as_of,
                                                   not_run=run.ruleset.left_out)


def _baseline(run: Run) -> None:
    if run.request.baseline:
        run.baseline = part("baseline").load_baseline(run.request.baseline)


def _evaluation(run: Run) -> None:
    evaluate = EVALUATIONS.get(run.request.command)
    if evaluate is None or run.snapshot is None:
        return
    run.engine = Engine(run.ruleset, run.snapshot, stop=run.request.stop, waivers=run.waivers)
    run.evaluation = evaluate(run)


def _report(run: Run) -> None:
    if run.evaluation is None or not run.request.reporting:
        return

    request, ev, snapshot = run.request, run.evaluation, run.snapshot
    marks = None
    streamed = ev.chunks is not None  # baseline marks, waiver notes and verdict come once it is written
    if run.baseline is not None and not streamed:
        marks = _in_run(run, part("baseline").mark_results(ev.results, request.baseline, run.baseline))
    notes = waiver_notes(run) if not streamed else []
    manifest = build_manifest(rule_pack_sha256=run.ruleset.digest, rules=len(run.ruleset.rules),
                              snapshot_sha256=snapshot.doc.sha256, waivers_path=request.waivers,
                              config_path=request.config, fail_on=run.fail_on, waivers=run.waivers,
                              config_doc=getattr(run.config, "doc", None), sarif_category=request.sarif_category,
                              as_of=request.as_of)
    run.report = Report(request.command, ev.verdict or verdict(request.command, ev.results, run.fail_on, ev.cells),
                        ev.results,
                        snapshot_path=snapshot.path, snapshot_sha256=snapshot.doc.sha256, site=snapshot.site,
                        cells=ev.cells, request=ev.detail, rules=run.ruleset.rules, manifest=manifest,
                        fail_on=run.fail_on, waiver_notes=notes, baseline=marks,
                        collected=snapshot.doc.data.get("collected"), source_root=request.source_root,
                        plan=ev.plan, placement=ev.placement, campaign=ev.campaign,
                        limit=request.limit or Report.limit)


def _in_run(run: Run, marks: dict) -> dict:
    """The baseline section of `check`, `matrix`, `audit` and `plan` with only the findings this run evaluated called
    resolved (a check of one pair does not resolve the estate's other findings); the other commands' as they are."""
    command, ev, baseline = run.request.command, run.evaluation, part("baseline")
    if command == "plan" and ev is not None and ev.plan is not None:  # its migrations, and its stages' findings
        return baseline.scoped(marks, baseline.planned(ev.plan.get("migrations", []), len(ev.plan.get("stages", [])),
                                                       set(run.ruleset.ids())))
    if command not in ("check", "matrix", "audit") or run.engine is None:
        return marks
    scope = part("waivers").run_scope(run.engine, command, run.request.mode, ev.guests, ev.targets)
    return baseline.scoped(marks, baseline.evaluated_by(scope, None if command == "audit" else run.request.mode))


def waiver_notes(run: Run) -> list[dict]:
    """The waivers' notes, once the run's results have met them: an unused waiver judged from what the run
    evaluated (its guests and targets), or with `--stale-check` looked for in every command and mode by an
    engine that waives nothing (evaluating them: the cost the option's help names)."""
    request, ev = run.request, run.evaluation
    if run.waivers is None:
        return []
    notes_for_run = part("waivers").notes_for_run
    if request.stale_check:
        plain = Engine(run.ruleset, run.snapshot, stop=request.stop)
        return notes_for_run(run.waivers, plain, request.command, request.mode, request.warn_expiring)
    return notes_for_run(run.waivers, run.engine, request.command, request.mode, request.warn_expiring,
                         stale_check=False, guests=ev.guests, targets=ev.targets)


@record(frozen=True)
class Stage:
    name: str
    run: Callable[[Run], None]
    note: str  # what it does and why it sits where it does


STAGES: tuple[Stage, ...] = (
    Stage("options", _options, "report formats and --fail-on-new checked before any file is read"),
    Stage("configuration", _configuration, "--config read first: it names extra packs"),
    Stage("packs", _packs, "packs parsed, checked and compiled once; the configuration then applied "
                           "to the compiled rule set"),
    Stage("snapshot", _snapshot, "the snapshot loaded, validated and indexed"),
    Stage("waivers", _waivers, "after packs: waivers name rule ids"),
    Stage("baseline", _baseline, "before evaluation: a bad baseline costs nothing"),
    Stage("evaluation", _evaluation, "the command's evaluation; waivers attached as results are made"),
    Stage("report", _report, "a complete report: verdict, manifest, waiver notes, baseline marks"),
)


def run(request: Request, until: str | None = None) -> Run:
    """Run the stages in order (up to and including `until`); raise `UsageError`,
    `LoadError` or `RuleError` for bad invocations and inputs."""
    state = Run(request)
    # the cycle collector paused while the inputs are read (a cached pack's thousands of nodes and the closures
    # compiled from them, the snapshot): all of it made and kept, none of it garbage, which it would scan again
    # and again (a third of a warm `check` of a small estate); then frozen (`gc.freeze`: left out of every
    # later scan) for the evaluation, which runs with the collector as before; let go of when the run ends
    collecting = gc.isenabled()
    gc.disable()
    try:
        for stage in STAGES:
            if stage.name == "evaluation" and collecting:
                gc.freeze()
                gc.enable()
            with TIMINGS.stage(stage.name):
                stage.run(state)
            if stage.name == until:
                break
    finally:
        if collecting:
            gc.enable()
            gc.unfreeze()
    return state


# -- evaluations of the reporting commands ------------------------------------------------
def _audit(run: Run) -> Evaluation:
    return Evaluation(run.engine.audit())


def find_pair(snapshot, guest: str, target: str) -> tuple[dict, dict]:
    # GUEST and TARGET swapped (names in any Unicode spelling, as the snapshot compares them)
    swapped = snapshot.host_named(guest) is not None and snapshot.guest_named(target) is not None
    g = guest_named(snapshot, guest, f"write the guest first: `check SNAPSHOT {target} {guest}`" if swapped else
                    "give GUEST TARGET: the guest to move, then the VSP to move it to")
    t = host_named(snapshot, target, f"the target is the VSP to move `{guest}` to")
    if g["host"] == t["name"]:
        raise UsageError(f"guest `{guest}` is already on `{target}`; choose another target")
    return g, t


def _check(run: Run) -> Evaluation:
    request = run.request
    guest, target = find_pair(run.snapshot, request.guest, request.target)
    detail = {"guest": guest["name"], "source": guest["host"], "target": target["name"], "mode": request.mode,
              "stop": request.stop}
    return Evaluation(run.engine.check(guest, target, request.mode), detail=detail, guests=[guest], targets=[target])


def subset(run: Run) -> tuple[list[dict] | None, list[dict] | None]:
    """The guests and targets `--guest`/`--target` select (None: all); `UsageError` when one matches nothing."""

    request = run.request
    if not request.guest_globs and not request.target_globs:
        return None, None
    questions = part("questions")
    try:
        return (questions.select(run.snapshot.guests, request.guest_globs, "guest"),
                questions.select(run.snapshot.hosts, request.target_globs, "target"))
    except questions.NoMatch as exc:
        raise UsageError(str(exc)) from None


def _matrix(run: Run) -> Evaluation:
    """Nothing evaluated yet: the outputs pull the matrix guest by guest (`write_outputs`)."""
    guests, targets = subset(run)
    return Evaluation([], cells=[], chunks=run.engine.iter_matrix(run.request.mode, guests=guests,
                                                                  targets=targets), guests=guests, targets=targets)


def _plan(run: Run) -> Evaluation:
    return part("waves").plan_evaluation(run)


def _place(run: Run) -> Evaluation:
    return part("waves").place_evaluation(run)


def _campaign(run: Run) -> Evaluation:
    return part("campaign").campaign_evaluation(run)


EVALUATIONS: dict[str, Callable[[Run], Evaluation]] = {"audit": _audit, "check": _check, "matrix": _matrix,
                                                       "plan": _plan, "place": _place, "campaign": _campaign}


# -- questions of the estate (estate.py) ---------------------------------------------------
def matrix_summary(request: Request, fmt: str) -> tuple[str, int]:
    """`matrix --summary`: the counts per guest and per target as text or JSON, and the exit code
    the full matrix would have."""

    run_ = run(request, until="waivers")
    guests, targets = subset(run_)
    engine = Engine(run_.ruleset, run_.snapshot, stop=request.stop, waivers=run_.waivers)
    matrix = engine.matrix_of(request.mode, guests, targets)
    questions = part("questions")
    per_guest, per_target = questions.summarize_matrix(matrix)
    return (questions.render_summary(run_.snapshot, request.mode, per_guest, per_target, fmt),
            matrix.exit_code(run_.fail_on))


def where(request: Request, fmt: str) -> tuple[str, int]:
    """`where SNAPSHOT GUEST`: every other VSP ranked, as text or JSON, and the exit code."""

    run_ = run(request, until="waivers")
    guest = guest_named(run_.snapshot, request.guest, "`where` takes a guest and ranks the VSPs it could go to")
    _, targets = subset(run_)
    engine = Engine(run_.ruleset, run_.snapshot, stop=request.stop, waivers=run_.waivers)
    questions = part("questions")
    destinations = questions.where_to(engine, guest, request.mode, targets)
    return (questions.render_where(run_.snapshot, guest, request.mode, destinations, fmt),
            questions.where_exit(destinations))


def write_text(path: str | None, text: str) -> None:
    """One text output to `path` (None or `-`: standard output), as reports are written."""

    try:
        write_output(path, text)
    except OutputError as exc:
        raise UsageError(str(exc)) from None


# -- outputs of a reporting run ----------------------------------------------------------
def write_outputs(run: Run, color: bool = False, width: int | None = None) -> None:
    """Render the report in every requested format: to its file (atomically when it is a regular
    file) or to standard output (`-`, `/dev/stdout` or no file), there coloured when `color` and laid
    out for `width` columns (None: the fixed layout of pipes and files)."""

    with TIMINGS.stage("outputs"):
        _write_outputs(run, color, width)


def _write_outputs(run: Run, color: bool, width: int | None) -> None:
    if run.evaluation is not None and run.evaluation.chunks is not None:
        _write_streamed(run, color, width)
        return
    for fmt, path in run.targets:
        try:
            if path is None or path in ("-", "/dev/stdout"):
                text = render(run.report, fmt, color=color and fmt == "table", width=width)
                if fmt in ("csv", "csv-cells") and is_terminal(sys.stdout):  # shown, not kept: controls escaped
                    text = csv_terminal_text(text)
                write_output(None, text)
            else:
                write_output(path, render(run.report, fmt))
        except OutputError as exc:
            raise UsageError(str(exc)) from None


def _write_streamed(run: Run, color: bool, width: int | None) -> None:
    """A matrix: every output opened (files atomically), fed guest by guest in one pass, then
    completed with what only the whole run knows (verdict, waiver notes, baseline)."""


    request = run.request

    def finish(tally) -> tuple[list, dict | None]:
        notes = waiver_notes(run)
        marks = _in_run(run, tally.baseline(request.baseline)) if run.baseline is not None else None
        run.final = run.report.completed(Tail(tally.verdict(), tally.summary(), notes, marks))  # the headline's
        return notes, marks
    guests = len({g["name"] for g in run.snapshot.guests})
    stream = part("stream")
    progress = stream.Progress(guests, sys.stderr is not None and sys.stderr.isatty() and not request.quiet)
    try:
        with ExitStack() as stack:
            writers = []
            spools = None  # the helper's spool files (`--jobs`): beside the first report written to a file
            for fmt, path in run.targets:
                to_stdout = path is None or path in (STDOUT, "/dev/stdout")
                out = stack.enter_context(open_output(None if to_stdout else path))
                regular = not to_stdout and (os.path.isfile(path) or not os.path.exists(path))
                spool = os.path.dirname(os.path.abspath(path)) if regular else None  # JSON, JUnit: beside it
                spools = spools or spool
                writers.append(stream.writer_for(fmt, run.report, out, color=color and to_stdout and fmt == "table",
                                                 width=width if to_stdout else None, spool_dir=spool))
            run.tally = stream.write_matrix(run.report, run.evaluation.chunks, writers, progress=progress,
                                            baseline=run.baseline, finish=finish, jobs=jobs(run), spool_dir=spools)
    except OutputError as exc:
        raise UsageError(str(exc)) from None


SPLIT_PAIRS = 250_000  # a matrix of this many pairs or more is written by two processes where it pays


def jobs(run: Run) -> int:
    """The processes that write a matrix: `--jobs`; by default two on a machine with two cores or more for a matrix
    of `SPLIT_PAIRS` pairs or more when no report of the run is JSON, else one. Measured at 200 x 10,000
    (`bench_reports`, two runs): JSON Lines, CSV and JUnit took 0.9 to 1.3 times the CPU of one process for a fifth
    to two fifths less wall time; JSON took 1.4 to 1.6 times the CPU for 4 to 11% less (its second share's cells are
    spooled and copied too, where one process keeps them as rows of labels)."""
    if run.request.jobs is not None:
        return run.request.jobs
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    chunks = run.evaluation.chunks
    pairs = len(chunks.guests) * len(chunks.matrix.targets) if hasattr(chunks, "matrix") else 0
    writes_json = any(fmt == "json" for fmt, _ in run.targets)
    return 2 if cores >= 2 and pairs >= SPLIT_PAIRS and not writes_json else 1


# -- the other commands ------------------------------------------------------------------
def catalogue(request: Request, fmt: str) -> str:
    """`migcheck rules`: the loaded rules (with the site configuration applied)."""

    return part("catalogue").render_catalogue(run(request, until="packs").ruleset, fmt)


def validate(path: str, max_bytes: int = DEFAULT_MAX_BYTES):
    """`migcheck validate`: the loaded snapshot, or `LoadError` with schema and integrity problems."""

    snapshot = load_snapshot(path, Limits(max_bytes=max_bytes))
    problems = snapshot.integrity_report()
    if problems:
        raise LoadError(problems)
    return snapshot


def lint(dirs: list[str], no_builtin: bool = False) -> tuple[int, list]:
    """`migcheck lint`: check packs (beside the built-in one, so ids cannot clash; a copy of the
    built-in pack replaces it); the number of rules checked in `dirs` and the warnings, or `RuleError`."""


    builtin, chosen = packs_under_test(dirs, no_builtin)
    paths = [Path(real_path(d)) for d in chosen]  # realpath: a symbolic link loop is not an exception
    ruleset = load_rules(paths, builtin=builtin)
    count = sum(1 for r in ruleset.rules if any(Path(r.span.file).resolve().is_relative_to(d) for d in paths))
    return count, ruleset.warnings


def main(argv: list[str] | None = None) -> int:
    """`python -m migcheck.pipeline --stages`: the stages, in order."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["--stages"]:
        print("usage: python -m migcheck.pipeline --stages", file=sys.stderr)
        return EXIT_BAD_INPUT
    for n, stage in enumerate(STAGES, 1):
        print(f"{n}. {stage.name:<14} {stage.note}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
