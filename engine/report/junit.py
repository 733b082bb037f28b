"""JUnit XML report: a test case per rule and subject, for CI systems.

A failure at or above `--fail-on` is a `<failure>`; a rule that could not be evaluated an
`<error>`; not applicable and waived results are `<skipped>` (with the waiver's reason); a
failure below `--fail-on` passes with the finding in `<system-out>`. A matrix adds one
suite of migrations, a case per (guest, target) pair, failed when blocked.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..findings import FAIL_ON, SEVERITY_RANK
from .common import subject_text


def render_junit(report) -> str:
    root = ET.Element("testsuites", name=f"migcheck {report.command}")
    suites: dict[str, list] = {}
    for r in report.results:
        suites.setdefault(r.rule, []).append(r)
    threshold = FAIL_ON[report.fail_on]
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for rule_id in sorted(suites):
        results = suites[rule_id]
        suite = ET.SubElement(root, "testsuite", name=rule_id)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for r in results:
            counts["tests"] += 1
            case = ET.SubElement(suite, "testcase", classname=f"migcheck.{rule_id}", name=subject_text(r))
            if r.location:
                case.set("file", r.location[0])
                case.set("line", str(r.location[1]))
            if r.waiver:
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=f"{r.status}, waived until {r.waiver['expires']} by "
                                                       f"{r.waiver['owner']}: {r.waiver['reason']}")
            elif r.status == "fail" and SEVERITY_RANK[r.severity] >= threshold:
                counts["failures"] += 1
                failure = ET.SubElement(case, "failure", message=r.message, type=r.severity)
                failure.text = f"{r.message}\nfix: {r.fix}\nsource: {r.cite}"
            elif r.status == "fail":
                ET.SubElement(case, "system-out").text = f"{r.severity}: {r.message}\nfix: {r.fix}"
            elif r.status == "error":
                counts["errors"] += 1
                ET.SubElement(case, "error", message=r.message, type="evaluation-error").text = r.message
            elif r.status == "notapplicable":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message="not applicable")
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    if report.cells is not None:
        suite = ET.SubElement(root, "testsuite", name="migrations")
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for c in report.cells:
            counts["tests"] += 1
            case = ET.SubElement(suite, "testcase", classname="migcheck.migration",
                                 name=f"{c.guest}: {c.source} -> {c.target} ({c.mode})")
            if c.verdict == "blocked":
                counts["failures"] += 1
                ET.SubElement(case, "failure", message="blocked by " + ", ".join(c.failing), type="blocked")
            elif c.verdict == "unknown":
                counts["errors"] += 1
                ET.SubElement(case, "error", message="could not be evaluated: " + ", ".join(c.failing))
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    if report.plan is not None:
        for suite_name, items in (("plan migrations", report.plan["migrations"]), ("plan stages", report.plan["stages"])):
            suite = ET.SubElement(root, "testsuite", name=suite_name)
            counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
            for item in items:
                counts["tests"] += 1
                name = (f"step {item['step']}: {item['guest']}: {item['source']} -> {item['target']} ({item['mode']})"
                        if "step" in item and "guest" in item else f"stage {item['stage']}")
                case = ET.SubElement(suite, "testcase", classname="migcheck.plan", name=name)
                why = ", ".join(item["failing"]) or "an earlier migration of the guest was blocked"
                if item["verdict"] == "blocked":
                    counts["failures"] += 1
                    ET.SubElement(case, "failure", message="blocked by " + why, type="blocked")
                elif item["verdict"] == "unknown":
                    counts["errors"] += 1
                    ET.SubElement(case, "error", message="not known: " + why)
            for key, value in counts.items():
                suite.set(key, str(value))
                totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
