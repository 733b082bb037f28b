"""SARIF 2.1.0 report: for GitHub code scanning and other SARIF consumers.

Each rule is a reportingDescriptor with its real id, title, `helpUri` (its entry in
docs/rules.md of the project's repository) and `help` in Markdown with its fix (the fix's holes
written as placeholders: `<label>`, "the target"); each failed or errored result is located in
the snapshot file, relative to `%SRCROOT%` (the working directory, or `--source-root`), so code
scanning maps it to the file; a file outside that root keeps an absolute `file:` URI, and a
warning notification says so. Control characters of messages are shown as escapes (`\x1b`), as in
every format. A waived result carries an accepted external suppression; with
`--baseline` each result has its `baselineState`.

`automationDetails.id` is the code scanning category: `migcheck/COMMAND/SITE/MODE/` (`check`
adds the migration), never the snapshot's path, so a nightly file name keeps its alerts;
`--sarif-category` (the manifest's `sarif_category`) replaces it.

GitHub accepts 25,000 results per run but keeps only the top 5,000 by severity: a run holds at
most `MAX_RESULTS`. Severities are served in order, errors first: each is written result by
result when it fits in what is left (after the room the lower severities need at the least),
else folded per rule and guest, then per rule and target, then per rule; a notification says
what was folded and that the JSON, JSON Lines and CSV reports have every result.

`failure_sarif` is the SARIF of a run that stopped on its inputs (exit 2): no results, the
problems as notifications, `executionSuccessful: false`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import zlib
from pathlib import PurePosixPath
from urllib.parse import quote

from .. import __version__
from ..core.vocabulary import ERROR_SEVERITY, FAIL, INFO, PROBLEMS, WARNING
from ..lang.unparse import to_text
from .common import code_spans, markdown_anchor, plural, terminal_safe
from .model import REPOSITORY_URL

GITHUB_MAX_GZIP = 10 * 2 ** 20  # "a SARIF file that is larger than the maximum size of 10 MB" (gzipped)
MAX_TAGS = 10  # the tags of a rule GitHub code scanning keeps (a file with more than 20 on a rule is rejected)
MAX_RESULTS = 5_000  # the results per run GitHub code scanning keeps (of the 25,000 it accepts), by severity
SRCROOT = "%SRCROOT%"
# SARIF's own words, spelled like some of migcheck's: a result's or notification's `level`, and the
# `kind` of a result that failed (or whose rule could not be evaluated).
LEVEL_ERROR, LEVEL_WARNING, LEVEL_NOTE = "error", "warning", "note"
KIND_FAIL = "fail"
_LEVEL = {ERROR_SEVERITY: LEVEL_ERROR, WARNING: LEVEL_WARNING, INFO: LEVEL_NOTE}  # severity -> level
LEVELS = (LEVEL_ERROR, LEVEL_WARNING, LEVEL_NOTE)  # the order a run is filled in
# How results are folded when there are too many, finest first: (name, what the notification says)
FOLDS = (("guest", "rule and guest"), ("target", "rule and target"), ("rule", "rule"))
NAMES_SHOWN = 50  # the targets or guests a folded result names (it counts them all)


def help_uri(rule_id: str) -> str:
    return f"{REPOSITORY_URL}/blob/main/docs/rules.md#{markdown_anchor(rule_id)}"


_SUBJECTS = ("guest", "host", "target", "source")


def _placeholder(expr: str) -> str:
    """A fix template's hole as a reader's placeholder: `{target.name}` "the target", `{f.hwpath}` `<hwpath>`."""
    parts = expr.split(".")
    if len(parts) == 2 and parts[0] in _SUBJECTS and parts[1] == "name":
        return f"the {parts[0]}"
    if parts == ["guest", "host"]:
        return "the guest's host"
    if all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p) for p in parts):
        return f"<{parts[-1].replace('_', ' ')}>"
    return "<value>"


def template_text(template) -> str:
    """A fix template with its holes as placeholders (never `{need - have}`)."""
    if template is None:
        return ""
    return "".join(p if isinstance(p, str) else _placeholder(to_text(p)) for p in template.parts)


def _markdown(text: str) -> str:
    """Text for a SARIF Markdown message: `<` and `>` outside code spans escaped (GitHub drops tags)."""
    return "".join(f"`{t}`" if code else t.replace("<", "&lt;").replace(">", "&gt;") for code, t in code_spans(text))


def _descriptor(rule) -> dict:
    fix = template_text(rule.rule.get("fix")) if getattr(rule, "rule", None) is not None else ""
    text = f"{rule.title}.\nSource: {rule.cite}" + (f"\nFix: {fix}" if fix else "")
    markdown = f"**{_markdown(rule.title)}**\n\nSource: {_markdown(rule.cite)}" + \
        (f"\n\n**Fix:** {_markdown(fix)}" if fix else "") + \
        f"\n\nSeverity `{rule.severity}`, subject `{rule.subject}`. [Rule catalogue]({help_uri(rule.id)})"
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": f"{rule.title}. Source: {rule.cite}"},
        "helpUri": help_uri(rule.id),
        "help": {"text": text, "markdown": markdown},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        # GitHub rejects a file with more than 20 tags on a rule and keeps 10: the first 10
        "properties": {"tags": list(rule.tags)[:MAX_TAGS], "cite": rule.cite, "subject": rule.subject},
    }


def _inside(path: str, root: str | None) -> tuple[str, str | None]:
    """(absolute path, path relative to `root` or None when it is outside)."""
    root = os.path.abspath(root or os.getcwd())
    absolute = os.path.abspath(path)
    rel = os.path.relpath(absolute, root)
    return absolute, None if rel == os.pardir or rel.startswith(os.pardir + os.sep) else rel


def artifact_location(path: str, root: str | None) -> dict:
    """`{"uri", "uriBaseId"}` relative to `root` when the file is under it, else an absolute `file:` URI."""
    absolute, rel = _inside(path, root)
    if rel is not None:
        return {"uri": quote(PurePosixPath(*rel.split(os.sep)).as_posix()), "uriBaseId": SRCROOT}
    return {"uri": "file://" + quote(PurePosixPath(absolute).as_posix())}


class _Locator:
    """Locations of one run, each file's artifact location made once; remembers the files outside the root."""

    def __init__(self, root: str | None):
        self.root = root
        self.files: dict[str, dict] = {}
        self.outside: list[str] = []

    def artifact(self, path: str) -> dict:
        found = self.files.get(path)
        if found is None:
            found = self.files[path] = artifact_location(path, self.root)
            if "uriBaseId" not in found:
                self.outside.append(path)
        return found

    def location(self, location: tuple) -> dict:
        return {"physicalLocation": {"artifactLocation": self.artifact(location[0]),
                                     "region": {"startLine": location[1], "startColumn": location[2]}}}

    def notifications(self) -> list[dict]:
        root = os.path.abspath(self.root or os.getcwd())
        return [{"level": LEVEL_WARNING, "message": {"text": (
            f"`{path}` is outside the source root `{root}`: its locations are absolute file: URIs, which code "
            "scanning cannot map to a file of the repository; run from the repository or pass --source-root")}}
            for path in self.outside]


