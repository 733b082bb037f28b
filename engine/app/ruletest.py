"""`migcheck test`: run the YAML rule tests of packs and report per-rule coverage.

A case names a snapshot (a path relative to the test file, or inline), a request (`audit`,
`check`, or `plan` with a plan file or an inline plan), and the wanted status per rule id: the rule's worst result for the request
(error, then fail, then pass, then notapplicable). A rule of the packs under test with no
case wanting `fail` or none wanting `pass` fails the run: every rule must be shown both
failing on a bad snapshot and passing on a good one.
"""

from __future__ import annotations

import io
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from xml.etree import ElementTree

from tabulate import tabulate

from ..core.vocabulary import ERROR, FAIL, NOTAPPLICABLE, OFFLINE, PASS
from ..estate.snapshot import Snapshot, load_snapshot, snapshot_from_data
from ..eval.engine import Engine
from ..core.diagnostics import UsageError
from ..files.document import Document, LoadError, Problem
from ..files.outputs import OutputError, check_outputs, pack_inputs, real_path, write_output
from ..files.reader import NOT_REGULAR, regular_file
from ..files.resources import builtin_rules_dir
from ..files.schemas import Input, load_validated
from ..packs.ruleset import RuleSet, load_rules, packs_under_test
from ..waves.plans import load_plan, plan_from_data, run_plan

_RANK = {ERROR: 3, FAIL: 2, PASS: 1, NOTAPPLICABLE: 0}


@dataclass
class CaseResult:
    file: str
    line: int
    name: str
    wrong: list[str]  # "RULE: wanted fail, got pass"


def worst(statuses: list[str]) -> str:
    return max(statuses, key=_RANK.__getitem__) if statuses else NOTAPPLICABLE


def _describe_case(path: tuple, data) -> str:
    if len(path) >= 2 and path[0] == "cases" and isinstance(path[1], int):
        cases = data.get("cases") if isinstance(data, dict) else None
        case = cases[path[1]] if isinstance(cases, list) and path[1] < len(cases) else None
        name = case.get("name") if isinstance(case, dict) else None
        return f"case `{name}`" if isinstance(name, str) else f"case #{path[1] + 1}"
    return "the test file"


RULE_TESTS = Input("ruletest.schema.json", _describe_case)


def _snapshot(case: dict, doc: Document, index: int, cache: dict) -> Snapshot:
    spec = case["snapshot"]
    if isinstance(spec, str):
        path = Path(real_path(Path(doc.file).parent / spec))
        if path not in cache:
            cache[path] = load_snapshot(str(path))
        return cache[path]
    return snapshot_from_data(spec, f"{doc.file} (case {case['name']})")


def _plan(case: dict, doc: Document, snapshot: Snapshot):
    spec = case["plan"]
    if isinstance(spec, str):
        return load_plan(str((Path(doc.file).parent / spec).resolve()), snapshot)
    return plan_from_data(spec, snapshot, f"{doc.file} (case {case['name']})")


def run_pack_tests(dirs: list[Path], out: TextIO, verbose: bool = False, no_builtin: bool = False,
                   fmt: str = "text", case_filter: str | None = None, output: str | None = None,
                   quiet: bool = False) -> int:
    """Run every pack's tests; write the cases and per-rule coverage as `fmt` (text, json or junit) to
    `out` or `output`. Exit 0, 1 on failures (or a rule without a failing and a passing case), 2 on bad files.

    `case_filter` (`--run REGEX`) runs only the cases whose name it finds; coverage is then shown but
    not required. A directory that is a copy of the built-in pack is tested in place of it (`packs_under_test`).
    """
    wanted = _case_filter(case_filter)
    builtin, dirs = packs_under_test(dirs, no_builtin)
    ruleset = load_rules(dirs, builtin=builtin)
    run = _TestRun(ruleset, _rules_under_test(ruleset, dirs), wanted)
    for pack in dirs:
        for file in sorted((pack / "tests").glob("*.yaml")):
            run.run_file(file)
    if run.problems:
        for p in sorted(run.problems):
            print(p.render(), file=sys.stderr)
        return 2
    packs = [builtin_rules_dir(), *dirs] if builtin else dirs
    problem = check_outputs([(fmt, output)], {**pack_inputs(packs), **run.read}) if output else None
    if problem:  # (the packs' files, and the snapshots and plans the cases name)
        raise UsageError(problem)
    failed = [r for r in run.results if r.wrong]
    uncovered = sorted(rid for rid, c in run.covered.items() if not (c[FAIL] and c[PASS]))
    text = _RENDER[fmt](run, verbose, quiet)
    try:
        write_output(output, text) if output else out.write(text)
    except OutputError as exc:
        raise UsageError(str(exc)) from None
    return 1 if failed or (uncovered and wanted is None) else 0


