"""Site configuration (`--config migcheck.yaml`): policy on top of the built-in pack.

Without `--config` the configuration is `MIGCHECK_CONFIG` when set and not empty, else the first
`migcheck.yaml` or `.migcheck.yaml` found from the working directory upward (`find_config`), as
ruff and pytest find theirs.

Extra rule packs, disabled rules, severity overrides, extra data-table rows, the default
`--fail-on` and the tags to run, all without editing a built-in file. An unknown rule id,
table or column is an error with its location, never ignored.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path

from ..core.records import Factory, record
from ..core.words import did_you_mean
from ..files.document import Limits, LoadError, Problem
from ..files.schemas import Input, as_written, load_validated
from ..lang.builtins import EvalError, parse_version
from .ruleset import Checked, Settings


@record
class Config:
    path: str
    rules: list[str] = Factory(list)
    disable: list[str] = Factory(list)
    severity: dict[str, str] = Factory(dict)
    fail_on: str | None = None
    data: dict[str, list] = Factory(dict)
    tags: list[str] = Factory(list)
    doc: object = None
    evaluation_budget: int | None = None  # steps per rule and subject (lang.compiler.Budget)

    def settings(self) -> Settings:
        """What the configuration decides before the packs are compiled."""
        return Settings(disable=frozenset(self.disable), severity=dict(self.severity), extra_rows=dict(self.data),
                        tags=frozenset(self.tags), budget=self.evaluation_budget)

    def problems_against(self, packs: Checked) -> list[Problem]:
        """Names in the configuration that the checked packs do not have, and rows that do not fit."""
        ruleset = packs
        doc = self.doc
        ids = ruleset.ids()
        problems = []

        def unknown_rule(path, rule_id):
            problems.append(doc.problem(path, f"unknown rule `{rule_id}`",
                                        did_you_mean(rule_id, ids, "see `migcheck rules`"), code="unknown-rule"))

        for i, rule_id in enumerate(self.disable):
            if rule_id not in ids:
                unknown_rule(("disable", i), rule_id)
        for rule_id in self.severity:
            if rule_id not in ids:
                problems.append(doc.problem(("severity", rule_id), f"unknown rule `{rule_id}`",
                                            did_you_mean(rule_id, ids), key=True, code="unknown-rule"))
        for name, rows in self.data.items():
            if name not in ruleset.tables:
                problems.append(doc.problem(("data", name), f"unknown data table `{name}`",
                                            did_you_mean(name, list(ruleset.tables)), key=True, code="unknown-table"))
                continue
            problems.extend(row_problems(doc, name, rows, ruleset.tables[name]))
        all_tags = packs.tags()
        for i, tag in enumerate(self.tags):
            if tag not in all_tags:
                problems.append(doc.problem(("tags", i), f"no loaded rule has the tag `{tag}`",
                                            did_you_mean(tag, sorted(all_tags)), code="unknown-tag"))
        return problems


@record
class Column:
    """What a data table's existing rows hold in one column."""

    kinds: set[str]  # of the present values: string, integer, number, boolean, list, mapping
    nullable: bool
    release: bool  # every present value is a release string ("4.2.5", "B.06.10")
    non_negative: bool = False  # every present value is a number, none below 0 (then no row's may be)


