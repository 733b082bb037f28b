"""JUnit XML report: for Jenkins (valid against the xUnit plugin's `junit-10.xsd`), GitLab and
the GitHub test-report actions.

`check` and `audit`: a suite per rule, a test case per rule and subject (each result once).
A failure at or above `--fail-on` is a `<failure>`; a rule that could not be evaluated an
`<error>`; a failure below `--fail-on` (a warning or note in a default run) is `<skipped>`
with its severity and message. Skipped is used, not `<system-out>`, because every one of
those consumers counts and lists skipped cases on the summary page, while standard output
is only shown once a case is opened: a warning stays visible without failing the build.
Not applicable and waived results are `<skipped>` too, each saying why.

`matrix`: a suite per guest, its properties (source, mode, and its ready, blocked and unknown
targets) and one test case: a case per migration made 300 MB and 398,000 cases of a 200 x
2,000 matrix, over GitLab's 30 MB per file and its parsing limits. The case fails when a
migration of the guest is blocked (its message: on how many targets, by which blocking rules,
error-severity failures only) or fails `--fail-on`; it is an error when one could not be
evaluated; `<skipped>` when only findings below `--fail-on` remain. Its text names every target
once per reason (ready; blocked by these rules; ...) and each rule's first message and fix, so
every blocked migration stays visible. Every case carries `time` (0: rules are not timed one by
one), every suite a `timestamp` (the report time).

`failure_junit` is the report of a run stopped by its inputs (exit 2): one `<error>` case
listing the problems.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET
from xml.etree.ElementTree import _escape_attrib, _escape_cdata  # ElementTree's own escaping, byte for byte

from ..core.vocabulary import (BLOCKED, ERROR, ERROR_SEVERITY, FAIL, FAIL_ON, NOTAPPLICABLE, SEVERITY_RANK, UNKNOWN,
                               WARNING)
from ..files.outputs import copy_spool, release, spool_writer
from .common import plural, subject_text, xml_safe

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


def _above(results, threshold: int) -> set[str]:
    """The rules of these results that fail at or above --fail-on without blocking (not waived)."""
    return {r.rule for r in results if r.status == FAIL and r.waiver is None
            and r.severity != ERROR_SEVERITY and SEVERITY_RANK[r.severity] >= threshold}


# The targets a case's text names per line; the suite's properties name every one. GitLab reads JUnit files of at
# most 30 MB: at 200 x 2,000 with 32-character VSP names, the lists written whole made 37 MB.
LISTED = 50
GITLAB_MAX_BYTES = 30 * 2 ** 20  # what GitLab reads of a JUnit file (`Gitlab::XmlConverter::MAX_XML_SIZE`)


def _listed(names: list[str]) -> str:
    """`names` joined, the first `LISTED` of them when there are more, saying how many more."""
    if len(names) <= LISTED:
        return ", ".join(names)
    return ", ".join(names[:LISTED]) + f" and {len(names) - LISTED:,} more (the suite's properties list them all)"


class _GuestCase:
    """One guest's migrations, gathered for its test case: targets by outcome and by the rules behind it.
    The guest's own results (`own`) count in each of its migrations."""

    def __init__(self, guest: str, source: str, mode: str, own: list, threshold: int):
        self.guest, self.source, self.mode = guest, source, mode
        self.ready: list[str] = []
        self.blocked: list[str] = []
        self.unknown: list[str] = []
        self.why: dict[tuple, list[str]] = {}  # (what, rules) -> targets: what blocks, fails, informs
        self.first: dict[str, object] = {}  # rule -> its first result (message and fix shown once)
        self.threshold = threshold
        self.own_above = _above(own, threshold)
        self.own_sorted = sorted(self.own_above)
        self._first(own)
        self.reasons: dict[tuple, tuple] = {}  # (id(findings), rules above) -> the (what, rules) that apply

    def add(self, cell, found, results) -> None:
        """A migration of the guest: its findings (`found`), its own results (the guest's are in `own`)."""
        self._place(cell, found, _above(results, self.threshold) if results else ())
        if results:
            self._first(results)

    def add_units(self, cell, found, stamps, j: int, units: list) -> None:
        """`add` of a migration whose results are `units` of the guest's `eval.texts.GuestStamps` (no waiver in
        play): only the first result of each rule is made."""
        threshold, first = self.threshold, self.first
        more = set()
        for u in units:
            if type(u) is tuple:
                entry, index = u
                rule, severity = entry.rule.id, entry.rule.severity
                status = entry.status or entry.outcomes[index].status
            else:
                rule, severity, status = u.rule, u.severity, u.status
            if status == FAIL and severity != ERROR_SEVERITY and SEVERITY_RANK[severity] >= threshold:
                more.add(rule)
            if rule not in first and status in (FAIL, ERROR):
                first[rule] = stamps.result(j, *u) if type(u) is tuple else u
        self._place(cell, found, more)

    def _place(self, cell, found, more) -> None:
        """The migration's target listed by its outcome and under the reasons of its findings and of the
        rules `more` that fail it at or above --fail-on without blocking."""
        above = self.own_sorted
        if more and set(more) - self.own_above:
            above = sorted(set(more) | self.own_above)
        target = cell.target
        if cell.verdict == BLOCKED:
            self.blocked.append(target)
        elif cell.verdict == UNKNOWN:
            self.unknown.append(target)
        else:
            self.ready.append(target)
        why = self.why
        for reason in self._reasons(found, above):
            targets = why.get(reason)
            if targets is None:
                why[reason] = [target]
            else:
                targets.append(target)

    def _reasons(self, found, above: list) -> list:
        """The (what, rules) a migration is listed under; found once per findings (cells share them)."""
        key = (id(found), tuple(above))
        made = self.reasons.get(key)
        if made is None:
            below = sorted(set(found.warnings + found.notes) - set(above))
            made = self.reasons[key] = ([(what, tuple(rules)) for what, rules in (
                (_BLOCKED, found.blocking), (_ABOVE, above), (_UNKNOWN, found.errors), (_BELOW, below)) if rules],
                found)  # (kept alive, so its id stays its own)
        return made[0]

    def _first(self, results) -> None:
        first = self.first
        for r in results:
            if r.rule not in first and r.status in (FAIL, ERROR):
                first[r.rule] = r

    def properties(self, suite) -> None:
        props = _el(suite, "properties")
        for name, value in (("guest", self.guest), ("source", self.source), ("mode", self.mode),
                            ("ready_targets", " ".join(self.ready)), ("blocked_targets", " ".join(self.blocked)),
                            ("unknown_targets", " ".join(self.unknown))):
            _el(props, "property", name=name, value=value)

    def detail(self) -> str:
        """Every target once per reason: ready ones, then each set of rules and the targets it applies to (at most
        `LISTED` names each: every one is in the suite's properties)."""
        lines = [f"ready ({len(self.ready)}): " + (_listed(self.ready) or "none")]
        for (what, rules), targets in sorted(self.why.items(), key=lambda kv: (_ORDER.index(kv[0][0]), kv[0][1])):
            lines.append(f"{what} {', '.join(rules)} on {plural(len(targets), 'target')}: {_listed(targets)}")
        for rule, r in sorted(self.first.items()):
            lines.append(f"{rule} ({r.severity}{', waived' if r.waiver else ''}), first: {r.message}"
                         + (f"\n  fix: {r.fix}" if r.fix and r.status == FAIL else ""))
        return "\n".join(lines)

    def case_name(self) -> tuple[str, str]:
        """The test case's classname and name."""
        total = len(self.ready) + len(self.blocked) + len(self.unknown)
        return (f"migcheck.migration.{self.guest}",
                f"{self.guest}: {self.source} -> {plural(total, 'target')} ({self.mode})")

    def verdict(self, fail_on: str) -> tuple[str, list[tuple[str, str]], str]:
        """The case's outcome (its element's name: failure, error, skipped, or passed: no element), the
        element's attributes in order, and its text."""
        total = len(self.ready) + len(self.blocked) + len(self.unknown)
        counts = {what: sorted({rule for (w, rules), targets in self.why.items() if w == what for rule in rules})
                  for what in _ORDER}
        if self.blocked or counts[_ABOVE]:
            parts = [f"blocked on {len(self.blocked)} of {total} targets by " + ", ".join(counts[_BLOCKED])] \
                if self.blocked else []
            if counts[_ABOVE]:
                parts.append(f"fails --fail-on {fail_on} on " + ", ".join(counts[_ABOVE]))
            parts.append(f"ready on {len(self.ready)}")
            return FAILURE, [("message", "; ".join(parts)), ("type", BLOCKED if self.blocked else "fail-on")], \
                self.detail()
        if self.unknown:
            return ERROR_ELEMENT, [("type", "evaluation-error"), (
                "message", f"could not be evaluated on {len(self.unknown)} of {total} targets: "
                + ", ".join(counts[_UNKNOWN]))], self.detail()
        if counts[_BELOW]:
            return SKIPPED, [("type", WARNING), (
                "message", f"ready on {len(self.ready)} of {total} targets, with findings below --fail-on: "
                + ", ".join(counts[_BELOW]))], self.detail()
        return PASSED, [], ""

    def outcome(self, suite, fail_on: str) -> str:
        classname, name = self.case_name()
        case = _el(suite, "testcase", classname=classname, name=name, time="0")
        outcome, attrs, text = self.verdict(fail_on)
        if outcome != PASSED:
            _el(case, outcome, text, **dict(attrs))
        return outcome

    def suite_text(self, fail_on: str, timestamp: str) -> tuple[str, str]:
        """The guest's suite as `ET.tostring` writes it indented one level (`ET.indent(level=1)`), and its
        outcome: the same bytes, made from templates."""
        classname, name = self.case_name()
        outcome, attrs, text = self.verdict(fail_on)
        counts = _counts([outcome])
        head = _tag("testsuite", [("name", f"migrations of {self.guest}"), *((k, str(v)) for k, v in counts.items()),
                                  ("time", "0"), *((("timestamp", timestamp),) if timestamp else ())])
        props = "\n      ".join(_tag("property", [("name", key), ("value", value)]) + " />" for key, value in (
            ("guest", self.guest), ("source", self.source), ("mode", self.mode),
            ("ready_targets", " ".join(self.ready)), ("blocked_targets", " ".join(self.blocked)),
            ("unknown_targets", " ".join(self.unknown))))
        case = _tag("testcase", [("classname", classname), ("name", name), ("time", "0")])
        if outcome == PASSED:
            case += " />"
        else:
            body = _escape_cdata(xml_safe(text))
            case += (f">\n      {_tag(outcome, attrs)}" + (f">{body}</{outcome}>" if body else " />")
                     + "\n    </testcase>")
        return (f"{head}>\n    <properties>\n      {props}\n    </properties>\n    {case}\n  </testsuite>",
                outcome)