def _case_filter(pattern: str | None):
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"--run `{pattern}` is not a regular expression: {exc}") from None


def _text(run: _TestRun, verbose: bool, quiet: bool) -> str:
    buf = io.StringIO()
    failed = [r for r in run.results if r.wrong]
    _print_cases(run.results, verbose, buf)
    uncovered = _print_coverage(run.covered, buf if not quiet else io.StringIO())
    print(f"{len(run.results) - len(failed)} passed, {len(failed)} failed: {len(run.results)} cases, "
          f"{len(run.covered) - len(uncovered)} of {len(run.covered)} rules covered"
          + (f" ({run.skipped} cases not run: --run)" if run.skipped else ""), file=buf)
    return buf.getvalue()


def _coverage_rows(run: _TestRun) -> list[dict]:
    return [{"rule": rid, "failing_cases": c[FAIL], "passing_cases": c[PASS], "covered": bool(c[FAIL] and c[PASS])}
            for rid, c in sorted(run.covered.items())]


def _json(run: _TestRun, verbose: bool, quiet: bool) -> str:
    """The cases and per-rule coverage as one JSON object (as `opa test --format json` gives its cases)."""
    cases = [{"file": r.file, "line": r.line, "name": r.name, "passed": not r.wrong, "wrong": r.wrong}
             for r in run.results]
    coverage = _coverage_rows(run)
    failed = sum(1 for r in run.results if r.wrong)
    summary = {"cases": len(run.results), "passed": len(run.results) - failed, "failed": failed,
               "skipped": run.skipped, "rules": len(coverage), "covered": sum(1 for c in coverage if c["covered"])}
    return json.dumps({"cases": cases, "coverage": coverage, "summary": summary}, indent=2) + "\n"


def _junit(run: _TestRun, verbose: bool, quiet: bool) -> str:
    """JUnit XML: a suite of the cases (a failure per wrong case) and a suite of per-rule coverage."""
    root = ElementTree.Element("testsuites", name="migcheck test")
    cases = ElementTree.SubElement(root, "testsuite", name="rule tests", tests=str(len(run.results)),
                                   failures=str(sum(1 for r in run.results if r.wrong)), errors="0",
                                   skipped=str(run.skipped))
    for r in run.results:
        case = ElementTree.SubElement(cases, "testcase", classname=Path(r.file).name, name=r.name,
                                      file=r.file, line=str(r.line))
        if r.wrong:
            ElementTree.SubElement(case, "failure", message=r.wrong[0], type="wrong-status").text = "\n".join(r.wrong)
    rows = _coverage_rows(run)
    coverage = ElementTree.SubElement(root, "testsuite", name="rule coverage", tests=str(len(rows)),
                                      failures=str(sum(1 for c in rows if not c["covered"])), errors="0")
    for c in rows:
        case = ElementTree.SubElement(coverage, "testcase", classname="coverage", name=c["rule"])
        if not c["covered"]:
            missing = "failing" if not c["failing_cases"] else "passing"
            ElementTree.SubElement(case, "failure", message=f"no {missing} case", type="coverage").text = (
                f"{c['rule']}: {c['failing_cases']} failing and {c['passing_cases']} passing cases")
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


_RENDER = {"text": _text, "json": _json, "junit": _junit}


def _rules_under_test(ruleset: RuleSet, dirs: list[Path]) -> set[str]:
    """Ids of the rules defined under `dirs` (the built-in pack's rules are tested only from its own copy)."""
    resolved = [Path(real_path(d)) for d in dirs]  # realpath: a symbolic link loop is not an exception
    return {r.id for r in ruleset.rules if any(Path(r.span.file).resolve().is_relative_to(d) for d in resolved)}