def _level(r) -> str:
    return _LEVEL[r.severity] if r.status == FAIL else LEVEL_ERROR


def _suppressions(w: dict) -> list[dict]:
    return [{"kind": "external", "status": "accepted",
             "justification": f"{w['reason']} (owner {w['owner']}, expires {w['expires']}"
                              + (f", ticket {w['ticket']}" if w.get("ticket") else "") + ")"}]


def _result(r, index: dict, where: _Locator, baseline: bool) -> dict:
    text = r.message if r.status == FAIL else f"rule could not be evaluated: {r.message}"
    if r.fix and r.status == FAIL:
        text += f" Fix: {r.fix}"
    properties = {"status": r.status, "subject": r.subject, "item": r.item, "fix": r.fix, "cite": r.cite}
    result = {
        "ruleId": r.rule,
        "level": _level(r),
        "kind": KIND_FAIL,
        "message": {"text": terminal_safe(text)},
        "partialFingerprints": {"migcheckSubject/v1": r.fingerprint},
        "properties": properties,
    }
    if r.rule in index:
        result["ruleIndex"] = index[r.rule]
    if r.location:
        result["locations"] = [where.location(r.location)]
    if r.waiver:
        result["suppressions"] = _suppressions(r.waiver)
    if baseline and r.baseline:
        result["baselineState"] = r.baseline
    return result


