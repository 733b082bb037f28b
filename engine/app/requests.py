"""What a command is asked and what its run builds: `Request` (explicit values, no argparse
namespace), `Run` (the state the pipeline's stages build), `Evaluation` (what a command's
evaluation produced), and the errors a command reports (`UsageError`, `InternalError`)."""

from __future__ import annotations

import fnmatch

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..core.records import Factory, record
from ..core.diagnostics import InternalError, UsageError  # noqa: F401  (re-exported)
from ..core.results import Result
from ..core.verdicts import EXIT_BAD_INPUT, EXIT_EVAL_ERROR, EXIT_FINDINGS, EXIT_OK, exit_code, problems  # noqa: F401
from ..core.vocabulary import ERROR_SEVERITY
from ..core.words import did_you_mean
from ..files.document import DEFAULT_MAX_BYTES

if TYPE_CHECKING:  # named in annotations only: `validate`, `fmt`, a usage error import no engine for them
    from ..eval.engine import Engine
    from ..packs.ruleset import RuleSet


def unknown(name: str, known: list[str], what: str) -> UsageError:
    hint = did_you_mean(name, known)
    return UsageError(f"unknown {what} `{name}`" + (f"; {hint}" if hint else ""))


def must_match(pattern: str | None, known: list[str], what: str, option: str) -> None:
    """A glob option (`--guest`, `--to`, `--keep`) that matches no name of the snapshot is a bad invocation, as
    `matrix --guest` makes it: a typo (`--keep wbe1`) otherwise selects nothing and the run goes on."""
    if pattern is not None and not any(fnmatch.fnmatchcase(name, pattern) for name in known):
        hint = did_you_mean(pattern, known)
        raise UsageError(f"{option}: no {what} matches `{pattern}`" + (f"; {hint}" if hint else ""))


@record
class Request:
    """Everything a command was asked to do, in explicit values (no argparse namespace)."""

    command: str
    snapshot: str | None = None
    rules: list[str] = Factory(list)
    config: str | None = None
    waivers: str | None = None
    fail_on: str | None = None
    formats: list[str] = Factory(list)  # "FMT" or "FMT:FILE"
    output: str | None = None
    baseline: str | None = None
    fail_on_new: bool = False
    warn_expiring: int | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    guest: str | None = None  # check
    target: str | None = None  # check
    mode: str | None = None  # check, matrix, explain
    stop: bool = False  # check, matrix, explain
    rule: str | None = None  # explain
    subject: list[str] = Factory(list)  # explain: host, guest, or guest and target
    reporting: bool = True  # audit, check, matrix: a report is written
    guest_globs: list[str] = Factory(list)  # matrix: only these guests (shell patterns)
    target_globs: list[str] = Factory(list)  # matrix, where: only these targets
    source_root: str | None = None  # SARIF's %SRCROOT%
    limit: int | None = None  # the table's findings before it groups them (report.Report.limit)
    quiet: bool = False  # no headline (every report to a file) and no progress on stderr
    verbose: bool = False  # -v: also say which configuration file was used
    config_source: str | None = None  # how `config` was found: --config, MIGCHECK_CONFIG, or upward from a folder
    sarif_category: str | None = None  # SARIF: the run's automationDetails.id (manifest `sarif_category`)
    jobs: int | None = None  # matrix: processes that write it (None: `pipeline.jobs` decides)
    plan: str | None = None  # plan: the plan file; explain: --plan
    step: int | None = None  # explain: --step, a migration of --plan
    emit_snapshot: str | None = None  # plan: write the estate after the plan there
    place: object = None  # place: its selection and solver options (`wave.PlaceOptions`)
    campaign: dict | None = None  # campaign: its options (`waves.campaign.CampaignOptions` keywords)
    as_of: object = None  # --as-of: the `datetime.date` waivers are judged on (None: today)
    stale_check: bool = False  # --stale-check: unused waivers looked for in every command and mode (costly)


@record
class Evaluation:
    """What a command's evaluation produced."""

    results: list[Result]
    cells: list | None = None  # matrix
    detail: dict | None = None  # check: guest, source, target, mode, stop
    chunks: Iterator | None = None  # matrix: (cells, results) per guest, written as they come (report.stream)
    plan: dict | None = None  # plan, place: the plan's migrations and stages with their verdicts
    placement: dict | None = None  # place: what the solver proposed, the guests that fit nowhere
    campaign: dict | None = None  # campaign: per VSP its moves, or what stops it (`Campaign.to_json`)
    verdict: str | None = None  # plan, place: the verdict the evaluation decided (else `verdicts.report_verdict`)
    # the guests and targets the run evaluated (None: every one), what unused waivers are judged on
    guests: list | None = None
    targets: list | None = None


@record
class Run:
    """The state the stages build, in stage order."""

    request: Request
    targets: list[tuple[str, str | None]] = Factory(list)
    config: object = None
    ruleset: RuleSet | None = None
    snapshot: object = None
    waivers: object = None
    baseline: dict | None = None
    engine: Engine | None = None
    evaluation: Evaluation | None = None
    report: object = None
    tally: object = None  # a streamed report's counts (report.stream.Tally), once written
    final: object = None  # a streamed report completed (verdict, counts, waiver notes), once written

    @property
    def fail_on(self) -> str:
        if self.request.fail_on:
            return self.request.fail_on
        if self.config is not None and self.config.fail_on:
            return self.config.fail_on
        return ERROR_SEVERITY

    def exit_code(self) -> int:
        """0, 1 (failures at or above --fail-on, for --fail-on-new new ones only; for `place`, a guest
        that fits nowhere when nothing else fails) or 3 (errors): `verdicts.exit_code`."""
        only_new = self.baseline is not None and self.request.fail_on_new
        if self.tally is not None:
            return self.tally.exit_code(only_new=only_new)
        results = self.report.results
        failing, errors = problems(results, self.fail_on)
        if only_new:  # new failures only; an error stays unknown whatever the baseline says (as with a waiver)
            failing = problems([r for r in results if r.baseline == "new"], self.fail_on)[0]
        placement = self.evaluation.placement if self.evaluation is not None else None
        campaign = self.evaluation.campaign if self.evaluation is not None else None
        unplaced = bool(placement and placement["unplaced"]) or bool(campaign and campaign["stopped"])
        return exit_code(failing, errors, unplaced=unplaced)