def _kind(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "mapping" if isinstance(value, dict) else "value"


def _is_release(value) -> bool:
    try:
        parse_version(value)
    except EvalError:
        return False
    return True


def table_columns(existing: list) -> dict[str, Column]:
    """Each column of a table's rows: its kinds, whether it may be absent, whether it holds releases."""
    rows = [r for r in existing if isinstance(r, dict)]
    columns: dict[str, Column] = {}
    for name in dict.fromkeys(k for r in rows for k in r):
        values = [r.get(name) for r in rows]
        present = [v for v in values if v is not None]
        kinds = {_kind(v) for v in present}
        release = bool(present) and kinds == {"string"} and all(_is_release(v) for v in present)
        non_negative = bool(present) and kinds <= {"integer", "number"} and min(present) >= 0
        columns[name] = Column(kinds, len(present) != len(values), release, non_negative)
    return columns


def _wanted(column: Column) -> str:
    if column.release:
        return "a release string"
    names = sorted(column.kinds)
    if names == ["integer", "number"]:
        return "a number"
    article = {"integer": "an integer", "mapping": "a mapping", "list": "a list"}
    return " or ".join(article.get(n, f"a {n}") for n in names) or "a value"


def _fits(value, column: Column) -> bool:
    kind = _kind(value)
    return kind in column.kinds or (kind == "integer" and "number" in column.kinds)


def row_problems(doc, table: str, rows: list, existing: list) -> list[Problem]:
    """Why extra rows for `table` do not fit its columns, each located at the row or the cell."""
    if not existing or not all(isinstance(r, dict) for r in existing):
        return []
    columns = table_columns(existing)
    problems = []
    for i, row in enumerate(rows):
        at = ("data", table, i)
        if not isinstance(row, dict):
            problems.append(doc.problem(at, f"row {i + 1} of `{table}` must be a mapping of "
                                            + ", ".join(f"`{c}`" for c in columns), code="bad-row"))
            continue
        for key in row:
            if key not in columns:
                problems.append(doc.problem(at + (key,), f"row {i + 1} of `{table}` has unknown column(s) `{key}`",
                                            did_you_mean(key, list(columns), "columns: "
                                                         + ", ".join(f"`{c}`" for c in columns)), key=True, code="bad-row"))
        for name, column in columns.items():
            value = row.get(name)
            if value is None:
                if not column.nullable:
                    what = "lacks" if name not in row else "has null for"
                    problems.append(doc.problem(at if name not in row else at + (name,),
                                                f"row {i + 1} of `{table}` {what} column `{name}` "
                                                f"({_wanted(column)})", code="bad-row"))
                continue
            if not _fits(value, column):
                number = _kind(value) in ("integer", "number")
                shown = as_written(doc, at + (name,), value) if number else value  # `6.10`, not the 6.1 read
                hint = f'; quote it as written: "{shown}" (a release is a string)' if column.release and number else ""
                problems.append(doc.problem(at + (name,), f"row {i + 1} of `{table}`: column `{name}` must be "
                                            f"{_wanted(column)}, not the {_kind(value)} `{shown}`{hint}", code="bad-row"))
            elif type(value) is float and not math.isfinite(value):
                problems.append(doc.problem(at + (name,), f"row {i + 1} of `{table}`: column `{name}` must be a finite "
                                            f"number, not `{value}`", "write a number such as 0.083 or 64", code="bad-row"))
            elif column.non_negative and value < 0:  # (a number: `_fits` said so)
                problems.append(doc.problem(at + (name,), f"row {i + 1} of `{table}`: column `{name}` must be 0 or "
                                            f"more (as in every row of the table), not `{value}`", code="bad-row"))
            elif column.release and not _is_release(value):
                problems.append(doc.problem(at + (name,), f"row {i + 1} of `{table}`: `{value}` in column `{name}` "
                                            "is not a release", "write a release such as 4.2.5, 6.1 or B.06.10", code="bad-row"))
    return problems


def _describe(path: tuple, data) -> str:
    return f"`{path[0]}`" if path else "the configuration"


CONFIG = Input("config.schema.json", _describe,
               "the configuration is a mapping (rules, disable, severity, fail_on, data, tags)")


CONFIG_LIMITS = Limits(bytes_option="configuration size limit")  # (--max-bytes is the snapshot's: not this one's)


def load_config(path: str, limits: Limits = CONFIG_LIMITS) -> Config:
    """Read and check the configuration's own structure; raise `LoadError` on problems."""
    doc = load_validated(path, CONFIG, limits)
    data = doc.data
    problems = []
    base = Path(path).parent
    rules = []
    for i, entry in enumerate(data.get("rules", [])):
        where = base / entry
        if not where.is_dir():
            problems.append(doc.problem(("rules", i), f"rule pack `{entry}` is not a directory (looked in {where})",
                                        code="bad-pack"))
        rules.append(str(where))
    if problems:
        raise LoadError(problems)
    return Config(path, rules, list(data.get("disable", [])), dict(data.get("severity", {})), data.get("fail_on"),
                  {k: list(v) for k, v in data.get("data", {}).items()}, list(data.get("tags", [])), doc,
                  data.get("evaluation_budget"))


CONFIG_NAMES = ("migcheck.yaml", ".migcheck.yaml")  # looked for in this order in each folder
CONFIG_ENV = "MIGCHECK_CONFIG"


def find_config(given: str | None, cwd: str | Path | None = None,
                environ: Mapping[str, str] = os.environ) -> tuple[str, str] | None:
    """The configuration a run uses and how it was found: `--config` (`given`), `MIGCHECK_CONFIG`,
    or the first of `CONFIG_NAMES` from `cwd` (the working directory) upward; None when there is none."""
    if given:
        return given, "--config"
    if environ.get(CONFIG_ENV, ""):
        return environ[CONFIG_ENV], CONFIG_ENV
    here = Path(cwd if cwd is not None else os.getcwd()).absolute()
    for folder in (here, *here.parents):
        for name in CONFIG_NAMES:
            candidate = folder / name
            if candidate.is_file():
                return str(candidate), f"found upward from {here}"
    return None
