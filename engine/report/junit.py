"""JUnit XML report: for Jenkins (valid against the xUnit plugin's `junit-10.xsd`), GitLab and
the GitHub test-report actions.

`check` and `audit`: a suite per rule, a test case per rule and subject (each result once).
A failure at or above `--fail-on` is a `<failure>`; a rule that could not be evaluated an
`<error>`; a failure below `--fail-on` (a warning or note in a default run) is `<skipped>`
with its severity and message. Skipped is used, not `<system-out>`, because every one of
those consumers counts and lists skipped cases on the summary page, while standard output
is only shown once a case is opened: a warning stays visible without failing the build.
Not applicable and waived results are `<skipped>` too, each saying why.

`matrix`: a suite per guest, a test case per migration (guest, target), counted once. A
blocked migration fails naming its blocking rules only (error-severity failures); a
migration that could not be evaluated is an error; warnings and notes of a migration that
is not blocked are `<skipped>` below `--fail-on` as above, and the failures of a blocked
one list them apart from the blockers. Every case carries `time` (0: rules are not timed
one by one), every suite a `timestamp` (the report time).
"""

from __future__ import annotations

import shutil
import tempfile
import xml.etree.ElementTree as ET

from ..core.vocabulary import (BLOCKED, ERROR, ERROR_SEVERITY, FAIL, FAIL_ON, NOTAPPLICABLE, SEVERITY_RANK, UNKNOWN,
                               WARNING)
from ..files.outputs import copy_spool, release, spool_writer
from .common import subject_text, xml_safe

# A test case's outcome, named by JUnit's element for it: JUnit's words, not migcheck's statuses
# (a rule that could not be evaluated is an `<error>`, a blocked migration a `<failure>`). A case
# that passed has no element.
FAILURE, ERROR_ELEMENT, SKIPPED, PASSED = "failure", "error", "skipped", "passed"


def _el(parent, tag: str, text: str | None = None, **attrs) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: xml_safe(v) for k, v in attrs.items()})
    if text is not None:
        el.text = xml_safe(text)
    return el


def _where(r) -> str:
    return f"\nat {r.location[0]}:{r.location[1]}:{r.location[2]}" if r.location else ""


def _case_for_result(suite, r, threshold: int) -> str:
    """One rule-and-subject case; returns its outcome (failure, error, skipped, pass)."""
    case = _el(suite, "testcase", classname=f"migcheck.{r.rule}", name=subject_text(r), time="0")
    if r.waiver:
        w = r.waiver
        _el(case, SKIPPED, message=f"{r.status} ({r.severity}), waived until {w['expires']} by {w['owner']}: "
                                   f"{w['reason']}" + (f" ({w['ticket']})" if w.get("ticket") else ""))
        return SKIPPED
    if r.status == FAIL and SEVERITY_RANK[r.severity] >= threshold:
        _el(case, FAILURE, f"{r.message}\nfix: {r.fix}\nsource: {r.cite}{_where(r)}", message=r.message,
            type=r.severity)
        return FAILURE
    if r.status == FAIL:
        _el(case, SKIPPED, f"{r.message}\nfix: {r.fix}{_where(r)}",
            message=f"{r.severity} below --fail-on: {r.message}", type=r.severity)
        return SKIPPED
    if r.status == ERROR:
        _el(case, ERROR_ELEMENT, f"{r.message}{_where(r)}", message=r.message, type="evaluation-error")
        return ERROR_ELEMENT
    if r.status == NOTAPPLICABLE:
        _el(case, SKIPPED, message="not applicable")
        return SKIPPED
    return PASSED


