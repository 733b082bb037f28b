"""Site configuration (`--config migcheck.yaml`): policy on top of the built-in pack.

Extra rule packs, disabled rules, severity overrides, extra data-table rows, the default
`--fail-on` and the tags to run, all without editing a built-in file. An unknown rule id,
table or column is an error with its location, never ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .document import LoadError, Problem, load_document
from .suggest import did_you_mean
from .validation import check_schema


@dataclass
class Config:
    path: str
    rules: list[str] = field(default_factory=list)
    disable: list[str] = field(default_factory=list)
    severity: dict[str, str] = field(default_factory=dict)
    fail_on: str | None = None
    data: dict[str, list] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    doc: object = None
    evaluation_budget: int | None = None  # steps per rule and subject (lang.compiler.Budget)

    def selects(self, rule) -> bool:
        return not self.tags or bool(set(self.tags) & set(rule.tags))

    def problems_against(self, ruleset) -> list[Problem]:
        """Names in the configuration that the loaded packs do not have, and rows that do not fit."""
        from .packs import row_type_problems

        doc = self.doc
        ids = ruleset.ids()
        problems = []

        def unknown_rule(path, rule_id):
            problems.append(doc.problem(path, f"unknown rule `{rule_id}`",
                                        did_you_mean(rule_id, ids, "see `migcheck rules`")))

        for i, rule_id in enumerate(self.disable):
            if rule_id not in ids:
                unknown_rule(("disable", i), rule_id)
        for rule_id in self.severity:
            if rule_id not in ids:
                problems.append(doc.problem(("severity", rule_id), f"unknown rule `{rule_id}`",
                                            did_you_mean(rule_id, ids), key=True))
        for name, rows in self.data.items():
            if name not in ruleset.tables:
                problems.append(doc.problem(("data", name), f"unknown data table `{name}`",
                                            did_you_mean(name, list(ruleset.tables)), key=True))
                continue
            for index, message in row_type_problems(name, rows, ruleset.tables[name]):
                problems.append(doc.problem(("data", name, index), message))
        all_tags = {t for r in ruleset.rules for t in r.tags}
        for i, tag in enumerate(self.tags):
            if tag not in all_tags:
                problems.append(doc.problem(("tags", i), f"no loaded rule has the tag `{tag}`",
                                            did_you_mean(tag, sorted(all_tags))))
        return problems


def _describe(path: tuple, data) -> str:
    return f"`{path[0]}`" if path else "the configuration"


def load_config(path: str) -> Config:
    """Read and check the configuration's own structure; raise `LoadError` on problems."""
    doc = load_document(path)
    if not isinstance(doc.data, dict):
        raise LoadError([doc.problem((), "the configuration is a mapping (rules, disable, severity, fail_on, "
                                         "data, tags)")])
    problems = check_schema(doc, "config.schema.json", _describe)
    if problems:
        raise LoadError(problems)
    data = doc.data
    base = Path(path).parent
    rules = []
    for i, entry in enumerate(data.get("rules", [])):
        where = base / entry
        if not where.is_dir():
            problems.append(doc.problem(("rules", i), f"rule pack `{entry}` is not a directory (looked in {where})"))
        rules.append(str(where))
    if problems:
        raise LoadError(problems)
    return Config(path, rules, list(data.get("disable", [])), dict(data.get("severity", {})), data.get("fail_on"),
                  {k: list(v) for k, v in data.get("data", {}).items()}, list(data.get("tags", [])), doc,
                  data.get("evaluation_budget"))
