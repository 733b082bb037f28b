"""Rule packs: directories of `*.rules`, `data/*.yaml` tables and `tests/*.yaml` rule tests.

`load_rules(dirs)` parses, checks and compiles the built-in pack plus any site packs
together and returns a `RuleSet`, or raises `RuleError` with every diagnostic of every
pack. Data tables are YAML files (`rows:` a list, optional `description:`); a table's
row type is inferred from its rows, so rules that read a misspelt column fail the check.
Site configuration (severity overrides, disabled rules, extra rows) is applied here.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..core.perf import TIMINGS
from ..files.document import DEFAULT_MAX_BYTES, LoadError, load_document
from ..files.reader import read_text
from ..files.resources import builtin_rules_dir
from ..lang import ast
from ..lang.analysis.cost import cost_warnings  # a checked pack: loops over every guest in a rule run for each guest
from ..lang.checker import check_rules
from ..lang.compiler import CompiledRule, compile_rule
from ..lang.diagnostics import Diagnostic, RuleError, diag
from ..lang.parser import parse
from ..lang.types import Type, table_type


@dataclass
class Pack:
    path: Path
    files: list[ast.RuleFile] = field(default_factory=list)
    tables: dict[str, list] = field(default_factory=dict)
    table_files: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)


@dataclass
class RuleSet:
    rules: list[CompiledRule]
    packs: list[Pack]
    tables: dict[str, list]
    sources: dict[str, str]
    digest: str  # sha256 over every rule and table file, in load order
    warnings: list[Diagnostic] = field(default_factory=list)  # e.g. unused `let`s: they do not stop a run

    def by_id(self, rule_id: str) -> CompiledRule | None:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        return None

    def ids(self) -> list[str]:
        return [r.id for r in self.rules]


def read_pack(path: Path, diags: list[Diagnostic]) -> Pack:
    """Parse one pack directory; syntax and table problems go to `diags`."""
    pack = Pack(path)
    if not path.is_dir():
        diags.append(diag(str(path), 1, 1, "no-pack", "not a directory of rules",
                                "a pack is a directory holding *.rules files"))
        return pack
    rule_files = sorted(path.glob("*.rules"))
    if not rule_files:
        diags.append(diag(str(path), 1, 1, "no-pack", "no *.rules files in this directory"))
    for file in rule_files:
        try:  # through the one reader: bounded, a byte-order mark dropped, OS errors in words
            text, _ = read_text(file, DEFAULT_MAX_BYTES)
        except LoadError as exc:
            diags.extend(diag(p.file, p.line, p.col, "unreadable", p.message, p.help) for p in exc.problems)
            continue
        pack.sources[str(file)] = text
        parsed, problems = parse(text, str(file))
        diags.extend(problems)
        if parsed is not None:
            pack.files.append(parsed)
    for file in sorted((path / "data").glob("*.yaml")):
        name = file.stem
        try:
            doc = load_document(file)
        except LoadError as exc:
            diags.extend(exc.problems)
            continue
        pack.sources[str(file)] = doc.text
        data = doc.data
        if not isinstance(data, dict) or not isinstance(data.get("rows"), list) or set(data) - {"rows", "description"}:
            line, col = doc.position(())
            diags.append(diag(str(file), line, col, "bad-table",
                                    f"data table `{name}` must be a mapping with `rows:` (a list) and an optional "
                                    "`description:`"))
            continue
        pack.tables[name] = data["rows"]
        pack.table_files[name] = str(file)
    return pack


def load_rules(extra_dirs: list[str | Path] = (), *, builtin: bool = True, disable: list[str] = (),
               severity: dict[str, str] | None = None, extra_rows: dict[str, list] | None = None) -> RuleSet:
    """Load the built-in pack (unless `builtin=False`) and `extra_dirs`; raise `RuleError` on problems."""
    diags: list[Diagnostic] = []
    dirs = ([builtin_rules_dir()] if builtin else []) + [Path(d) for d in extra_dirs]
    with TIMINGS.stage("packs.parse"):
        packs = [read_pack(Path(d), diags) for d in dirs]
    tables: dict[str, list] = {}
    owner: dict[str, str] = {}
    for pack in packs:
        for name, rows in pack.tables.items():
            if name in tables:
                diags.append(diag(pack.table_files[name], 1, 1, "duplicate-table",
                                        f"data table `{name}` is already defined in {owner[name]}",
                                        "add rows to a table through the site configuration's `data:`"))
                continue
            tables[name] = list(rows)
            owner[name] = pack.table_files[name]
    for name, rows in (extra_rows or {}).items():
        tables[name] = tables[name] + list(rows)  # the config loader has checked names and rows
    types: dict[str, Type] = {name: table_type(rows) for name, rows in tables.items()}
    files = [f for pack in packs for f in pack.files]
    with TIMINGS.stage("packs.check"):
        checked, problems = check_rules(files, types)
    diags.extend(problems)
    sources = {k: v for pack in packs for k, v in pack.sources.items()}
    if any(d.is_error for d in diags):
        raise RuleError(diags, sources)
    diags.extend(w for c in checked for w in cost_warnings(c.rule))
    pack_of = {str(f.path): str(pack.path) for pack in packs for f in pack.files}
    rules = []
    disabled = set(disable)
    with TIMINGS.stage("packs.compile"):
        for c in checked:
            if c.rule.id in disabled:
                continue
            c.pack = pack_of.get(c.rule.span.file, "")
            rules.append(compile_rule(c, tables, (severity or {}).get(c.rule.id)))
    digest = hashlib.sha256()
    for name in sorted(sources, key=lambda s: (s.rsplit("/", 1)[-1], s)):
        digest.update(name.rsplit("/", 1)[-1].encode() + b"\0" + sources[name].encode() + b"\0")
    return RuleSet(rules, packs, tables, sources, digest.hexdigest(), sorted(set(diags)))


def is_builtin_pack(path: str | Path) -> bool:
    """Whether a pack directory is the built-in pack or a copy of it (a checkout's `rules/`, an edited copy).

    A copy holds most of the built-in pack's `*.rules` file names; `lint` and `test` check it
    in place of the built-in pack instead of loading both (30 false duplicate-rule errors).
    """
    path = Path(path)
    builtin = builtin_rules_dir()
    try:
        if os.path.realpath(path) == os.path.realpath(builtin):  # realpath: a symbolic link loop is no exception
            return True
        names = {f.name for f in path.glob("*.rules")}
    except OSError:
        return False
    own = {f.name for f in builtin.glob("*.rules")}
    return bool(own) and len(names & own) * 2 > len(own)


def packs_under_test(dirs: list[str | Path], no_builtin: bool = False) -> tuple[bool, list[Path]]:
    """For `lint` and `test`: (load the built-in pack besides `dirs`?, the dirs to load).

    A directory that is the built-in pack or a copy of it replaces the built-in pack;
    `no_builtin` leaves the built-in pack out in any case.
    """
    given = [Path(d) for d in dirs]
    copies = [d for d in given if is_builtin_pack(d)]
    return (not no_builtin and not copies), given
