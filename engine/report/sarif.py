"""SARIF 2.1.0 report: for GitHub code scanning and other SARIF consumers.

Each rule is a reportingDescriptor with its real id, title, `helpUri` (its entry in
docs/rules.md of the project's repository) and `help` in Markdown with its fix; each failed or
errored result is located in the snapshot file, relative to `%SRCROOT%` (the working
directory, or `--source-root`), so code scanning maps it to the file; a file outside that
root keeps an absolute `file:` URI. A waived result carries an accepted external
suppression; with `--baseline` each result has its `baselineState`.
`automationDetails.id` names the command, snapshot (and, for `check`, the migration), so
uploads of different runs do not replace each other's alerts.

GitHub accepts at most 25,000 results per run: a larger matrix is summarised per rule and
guest (one result naming the targets it fails on), the full detail left to JSON; a run still
too large keeps the first results and says how many it left out.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import PurePosixPath
from urllib.parse import quote

from .. import __version__
from ..core.vocabulary import ERROR_SEVERITY, FAIL, INFO, PROBLEMS, WARNING
from ..lang.unparse import to_text
from .common import markdown_anchor
from .model import REPOSITORY_URL

MAX_RESULTS = 25_000  # GitHub code scanning's limit of results per run
SRCROOT = "%SRCROOT%"
# SARIF's own words, spelled like some of migcheck's: a result's or notification's `level`, and the
# `kind` of a result that failed (or whose rule could not be evaluated).
LEVEL_ERROR, LEVEL_WARNING, LEVEL_NOTE = "error", "warning", "note"
KIND_FAIL = "fail"
_LEVEL = {ERROR_SEVERITY: LEVEL_ERROR, WARNING: LEVEL_WARNING, INFO: LEVEL_NOTE}  # severity -> level


def help_uri(rule_id: str) -> str:
    return f"{REPOSITORY_URL}/blob/main/docs/rules.md#{markdown_anchor(rule_id)}"


def _template_text(template) -> str:
    """A fix template as its rule file writes it, holes as `{expr}`."""
    if template is None:
        return ""

    return "".join(p if isinstance(p, str) else "{" + to_text(p) + "}" for p in template.parts)


def _descriptor(rule) -> dict:
    fix = _template_text(rule.rule.get("fix")) if getattr(rule, "rule", None) is not None else ""
    text = f"{rule.title}.\nSource: {rule.cite}" + (f"\nFix: {fix}" if fix else "")
    markdown = f"**{rule.title}**\n\nSource: {rule.cite}" + (f"\n\n**Fix:** {fix}" if fix else "") + \
        f"\n\nSeverity `{rule.severity}`, subject `{rule.subject}`. [Rule catalogue]({help_uri(rule.id)})"
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": f"{rule.title}. Source: {rule.cite}"},
        "helpUri": help_uri(rule.id),
        "help": {"text": text, "markdown": markdown},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"tags": list(rule.tags), "cite": rule.cite, "subject": rule.subject},
    }


def artifact_location(path: str, root: str | None) -> dict:
    """`{"uri", "uriBaseId"}` relative to `root` when the file is under it, else an absolute `file:` URI."""
    root = os.path.abspath(root or os.getcwd())
    absolute = os.path.abspath(path)
    rel = os.path.relpath(absolute, root)
    if rel != os.pardir and not rel.startswith(os.pardir + os.sep):
        return {"uri": quote(PurePosixPath(*rel.split(os.sep)).as_posix()), "uriBaseId": SRCROOT}
    return {"uri": "file://" + quote(PurePosixPath(absolute).as_posix())}


def _result(r, index: dict, root: str | None, baseline: bool) -> dict:
    text = r.message if r.status == FAIL else f"rule could not be evaluated: {r.message}"
    if r.fix and r.status == FAIL:
        text += f" Fix: {r.fix}"
    result = {
        "ruleId": r.rule,
        "level": _LEVEL[r.severity] if r.status == FAIL else LEVEL_ERROR,
        "kind": KIND_FAIL,
        "message": {"text": text},
        "partialFingerprints": {"migcheckSubject/v1": r.fingerprint},
        "properties": {"status": r.status, "subject": r.subject, "item": r.item, "fix": r.fix, "cite": r.cite},
    }
    if r.rule in index:
        result["ruleIndex"] = index[r.rule]
    if r.location:
        result["locations"] = [_location(r.location, root)]
    if r.waiver:
        w = r.waiver
        result["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": f"{w['reason']} (owner {w['owner']}, expires {w['expires']}"
                                                    + (f", ticket {w['ticket']}" if w.get("ticket") else "") + ")"}]
    if baseline and r.baseline:
        result["baselineState"] = r.baseline
    return result


def _location(location: tuple, root: str | None) -> dict:
    return {"physicalLocation": {"artifactLocation": artifact_location(location[0], root),
                                 "region": {"startLine": location[1], "startColumn": location[2]}}}


class _Group:
    """The migration results of one rule, guest and status, summarised into one SARIF result."""

    __slots__ = ("first", "count", "targets", "waived", "states")

    def __init__(self, first):
        self.first, self.count, self.targets, self.waived, self.states = first, 0, [], None, set()

    def add(self, r) -> None:
        self.count += 1
        target = r.subject["target"]
        if not self.targets or self.targets[-1] != target:  # a guest's results come in target order
            self.targets.append(target)
        if r.waiver:
            self.waived = (r, 1) if self.waived is None else (self.waived[0], self.waived[1] + 1)
        self.states.add(r.baseline)


def _summarised(loose: list, groups: dict, index: dict, root: str | None, baseline: bool,
                limit: int) -> tuple[list[dict], int]:
    """One result per rule, guest and status for migration results; the others as they are.
    Returns the first `limit` of them (only those are built) and how many there are."""
    total = len(loose) + len(groups)
    out = [_result(r, index, root, baseline) for r in loose[:limit]]
    for (rule_id, guest, status), g in sorted(groups.items(), key=lambda kv: (kv[0][1] or "", kv[0][0], kv[0][2])):
        if len(out) >= limit:
            break
        first = g.first
        targets = sorted(set(g.targets))
        verb = "fails" if status == FAIL else "could not be evaluated"
        text = (f"{guest} {verb} {rule_id} on {len(targets)} target(s) ({first.subject.get('mode')}): "
                + ", ".join(targets) + f". First: {first.message}"
                + (f" Fix: {first.fix}" if first.fix and status == FAIL else "")
                + " (summarised: every result is in the JSON report)")
        fingerprint = hashlib.sha256(f"{rule_id}\0guest={guest}\0{status}\0summary".encode()).hexdigest()[:16]
        result = {
            "ruleId": rule_id,
            "level": _LEVEL[first.severity] if status == FAIL else LEVEL_ERROR,
            "kind": KIND_FAIL,
            "message": {"text": text},
            "partialFingerprints": {"migcheckSubject/v1": fingerprint},
            "properties": {"status": status, "subject": {"guest": guest, "source": first.subject.get("source"),
                                                         "mode": first.subject.get("mode")},
                           "targets": targets, "summarised": g.count},
        }
        if rule_id in index:
            result["ruleIndex"] = index[rule_id]
        if first.location:
            result["locations"] = [_location(first.location, root)]
        if g.waived and g.waived[1] == g.count:
            result["suppressions"] = _result(g.waived[0], index, root, baseline)["suppressions"]
        if baseline:
            result["baselineState"] = "new" if "new" in g.states else "unchanged"
        out.append(result)
    return out, total


def automation_id(report, mode: str | None = None) -> str:
    """`migcheck/COMMAND/SNAPSHOT[/GUEST-TARGET-MODE | /MODE]/`: the category code scanning keeps alerts under."""
    where = artifact_location(report.snapshot_path, report.source_root)["uri"] if report.snapshot_path else "-"
    where = where.removeprefix("file://")
    parts = ["migcheck", report.command, where.strip("/")]
    if report.command == "check" and report.request:
        q = report.request
        parts.append(f"{q['guest']}-{q['target']}-{q['mode']}")
    elif report.cells:
        parts.append(report.cells[0].mode)
    elif mode:  # a streamed matrix: the mode of its first cell
        parts.append(mode)
    return "/".join(parts) + "/"


def render_sarif(report) -> str:
    writer = SarifWriter(report)
    writer.feed((), report.results)
    return json.dumps(writer.document(), indent=2, ensure_ascii=False) + "\n"


class SarifWriter:
    """SARIF of a report whose results may stream (`feed`): it keeps the first 25,001 findings and,
    for migration results, a summary per rule, guest and status (bounded by the snapshot), and
    writes the summaries when there are more than 25,000 findings."""

    def __init__(self, report, out=None):
        self.report, self.out = report, out
        self.problems = 0
        self.kept: list = []
        self.loose: list = []  # findings without a target (guest results): summaries keep them as they are
        self.groups: dict[tuple, _Group] = {}
        self.mode = None

    def feed(self, cells, results, found=None) -> None:
        if self.mode is None and cells:
            self.mode = cells[0].mode
        for r in results:
            if r.status not in PROBLEMS:
                continue
            self.problems += 1
            if len(self.kept) <= MAX_RESULTS:
                self.kept.append(r)
            if "target" in r.subject:
                key = (r.rule, r.subject.get("guest"), r.status)
                group = self.groups.get(key)
                if group is None:
                    group = self.groups[key] = _Group(r)
                group.add(r)
            else:
                self.loose.append(r)

    def finish(self, report) -> None:
        """Write the document piece by piece: json.dumps would hold it whole, in millions of small strings."""
        self.report = report
        pieces, size = [], 0
        for piece in json.JSONEncoder(indent=2, ensure_ascii=False).iterencode(self.document()):
            pieces.append(piece)
            size += len(piece)
            if size > 1 << 20:
                self.out.write("".join(pieces))
                pieces, size = [], 0
        self.out.write("".join(pieces) + "\n")

    def document(self) -> dict:
        report = self.report
        rules = sorted(report.rules, key=lambda r: r.id)
        index = {r.id: i for i, r in enumerate(rules)}
        root = report.source_root
        baseline = report.baseline is not None
        notifications = [{"level": LEVEL_WARNING if n["status"] in ("expired", "stale") else LEVEL_NOTE,
                          "message": {"text": n["message"]}} for n in report.waiver_notes]
        if self.problems > MAX_RESULTS:
            results, total = _summarised(self.loose, self.groups, index, root, baseline, MAX_RESULTS)
            notifications.append({"level": LEVEL_NOTE, "message": {"text": (
                f"{self.problems:,} results are more than the {MAX_RESULTS:,} a SARIF run may carry for code scanning: "
                f"summarised per rule and guest into {total:,}; the JSON report has every one")}})
        else:
            results = [_result(r, index, root, baseline) for r in self.kept]
            total = len(results)
        if total > MAX_RESULTS:
            notifications.append({"level": LEVEL_WARNING, "message": {"text": (
                f"{total - MAX_RESULTS:,} of {total:,} results left out to stay within {MAX_RESULTS:,}; "
                "the JSON report has every one")}})
            results = results[:MAX_RESULTS]
        run = {
            "tool": {"driver": {"name": "migcheck", "version": __version__, "semanticVersion": __version__,
                                "informationUri": REPOSITORY_URL, "rules": [_descriptor(r) for r in rules]}},
            "automationDetails": {"id": automation_id(report, self.mode)},
            "artifacts": [{"location": artifact_location(report.snapshot_path, root),
                           "hashes": {"sha-256": report.snapshot_sha256}}] if report.snapshot_path else [],
            "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
            "results": results,
            "properties": {"command": report.command, "verdict": report.verdict, "manifest": report.manifest,
                           **({"plan": report.plan} if report.plan is not None else {}),
                           **({"placement": report.placement} if report.placement is not None else {})},
        }
        if root is not None:
            run["originalUriBaseIds"] = {SRCROOT: {"uri": "file://" + quote(PurePosixPath(
                os.path.abspath(root)).as_posix().rstrip("/") + "/")}}
        return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [run]}