def _case_for_cell(suite, cell, found, results, fail_on: str) -> str:
    threshold = FAIL_ON[fail_on]
    case = _el(suite, "testcase", classname=f"migcheck.migration.{cell.guest}",
               name=f"{cell.guest}: {cell.source} -> {cell.target} ({cell.mode})", time="0")
    detail = "\n".join(f"{r.rule} ({r.severity}{', waived' if r.waiver else ''}): {r.message}"
                       + (f"\n  fix: {r.fix}" if r.fix and r.status == FAIL else "")
                       for r in sorted(results, key=lambda r: (-SEVERITY_RANK[r.severity], r.rule)))
    failing = found.blocking
    above = [r.rule for r in results if r.status == FAIL and r.waiver is None and r.severity != ERROR_SEVERITY
             and SEVERITY_RANK[r.severity] >= threshold]
    if failing or above:
        message = ("blocked by " + ", ".join(failing)) if failing else ""
        if above:
            message += ("; " if message else "") + f"fails --fail-on {fail_on} on " + ", ".join(sorted(set(above)))
        others = sorted(set(found.warnings + found.notes) - set(above))
        if others:
            message += "; also " + ", ".join(others) + " (not blocking)"
        _el(case, FAILURE, detail, message=message, type=BLOCKED if failing else "fail-on")
        return FAILURE
    if found.errors:
        _el(case, ERROR_ELEMENT, detail, message="could not be evaluated: " + ", ".join(found.errors),
            type="evaluation-error")
        return ERROR_ELEMENT
    informing = found.warnings + found.notes
    if informing:
        _el(case, SKIPPED, detail,
            message="ready, with findings below --fail-on: " + ", ".join(sorted(set(informing))),
            type=WARNING)
        return SKIPPED
    return PASSED


def _finish_suite(suite, outcomes: list[str], timestamp: str) -> dict:
    counts = {"tests": len(outcomes), "failures": outcomes.count(FAILURE), "errors": outcomes.count(ERROR_ELEMENT),
              "skipped": outcomes.count(SKIPPED)}
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("time", "0")
    if timestamp:
        suite.set("timestamp", timestamp)
    return counts


class JunitMatrixWriter:
    """JUnit of a matrix, a suite per guest as it comes (streamed): suites go to a spool file,
    since the totals head the document; the bytes are those of `render_junit`."""

    _MARK = "\ue000suites\ue000"  # private-use: never in a name, and XML-safe

    def __init__(self, report, out, spool_dir: str | None = None):

        self.report, self.out = report, out
        self.timestamp = str(report.manifest.get("generated", "")).removesuffix("Z")
        self.totals = {"tests": 0, "failures": 0, "errors": 0}
        self.spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="", dir=spool_dir)
        self.any = False

    def feed(self, cells, results, found) -> None:
        if not cells:
            return
        for suite in _suites(cells, results, found, self.report.fail_on, self.timestamp, self.totals):
            ET.indent(suite, level=1)
            self.spool.write("\n  " + ET.tostring(suite, encoding="unicode"))
            self.any = True

    # -- a share of the guests written by another process (report.stream.Helper) -------------
    def part(self, spools: tuple) -> "JunitMatrixWriter":
        """A writer of the suites of a later share of the guests, to the binary spool `spools[0]`;
        its totals come back with `part_state`."""
        other = JunitMatrixWriter.__new__(JunitMatrixWriter)
        other.report, other.out, other.timestamp = self.report, None, self.timestamp
        other.totals = {key: 0 for key in self.totals}
        other.spool = spool_writer(spools[0])
        other.any = False
        return other

    def part_state(self) -> dict:
        release(self.spool)
        return {"totals": self.totals, "any": self.any}

    def absorb(self, state: dict, spools: tuple) -> None:
        for key, value in state["totals"].items():
            self.totals[key] += value
        if state["any"]:
            copy_spool(self.spool, spools[0])
            self.any = True

    def finish(self, report) -> None:
        self.report = report
        root = ET.Element("testsuites", name=xml_safe(f"migcheck {self.report.command}"))
        for key, value in self.totals.items():
            root.set(key, str(value))
        root.set("time", "0")
        out = self.out
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        if not self.any:
            out.write(ET.tostring(root, encoding="unicode") + "\n")
        else:
            root.text = self._MARK
            head, tail = ET.tostring(root, encoding="unicode").split(self._MARK)
            out.write(head)
            self.spool.seek(0)
            shutil.copyfileobj(self.spool, out, 1 << 20)
            out.write("\n" + tail + "\n")
        self.spool.close()