def _tag(name: str, attrs) -> str:
    """A start tag without its end (` />` or `>`), its attributes as ElementTree writes them (`xml_safe`d)."""
    return f"<{name}" + "".join(f' {key}="{_escape_attrib(xml_safe(value))}"' for key, value in attrs)


# why targets are listed in a guest's case, in the order its text lists them
_BLOCKED, _ABOVE, _UNKNOWN, _BELOW = "blocked by", "fails --fail-on with", "could not evaluate", "not blocking:"
_ORDER = (_BLOCKED, _ABOVE, _UNKNOWN, _BELOW)


def _counts(outcomes: list[str]) -> dict:
    return {"tests": len(outcomes), "failures": outcomes.count(FAILURE), "errors": outcomes.count(ERROR_ELEMENT),
            "skipped": outcomes.count(SKIPPED)}


def _finish_suite(suite, outcomes: list[str], timestamp: str) -> dict:
    counts = _counts(outcomes)
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
        texts = _suite_texts(cells, results, found, self.report.fail_on, self.timestamp, self.totals)
        if texts:
            self.spool.write("\n  " + "\n  ".join(texts))
            self.any = True

    def feed_stamps(self, cells, stamps, findings) -> None:
        """`feed` of a guest with no waiver and no baseline in play (`json_report.JsonWriter.feed_stamps`): its
        suite from its results unmade but the first of each rule (`_GuestCase.add_units`)."""
        if not cells.positions:
            return
        guest = cells.guest
        case = _GuestCase(guest["name"], guest["host"], cells.mode, stamps.own, FAIL_ON[self.report.fail_on])
        at = stamps.by_target
        for cell, label, j in zip(cells.cells(), cells.labels(), cells.positions):
            units = at[j]
            if units:
                case.add_units(cell, findings(label), stamps, j, units)
            else:
                case.add(cell, findings(label), None)
        text, outcome = case.suite_text(self.report.fail_on, self.timestamp)
        for key, value in _counts([outcome]).items():
            if key in self.totals:
                self.totals[key] += value
        self.spool.write("\n  " + text)
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

    def absorb(self, state: dict, spools: tuple, start: int = 0) -> None:
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
            size = self.spool.tell()
            self.spool.seek(0)
            shutil.copyfileobj(self.spool, out, 1 << 20)
            out.write("\n" + tail + "\n")
            if size > GITLAB_MAX_BYTES:  # (the suites' characters: at least as many bytes)
                print(f"migcheck: warning: the JUnit report is over {size / 2 ** 20:,.0f} MB, more than GitLab reads "
                      f"({GITLAB_MAX_BYTES // 2 ** 20} MB): its suites list every target of every guest; write it "
                      "for fewer guests at a time (`--guest GLOB`)", file=sys.stderr)
        self.spool.close()


