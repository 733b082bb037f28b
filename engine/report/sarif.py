"""SARIF 2.1.0 report: for code-scanning dashboards and security tooling.

Each rule is a reportingDescriptor with its real id, title, help and cite; each failed or
errored result is located at the snapshot file and the line of its subject; a waived
result carries an accepted external suppression with the waiver's reason.
"""

from __future__ import annotations

import json

from .. import __version__

_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _descriptor(rule) -> dict:
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": f"{rule.title}. Source: {rule.cite}"},
        "help": {"text": f"{rule.title}.\nSource: {rule.cite}",
                 "markdown": f"**{rule.title}**\n\nSource: {rule.cite}"},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"tags": list(rule.tags), "cite": rule.cite, "subject": rule.subject},
    }


def render_sarif(report) -> str:
    rules = sorted(report.rules, key=lambda r: r.id)
    index = {r.id: i for i, r in enumerate(rules)}
    results = []
    for r in report.results:
        if r.status not in ("fail", "error"):
            continue
        text = r.message if r.status == "fail" else f"rule could not be evaluated: {r.message}"
        if r.fix and r.status == "fail":
            text += f" Fix: {r.fix}"
        result = {
            "ruleId": r.rule,
            "ruleIndex": index.get(r.rule, -1),
            "level": _LEVEL[r.severity] if r.status == "fail" else "error",
            "kind": "fail",
            "message": {"text": text},
            "partialFingerprints": {"migcheckSubject/v1": r.fingerprint},
            "properties": {"status": r.status, "subject": r.subject, "item": r.item, "fix": r.fix, "cite": r.cite},
        }
        if r.location:
            result["locations"] = [{"physicalLocation": {
                "artifactLocation": {"uri": r.location[0],  # a plan rule's result is located in the plan file
                                     **({"index": 0} if r.location[0] == report.snapshot_path else {})},
                "region": {"startLine": r.location[1], "startColumn": r.location[2]}}}]
        if r.waiver:
            result["suppressions"] = [{"kind": "external", "status": "accepted",
                                       "justification": f"{r.waiver['reason']} (owner {r.waiver['owner']}, "
                                                        f"expires {r.waiver['expires']})"}]
        if result["ruleIndex"] < 0:
            del result["ruleIndex"]
        results.append(result)
    run = {
        "tool": {"driver": {"name": "migcheck", "version": __version__, "semanticVersion": __version__,
                            "informationUri": "https://migcheck.example/", "rules": [_descriptor(r) for r in rules]}},
        "artifacts": [{"location": {"uri": report.snapshot_path},
                       "hashes": {"sha-256": report.snapshot_sha256}}],
        "invocations": [{"executionSuccessful": True,
                         "toolExecutionNotifications": [
                             {"level": "warning" if n["status"] != "expiring" else "note",
                              "message": {"text": n["message"]}} for n in report.waiver_notes]}],
        "results": results,
        "properties": {"command": report.command, "verdict": report.verdict, "manifest": report.manifest,
                       **({"plan": report.plan} if report.plan is not None else {}),
                       **({"placement": report.placement} if report.placement is not None else {})},
    }
    sarif = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [run]}
    return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"