def _suites(cells, results, found, fail_on: str, timestamp: str, totals: dict) -> list:
    """The suites of a matrix's cells, one per guest, in the order the cells name them; adds to `totals`."""
    by_cell: dict[tuple, list] = {}
    by_guest: dict[str, list] = {}
    for r in results:
        if "target" in r.subject:
            by_cell.setdefault((r.subject.get("guest"), r.subject["target"]), []).append(r)
        elif "guest" in r.subject:
            by_guest.setdefault(r.subject["guest"], []).append(r)
    suites: dict[str, ET.Element] = {}
    outcomes: dict[str, list[str]] = {}
    for cell in cells:
        suite = suites.get(cell.guest)
        if suite is None:
            suite = suites[cell.guest] = ET.Element("testsuite", name=xml_safe(f"migrations of {cell.guest}"))
            outcomes[cell.guest] = []
        cell_results = by_guest.get(cell.guest, []) + by_cell.get((cell.guest, cell.target), [])
        outcomes[cell.guest].append(_case_for_cell(suite, cell, found[(cell.guest, cell.target)], cell_results,
                                                   fail_on))
    for g, suite in suites.items():
        counts = _finish_suite(suite, outcomes[g], timestamp)
        for key in totals:
            totals[key] += counts[key]
    return list(suites.values())
def _plan_suites(root, plan: dict, timestamp: str) -> dict:
    """`plan` and `place`: a suite of the plan's migrations and one of its stages, failed when blocked."""
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for name, items in (("plan migrations", plan["migrations"]), ("plan stages", plan["stages"])):
        suite = _el(root, "testsuite", name=name)
        outs = []
        for item in items:
            case = _el(suite, "testcase", classname="migcheck.plan",
                       name=xml_safe(f"step {item['step']}: {item['guest']}: {item['source']} -> {item['target']} "
                                     f"({item['mode']})" if "step" in item else f"stage {item['stage']}"))
            why = ", ".join(item["failing"]) or "an earlier migration of the guest was blocked"
            if item["verdict"] == BLOCKED:
                _el(case, FAILURE, message=xml_safe("blocked by " + why), type=BLOCKED)
                outs.append(FAILURE)
            elif item["verdict"] == UNKNOWN:
                _el(case, ERROR_ELEMENT, message=xml_safe("not known: " + why), type=UNKNOWN)
                outs.append(ERROR_ELEMENT)
            else:
                outs.append(PASSED)
        counts = _finish_suite(suite, outs, timestamp)
        for key in totals:
            totals[key] += counts[key]
    return totals


def render_junit(report) -> str:
    root = ET.Element("testsuites", name=xml_safe(f"migcheck {report.command}"))
    threshold = FAIL_ON[report.fail_on]
    timestamp = str(report.manifest.get("generated", "")).removesuffix("Z")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    if report.cells is not None:
        root.extend(_suites(report.cells, report.results, report.cell_findings, report.fail_on, timestamp, totals))
    else:
        by_rule: dict[str, list] = {}
        for r in report.results:
            by_rule.setdefault(r.rule, []).append(r)
        for rule_id in sorted(by_rule):
            suite = _el(root, "testsuite", name=rule_id)
            outs = [_case_for_result(suite, r, threshold) for r in by_rule[rule_id]]
            counts = _finish_suite(suite, outs, timestamp)
            for key in totals:
                totals[key] += counts[key]
    if report.plan is not None:
        for key, value in _plan_suites(root, report.plan, timestamp).items():
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