def _cases(cells, results, found, fail_on: str) -> dict:
    """A test case per guest of these cells (its migrations gathered), in the order the cells name them."""
    by_cell: dict[tuple, list] = {}
    by_guest: dict[str, list] = {}
    for r in results:
        if "target" in r.subject:
            by_cell.setdefault((r.subject.get("guest"), r.subject["target"]), []).append(r)
        elif "guest" in r.subject:
            by_guest.setdefault(r.subject["guest"], []).append(r)
    threshold = FAIL_ON[fail_on]
    guests: dict[str, _GuestCase] = {}
    for cell in cells:
        case = guests.get(cell.guest)
        if case is None:
            case = guests[cell.guest] = _GuestCase(cell.guest, cell.source, cell.mode, by_guest.get(cell.guest, []),
                                                   threshold)
        case.add(cell, found[(cell.guest, cell.target)], by_cell.get((cell.guest, cell.target)))
    return guests


def _suites(cells, results, found, fail_on: str, timestamp: str, totals: dict) -> list:
    """The suites of a matrix's cells, one per guest (its properties and one case), in the order the cells
    name them; adds to `totals`."""
    suites = []
    for guest, case in _cases(cells, results, found, fail_on).items():
        suite = ET.Element("testsuite", name=xml_safe(f"migrations of {guest}"))
        case.properties(suite)
        counts = _finish_suite(suite, [case.outcome(suite, fail_on)], timestamp)
        for key in totals:
            totals[key] += counts[key]
        suites.append(suite)
    return suites