def _fold_key(r, fold: str) -> tuple[str, str | None]:
    """(what a folded result is about, the name it lists): per guest its targets, per target its guests."""
    s = r.subject
    own = s.get("guest") or s.get("host") or "snapshot"
    if fold == "rule":
        return "", s.get("guest")
    if "target" not in s:
        return own, None
    return (own, s["target"]) if fold == "guest" else (s["target"], own)


class _Group:
    """The results of one rule and status folded into one SARIF result (per guest, target, or rule)."""

    __slots__ = ("first", "count", "names", "distinct", "last", "waived", "states")

    def __init__(self, first):
        self.first, self.count, self.names, self.distinct, self.last = first, 0, [], 0, None
        self.waived, self.states = 0, set()

    def add(self, r, name: str | None) -> None:
        self.count += 1
        if name is not None and name != self.last:  # a guest's results come in target order, guests in order
            self.last = name
            self.distinct += 1
            if len(self.names) < NAMES_SHOWN:
                self.names.append(name)
        if r.waiver:
            self.waived += 1
        self.states.add(r.baseline)


def _folded(fold: str, key: tuple, g: _Group, index: dict, where: _Locator, baseline: bool) -> dict:
    rule_id, about, status = key
    first = g.first
    if g.count == 1:
        return _result(first, index, where, baseline)
    names = sorted(g.names)
    listed = ", ".join(names) + (f" and {g.distinct - len(names):,} more" if g.distinct > len(names) else "")
    verb = "fails" if status == FAIL else "could not be evaluated by"
    mode = first.subject.get("mode")
    if fold == "rule":
        head = f"{rule_id}: {g.count:,} results" + (f" on {plural(g.distinct, 'guest')}: {listed}" if names else "")
    elif fold == "guest" and names:
        head = f"{about} {verb} {rule_id} on {plural(g.distinct, 'target')} ({mode}): {listed}"
    elif names:
        head = f"{plural(g.distinct, 'guest')} {'fail' if status == FAIL else 'could not be evaluated by'} " \
               f"{rule_id} on {about} ({mode}): {listed}"
    else:
        head = f"{about} {verb} {rule_id} ({plural(g.count, 'result')})"
    text = (f"{head}. First: {first.message}" + (f" Fix: {first.fix}" if first.fix and status == FAIL else "")
            + f" (folded per {dict(FOLDS)[fold]}: every result is in the JSON, JSON Lines and CSV reports)")
    fingerprint = hashlib.sha256(
        (f"{rule_id}\0guest={about}\0{status}\0summary" if fold == "guest" else
         f"{rule_id}\0{fold}={about}\0{status}\0summary").encode()).hexdigest()[:16]
    subject = {"guest": about} if fold == "guest" else {"target": about} if fold == "target" else {}
    subject.update({k: first.subject[k] for k in ("source", "mode") if fold == "guest" and k in first.subject})
    properties = {"status": status, "subject": subject, "folded": fold, "summarised": g.count}
    properties["targets" if fold == "guest" else "guests"] = names
    result = {"ruleId": rule_id, "level": _level(first), "kind": KIND_FAIL, "message": {"text": terminal_safe(text)},
              "partialFingerprints": {"migcheckSubject/v1": fingerprint}, "properties": properties}
    if rule_id in index:
        result["ruleIndex"] = index[rule_id]
    if first.location:
        result["locations"] = [where.location(first.location)]
    if g.waived == g.count:
        result["suppressions"] = _suppressions(first.waiver)
    if baseline:
        result["baselineState"] = "new" if "new" in g.states else "unchanged"
    return result