class _TestRun:
    """The cases of every test file, run: problems with the files, each case's result, coverage per rule."""

    def __init__(self, ruleset: RuleSet, under_test: set[str], wanted: re.Pattern | None = None):
        self.ruleset = ruleset
        self.wanted = wanted  # --run: only the cases whose name it finds
        self.skipped = 0
        self.problems: list[Problem] = []
        self.results: list[CaseResult] = []
        self.covered = {rid: {FAIL: 0, PASS: 0} for rid in under_test}
        self.snapshots: dict = {}  # by real path, so cases naming one file load it once
        self.engines: dict = {}  # by snapshot and `stop`, so cases on one snapshot share evaluations
        self.read: dict[str, str] = {}  # the snapshots and plans cases name, run or not (`--run`), by role

    def run_file(self, file: Path) -> None:
        if not regular_file(file):  # a FIFO or a device in a pack's tests/ would hold reading forever
            self.problems.append(Problem(str(file), 1, 1, NOT_REGULAR, help="put the rule test file itself here"))
            return
        try:
            doc = load_validated(file, RULE_TESTS)
        except LoadError as exc:
            self.problems.extend(exc.problems)
            return
        for i, case in enumerate(doc.data["cases"]):
            for key, role in (("snapshot", "a rule test's snapshot"), ("plan", "a rule test's plan")):
                if isinstance(case.get(key), str):  # (no report is written over one: `run_pack_tests`)
                    self.read[real_path(Path(doc.file).parent / case[key])] = role
            if self.wanted is not None and not self.wanted.search(case["name"]):
                self.skipped += 1
                continue
            self.run_case(doc, file, i, case)

    def run_case(self, doc: Document, file: Path, i: int, case: dict) -> None:
        """Run one case and record its result; a case that cannot run adds a problem instead."""
        line = doc.position(("cases", i))[0]
        self.check_rule_ids(doc, i, case)
        try:
            snapshot = _snapshot(case, doc, i, self.snapshots)
        except LoadError as exc:
            self.problems.extend(exc.problems)
            return
        engine = self.engine(snapshot, case.get("check", {}).get("stop", False))
        if "check" in case:
            got = self.results_of_check(doc, i, case, snapshot, engine)
        elif "plan" in case:
            got = self.results_of_plan(doc, case, snapshot)
        else:
            got = _results_of_audit(case, engine)
        if got is not None:
            self.results.append(CaseResult(str(file), line, case["name"], self.judge(case, got)))

    def check_rule_ids(self, doc: Document, i: int, case: dict) -> None:
        for rid in case["expect"]:
            if self.ruleset.by_id(rid) is None:
                self.problems.append(doc.problem(("cases", i, "expect", rid), f"unknown rule `{rid}`", key=True,
                                                 code="unknown-rule"))

    def engine(self, snapshot: Snapshot, stop: bool) -> Engine:
        engine = self.engines.get((id(snapshot), stop))
        if engine is None:
            engine = self.engines[(id(snapshot), stop)] = Engine(self.ruleset, snapshot, stop=stop)
        return engine

    def results_of_check(self, doc: Document, i: int, case: dict, snapshot: Snapshot, engine: Engine) -> list | None:
        req = case["check"]
        guest = snapshot.guest_named(req["guest"])
        target = snapshot.host_named(req["target"])
        if guest is None or target is None:
            self.problems.append(doc.problem(("cases", i, "check"), f"case `{case['name']}`: guest "
                                             f"`{req['guest']}` or host `{req['target']}` is not in its snapshot",
                                             code="bad-case"))
            return None
        return engine.check(guest, target, req.get("mode", OFFLINE))

    def results_of_plan(self, doc: Document, case: dict, snapshot: Snapshot) -> list | None:
        try:
            plan = _plan(case, doc, snapshot)
        except LoadError as exc:
            self.problems.extend(exc.problems)
            return None
        return run_plan(self.ruleset, snapshot, plan).results

    def judge(self, case: dict, got: list) -> list[str]:
        """What the case wanted and did not get; each wanted fail or pass it got counts towards coverage."""
        wrong = []
        for rid, wanted in case["expect"].items():
            status = worst([r.status for r in got if r.rule == rid])
            if status != wanted:
                detail = "; ".join(r.message for r in got if r.rule == rid and r.status == status)[:300]
                wrong.append(f"{rid}: wanted {wanted}, got {status}" + (f" ({detail})" if detail else ""))
            elif rid in self.covered and wanted in (FAIL, PASS):
                self.covered[rid][wanted] += 1
        return wrong


def _results_of_audit(case: dict, engine: Engine) -> list:
    got = engine.audit()
    if "subject" in case:
        got = [r for r in got if case["subject"] in (r.subject.get("guest"), r.subject.get("host"))]
    return got


def _print_cases(results: list[CaseResult], verbose: bool, out: TextIO) -> None:
    """The failed cases with what went wrong; with `verbose`, the cases that passed too."""
    for r in results:
        if r.wrong or verbose:
            print(f"{'FAIL' if r.wrong else 'ok  '} {r.file}:{r.line}: {r.name}", file=out)
            for w in r.wrong:
                print(f"       {w}", file=out)


def _print_coverage(covered: dict, out: TextIO) -> list[str]:
    """The coverage table; the rules without both a failing and a passing case."""
    rows, uncovered = [], []
    for rid in sorted(covered):
        c = covered[rid]
        ok = c[FAIL] > 0 and c[PASS] > 0
        if not ok:
            uncovered.append(rid)
        rows.append([rid, c[FAIL], c[PASS], "ok" if ok else "MISSING " + (FAIL if not c[FAIL] else PASS)
                     + " case"])
    print(tabulate(rows, headers=["rule", "failing cases", "passing cases", "coverage"], tablefmt="simple"), file=out)
    return uncovered
