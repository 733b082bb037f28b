"""The report model: a `Report` is a command's results and their context, made once by the
pipeline's report stage and never changed; every format is a pure function of it (`formats`).

A streamed matrix knows its verdict, counts, waiver notes and baseline marks only at the end:
its writers are made with the report as it starts, and are handed the report completed with
its `Tail` (`Report.completed`), a new value, before they finish."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from .. import __version__
from ..core.records import Factory, record, replace
from ..core.results import Result, sort_results, summarize
from ..core.vocabulary import ERROR_SEVERITY, REPORT_FORMAT, VERDICTS
from .common import cell_findings

# The project's repository ([project.urls] Repository in pyproject.toml; a test keeps them equal):
# SARIF rules link to their entry in docs/rules.md there.
REPOSITORY_URL = "https://github.com/migcheck/migcheck"


@record(frozen=True)
class Tail:
    """What only the end of a streamed run knows."""

    verdict: str
    summary: dict
    waiver_notes: list[dict] = Factory(list)
    baseline: dict | None = None


@record(frozen=True)
class Report:
    """A record (`core.records`): `records.replace` makes a changed copy."""

    command: str  # audit, check, matrix
    verdict: str
    results: list[Result]
    snapshot_path: str = ""
    snapshot_sha256: str = ""
    site: str | None = None
    cells: list | None = None  # matrix cells
    request: dict | None = None  # check: guest, source, target, mode
    rules: list = Factory(list)  # CompiledRule, for descriptors and catalogues
    manifest: dict = Factory(dict)
    fail_on: str = ERROR_SEVERITY
    waiver_notes: list[dict] = Factory(list)  # expired, stale, expiring waivers
    baseline: dict | None = None  # new / unchanged / resolved against an earlier report
    collected: str | None = None  # the snapshot's `collected` time, as written there
    source_root: str | None = None  # SARIF's %SRCROOT%: an absolute directory (None: the working directory)
    limit: int = 200  # the table lists this many findings, then groups them by rule and guest (`--limit`)
    digest: Any = None  # a streamed matrix: what table, Markdown and HTML show of it (`stream.Digest`)
    plan: dict | None = None  # plan and place: the plan's stages and migrations with their verdicts
    placement: dict | None = None  # place: solver status, objective, guests that fit nowhere
    campaign: dict | None = None  # campaign: per VSP what moves where and why offline, what stops it
    counts: dict | None = None  # a streamed matrix, completed: its summary (its results are not held)

    def __post_init__(self):
        object.__setattr__(self, "results", sort_results(self.results))

    def completed(self, tail: Tail) -> Report:
        """This report with what the end of a streamed run knows."""
        return replace(self, verdict=tail.verdict, counts=tail.summary, waiver_notes=tail.waiver_notes,
                       baseline=tail.baseline)

    def with_verdict(self, verdict: str) -> Report:
        """This report with its verdict decided before its results are written (a streamed JSON head)."""
        return replace(self, verdict=verdict)

    def with_digest(self, digest) -> Report:
        """This report shown from a streamed matrix's digest (table, Markdown, HTML)."""
        return replace(self, digest=digest)

    @cached_property
    def summary(self) -> dict:
        """Counts of the results (computed once: results do not change once the report is made)."""
        if self.counts is not None:
            return self.counts
        out = summarize(self.results)
        if self.cells is not None:
            verdicts = dict.fromkeys(VERDICTS, 0)
            for cell in self.cells:
                verdicts[cell.verdict] += 1
            out["cells"] = verdicts
        return out

    @cached_property
    def cell_findings(self) -> dict:
        """Per (guest, target) of a matrix: blocking rules, warnings, notes, errors (`common.CellFindings`)."""
        if self.digest is not None:
            return self.digest.grid_found
        return cell_findings(self)

    def to_json(self, results: bool = True) -> dict[str, Any]:
        """The JSON report; `results=False`: `results` and a matrix's `cells` as None, for a writer that streams them."""
        out: dict[str, Any] = {
            "tool": {"name": "migcheck", "version": __version__},
            "command": self.command,
            "snapshot": {"path": self.snapshot_path, "sha256": self.snapshot_sha256, "site": self.site,
                         "collected": self.collected},
            "verdict": self.verdict,
            "format": REPORT_FORMAT,
        }
        if self.request is not None:
            out["request"] = self.request
        out["results"] = [r.to_json() for r in self.results] if results else None
        out["summary"] = self.summary
        if not results and self.command == "matrix":
            out["cells"] = None
        elif self.cells is not None:
            found = self.cell_findings
            out["cells"] = [dict(c.to_json(), blocking=found[(c.guest, c.target)].blocking) for c in self.cells]
        if self.plan is not None:
            out["plan"] = self.plan
        if self.placement is not None:
            out["placement"] = self.placement
        if self.campaign is not None:
            out["campaign"] = self.campaign
        if self.waiver_notes:
            out["waivers"] = self.waiver_notes
        if self.baseline is not None:
            out["baseline"] = self.baseline
        if self.manifest:
            out["manifest"] = self.manifest
        return out