class _Level:
    """The findings of one SARIF level as they stream: the first ones as they are, and every fold of them."""

    def __init__(self):
        self.count = 0
        self.kept: list = []
        self.groups: dict[str, dict[tuple, _Group]] = {fold: {} for fold, _ in FOLDS}

    def add(self, r) -> None:
        self.count += 1
        if len(self.kept) <= MAX_RESULTS:
            self.kept.append(r)
        for fold, groups in self.groups.items():
            about, name = _fold_key(r, fold)
            key = (r.rule, about, r.status)
            group = groups.get(key)
            if group is None:
                group = groups[key] = _Group(r)
            group.add(r, name)

    def size(self, fold: str | None) -> int:
        return self.count if fold is None else len(self.groups[fold])

    def results(self, fold: str | None, index: dict, where: _Locator, baseline: bool, limit: int) -> list[dict]:
        if fold is None:
            return [_result(r, index, where, baseline) for r in self.kept[:limit]]
        groups = sorted(self.groups[fold].items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2]))[:limit]
        return [_folded(fold, key, g, index, where, baseline) for key, g in groups]


def _category(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(text)).strip("-") or "-"


def automation_id(report, mode: str | None = None) -> str:
    """The code scanning category: `migcheck/COMMAND/SITE[/GUEST-TARGET-MODE | /MODE]/`, or `--sarif-category`."""
    given = report.manifest.get("sarif_category") if report.manifest else None
    if given:
        return given if given.endswith("/") else given + "/"
    parts = ["migcheck", report.command, _category(report.site or "default")]
    if report.command == "check" and report.request:
        q = report.request
        parts.append(_category(f"{q['guest']}-{q['target']}-{q['mode']}"))
    elif report.cells:
        parts.append(report.cells[0].mode)
    elif mode:  # a streamed matrix: the mode of its first cell
        parts.append(mode)
    return "/".join(parts) + "/"


def render_sarif(report) -> str:
    writer = SarifWriter(report)
    writer.feed((), report.results)
    text = json.dumps(writer.document(), indent=2, ensure_ascii=False) + "\n"
    if len(text) > GITHUB_MAX_GZIP:  # (gzip is never much larger than its text: only then is it counted)
        _too_large(len(zlib.compress(text.encode(), 1)))
    return text


def _too_large(packed: int) -> None:
    if packed > GITHUB_MAX_GZIP:  # (only names of megabytes get there: a run's results are at most 5,000)
        print(f"migcheck: warning: the SARIF report is {packed / 2 ** 20:,.1f} MB gzipped, more than GitHub code "
              f"scanning takes ({GITHUB_MAX_GZIP // 2 ** 20} MB): upload the run of fewer guests (`--guest GLOB`)",
              file=sys.stderr)


def _driver(rules: list) -> dict:
    return {"driver": {"name": "migcheck", "version": __version__, "semanticVersion": __version__,
                       "informationUri": REPOSITORY_URL, "rules": [_descriptor(r) for r in rules]}}


def _document(run: dict) -> dict:
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [run]}


