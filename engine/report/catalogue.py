"""The catalogue of loaded rules (`migcheck rules`): table, JSON or Markdown."""

from __future__ import annotations

import json
import textwrap

from tabulate import tabulate

from .common import markdown_anchor, markdown_code, markdown_text


def rule_entry(rule) -> dict:
    return {"id": rule.id, "title": rule.title, "severity": rule.severity, "on": rule.subject,
            "tags": list(rule.tags), "cite": rule.cite, "file": rule.span.file, "line": rule.span.line}


def render_catalogue(ruleset, fmt: str) -> str:
    rules = sorted(ruleset.rules, key=lambda r: r.id)
    if fmt == "json":
        return json.dumps({"rules": [rule_entry(r) for r in rules], "rule_pack_sha256": ruleset.digest},
                          indent=2) + "\n"
    if fmt == "markdown":

        # each id carries an anchor: SARIF reports link to it (`helpUri`)
        lines = ["| id | severity | on | tags | title | source |", "|---|---|---|---|---|---|"]
        lines += [f'| <a id="{markdown_anchor(r.id)}"></a>{markdown_code(r.id)} | {r.severity} | {r.subject} | '
                  f"{markdown_text(', '.join(r.tags))} | {markdown_text(r.title)} | {markdown_text(r.cite)} |"
                  for r in rules]
        return "\n".join(lines) + "\n"
    rows = [[r.id, r.severity, r.subject, "\n".join(textwrap.wrap(r.title, 52))] for r in rules]
    return tabulate(rows, headers=["rule", "severity", "on", "title"], tablefmt="simple") + \
        f"\n{len(rules)} rules\n"