def _suite_texts(cells, results, found, fail_on: str, timestamp: str, totals: dict) -> list[str]:
    """`_suites` as the matrix writer writes them (indented one level), from templates; adds to `totals`."""
    texts = []
    for case in _cases(cells, results, found, fail_on).values():
        text, outcome = case.suite_text(fail_on, timestamp)
        for key, value in _counts([outcome]).items():
            if key in totals:
                totals[key] += value
        texts.append(text)
    return texts


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


def failure_junit(problems, command: str) -> str:
    """JUnit of a run stopped by its inputs (exit 2): one case, an `<error>` listing every problem."""
    root = ET.Element("testsuites", name=xml_safe(f"migcheck {command}"), tests="1", failures="0", errors="1",
                      time="0")
    suite = _el(root, "testsuite", name=f"migcheck {command}", tests="1", failures="0", errors="1", skipped="0",
                time="0")
    case = _el(suite, "testcase", classname=f"migcheck.{command}", name="inputs", time="0")
    text = "\n".join(f"{p.file}:{p.line}:{p.col}: {p.severity}[{p.code}]: {p.message}"
                     + (f" (at {p.path})" if p.path else "") + (f"\n  help: {p.help}" if p.help else "")
                     for p in problems)
    _el(case, ERROR_ELEMENT, text, type="input",
        message=f"migcheck {command} stopped on its inputs: {plural(len(problems), 'problem')}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