class SarifWriter:
    """SARIF of a report whose results may stream (`feed`): per level it keeps the first 5,001 findings
    and every fold of them (bounded by the snapshot), and picks what fits when it writes (`document`)."""

    def __init__(self, report, out=None):
        self.report, self.out = report, out
        self.levels = {level: _Level() for level in LEVELS}
        self.mode = None

    def feed(self, cells, results, found=None) -> None:
        if self.mode is None and cells:
            self.mode = cells[0].mode
        levels = self.levels
        for r in results:
            if r.status in PROBLEMS:
                levels[_level(r)].add(r)

    def finish(self, report) -> None:
        """Write the document piece by piece: json.dumps would hold it whole, in many small strings; its gzipped size
        counted as it goes (GitHub takes at most `GITHUB_MAX_GZIP` bytes of it, gzipped)."""
        self.report = report
        packer, packed = zlib.compressobj(1, zlib.DEFLATED, 31), 0
        pieces, size = [], 0
        for piece in json.JSONEncoder(indent=2, ensure_ascii=False).iterencode(self.document()):
            pieces.append(piece)
            size += len(piece)
            if size > 1 << 20:
                chunk = "".join(pieces)
                self.out.write(chunk)
                packed += len(packer.compress(chunk.encode()))
                pieces, size = [], 0
        chunk = "".join(pieces) + "\n"
        self.out.write(chunk)
        packed += len(packer.compress(chunk.encode())) + len(packer.flush())
        _too_large(packed)

    def _results(self, index: dict, where: _Locator, baseline: bool) -> tuple[list[dict], list[dict]]:
        """The run's results, errors first, each level as fine as what is left allows; and the notifications."""
        results, notes = [], []
        present = [(name, level) for name, level in self.levels.items() if level.count]
        for i, (name, level) in enumerate(present):
            room = MAX_RESULTS - len(results) - sum(lower.size("rule") for _, lower in present[i + 1:])
            fold = next((f for f in (None, *(f for f, _ in FOLDS)) if level.size(f) <= room), "rule")
            chosen = level.results(fold, index, where, baseline, max(room, 0))
            results += chosen
            if fold is not None:
                notes.append({"level": LEVEL_NOTE, "message": {"text": (
                    f"{plural(level.count, f'{name}-level result')} folded per {dict(FOLDS)[fold]} into "
                    f"{len(chosen):,}: code scanning keeps {MAX_RESULTS:,} results per run; every result is in "
                    "the JSON, JSON Lines and CSV reports (--format json:FILE)")}})
            if len(chosen) < level.size(fold):
                notes.append({"level": LEVEL_WARNING, "message": {"text": (
                    f"{level.size(fold) - len(chosen):,} of {level.size(fold):,} {name}-level results left out to "
                    f"stay within {MAX_RESULTS:,}; the JSON report has every one")}})
        return results, notes

    def results(self, report) -> tuple[list[dict], list[dict]]:
        """The run's results as `document` writes them (without rule indexes or baseline states), and the
        notifications saying what was folded: for the formats made from them (gitlab)."""
        self.report = report
        return self._results({}, _Locator(report.source_root), False)

    def document(self) -> dict:
        report = self.report
        rules = sorted(report.rules, key=lambda r: r.id)
        index = {r.id: i for i, r in enumerate(rules)}
        where = _Locator(report.source_root)
        notifications = [{"level": LEVEL_WARNING if n["status"] in ("expired", "stale") else LEVEL_NOTE,
                          "message": {"text": n["message"]}} for n in report.waiver_notes]
        artifacts = [{"location": where.artifact(report.snapshot_path),
                      "hashes": {"sha-256": report.snapshot_sha256}}] if report.snapshot_path else []
        results, notes = self._results(index, where, report.baseline is not None)
        run = {
            "tool": _driver(rules),
            "automationDetails": {"id": automation_id(report, self.mode)},
            "artifacts": artifacts,
            "invocations": [{"executionSuccessful": True,
                             "toolExecutionNotifications": notifications + notes + where.notifications()}],
            "results": results,
            "properties": {"command": report.command, "verdict": report.verdict, "manifest": report.manifest,
                           **({"plan": report.plan} if report.plan is not None else {}),
                           **({"placement": report.placement} if report.placement is not None else {})},
        }
        if report.source_root is not None:
            run["originalUriBaseIds"] = {SRCROOT: {"uri": "file://" + quote(PurePosixPath(
                os.path.abspath(report.source_root)).as_posix().rstrip("/") + "/")}}
        return _document(run)


def failure_sarif(problems, command: str) -> str:
    """The SARIF of a run stopped by its inputs (exit 2): no results, each problem a located notification.

    Its category is `migcheck/COMMAND/failed/`, apart from a real run's, so an upload of it never
    closes the alerts that run keeps open.
    """
    where = _Locator(None)
    notes = []
    for p in problems:
        note = {"level": LEVEL_WARNING if p.severity == WARNING else LEVEL_ERROR,
                "message": {"text": f"{p.code}: {p.message}" + (f" (at {p.path})" if p.path else "")
                            + (f"; help: {p.help}" if p.help else "")},
                "descriptor": {"id": p.code}}
        if p.file:
            note["locations"] = [where.location((p.file, max(p.line, 1), max(p.col, 1)))]
        notes.append(note)
    run = {"tool": _driver([]), "automationDetails": {"id": f"migcheck/{_category(command)}/failed/"},
           "invocations": [{"executionSuccessful": False, "exitCode": 2,
                            "toolExecutionNotifications": notes + where.notifications()}],
           "results": [], "properties": {"command": command}}
    return json.dumps(_document(run), indent=2, ensure_ascii=False) + "\n"
