"""Rule packs: directories of `*.rules`, `data/*.yaml` tables and `tests/*.yaml` rule tests.

`load_rules(dirs)` parses, checks and compiles the built-in pack plus any site packs
together and returns a `RuleSet`, or raises `RuleError` with every diagnostic of every
pack. Data tables are YAML files (`rows:` a list, optional `description:`); a table's
row type is inferred from its rows, so rules that read a misspelt column fail the check.
Site configuration (severity overrides, disabled rules, extra rows) is applied here.
"""

from __future__ import annotations

from pathlib import Path

from ..core.records import Factory, record
from ..core.perf import TIMINGS
from ..files.document import DEFAULT_MAX_BYTES, LoadError, parse_text
from ..files.outputs import real_path
from ..files.reader import NOT_REGULAR, read_text, regular_file, sha256_hex
from ..files.resources import builtin_rules_dir
from ..lang import ast
from ..lang.analysis.cost import cost_warnings  # a checked pack: loops over every guest in a rule run for each guest
from ..lang.analysis import hoist, sharing
from ..lang.checker import Analysis, CheckedRule, check_rules
from ..lang.compiler import CompiledRule, compile_rule
from ..lang.diagnostics import Diagnostic, RuleError, diag
from . import cache
from ..lang.types import Type, table_type


@record
class Pack:
    path: Path
    files: list[ast.RuleFile] = Factory(list)
    tables: dict[str, list] = Factory(dict)
    table_files: dict[str, str] = Factory(dict)
    sources: dict[str, str] = Factory(dict)


@record
class RuleSet:
    rules: list[CompiledRule]
    packs: list[Pack]
    tables: dict[str, list]
    sources: dict[str, str]
    digest: str  # sha256 over every rule and table file, in load order
    warnings: list[Diagnostic] = Factory(list)  # e.g. unused `let`s: they do not stop a run
    left_out: frozenset = frozenset()  # ids of the packs' rules the settings do not run (`disable`, `tags`)

    def by_id(self, rule_id: str) -> CompiledRule | None:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        return None

    def ids(self) -> list[str]:
        return [r.id for r in self.rules]


@record
class PackFiles:
    """One pack directory's files as read (not yet parsed): (file, text) of its rules and data tables."""

    path: Path
    rules: list[tuple[Path, str]] = Factory(list)
    tables: list[tuple[Path, str]] = Factory(list)

    def texts(self) -> list[tuple[str, str]]:
        return [(str(f), t) for f, t in self.rules] + [(str(f), t) for f, t in self.tables]


def read_pack_files(path: Path, diags: list[Diagnostic]) -> PackFiles:
    """Read one pack directory's rule and table files (through the one reader: bounded, a byte-order mark
    dropped, OS errors in words); problems go to `diags`."""
    found = PackFiles(path)
    try:
        is_dir = path.is_dir()
        rule_files = sorted(path.glob("*.rules")) if is_dir else []
        tables = sorted((path / "data").glob("*.yaml")) if is_dir else []
    except OSError as exc:  # a folder on the way that cannot be read (another user's /proc/PID/cwd)
        diags.append(diag(str(path), 1, 1, "unreadable", f"cannot read this pack: {exc.strerror or exc}"))
        return found
    if not is_dir:
        diags.append(diag(str(path), 1, 1, "no-pack", "not a directory of rules",
                                "a pack is a directory holding *.rules files"))
        return found
    if not rule_files:
        diags.append(diag(str(path), 1, 1, "no-pack", "no *.rules files in this directory"))
    for kind, files in ((found.rules, rule_files), (found.tables, tables)):
        for file in files:
            if not regular_file(file):  # a FIFO or a device found in a pack holds reading forever: not opened
                diags.append(diag(str(file), 1, 1, "unreadable", NOT_REGULAR, "put the rule or table file itself here"))
                continue
            try:
                kind.append((file, read_text(file, DEFAULT_MAX_BYTES)[0]))
            except LoadError as exc:
                diags.extend(diag(p.file, p.line, p.col, "unreadable", p.message, p.help) if kind is found.rules
                             else p for p in exc.problems)
    return found


def read_pack(path: Path, diags: list[Diagnostic], files: PackFiles | None = None) -> Pack:
    """Parse one pack directory (`files`: as read already); syntax and table problems go to `diags`."""
    files = files if files is not None else read_pack_files(path, diags)
    pack = Pack(path)
    for file, text in files.rules:
        pack.sources[str(file)] = text
        parsed, problems = _parse(text, str(file))
        diags.extend(problems)
        if parsed is not None:
            pack.files.append(parsed)
    for file, text in files.tables:
        name = file.stem
        try:
            doc = parse_text(text, str(file))
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


def _parse(text: str, file: str):
    """(AST, syntax diagnostics) of a rule file, from the parse cache when it holds them (`packs.cache`):
    lark and the parser are imported only when a file is parsed."""
    found = cache.load(text, file)
    if found is not None:
        return found
    from ..lang.parser import parse  # lark: only on a cache miss
    parsed, problems = parse(text, file)
    cache.store(text, file, parsed, problems)
    return parsed, problems


@record
class Checked:
    """Packs read and checked, not yet compiled: what the site configuration is checked against."""

    packs: list[Pack]
    checked: list  # lang.checker.CheckedRule, in load order
    tables: dict[str, list]  # the packs' own rows
    sources: dict[str, str]
    diagnostics: list[Diagnostic]

    def ids(self) -> list[str]:
        return [c.rule.id for c in self.checked]

    def tags(self) -> set[str]:
        return {t for c in self.checked for t in c.rule.get("tags", ())}


@record(frozen=True)
class Settings:
    """What the site configuration decides before compiling: no compiled rule is changed afterwards."""

    disable: frozenset = frozenset()
    severity: dict = Factory(dict)
    extra_rows: dict = Factory(dict)  # table -> rows, checked against the packs' rows
    tags: frozenset = frozenset()  # run only rules with one of these tags (empty: every rule)
    budget: int | None = None  # evaluation_budget


def load_rules(extra_dirs: list[str | Path] = (), *, builtin: bool = True, config=None) -> RuleSet:
    """Load the built-in pack (unless `builtin=False`) and `extra_dirs`, apply the site configuration
    (`packs.config.Config`) and compile; raise `RuleError` on pack problems, `LoadError` on
    configuration problems."""
    checked = check_packs(extra_dirs, builtin=builtin)
    settings = Settings()
    if config is not None:
        problems = config.problems_against(checked)
        if problems:
            raise LoadError(problems)
        settings = config.settings()
    return compile_packs(checked, settings)


def _once(dirs: list[Path]) -> list[Path]:
    """`dirs` without the later namings of a folder named before (the same folder however spelled)."""
    seen, out = set(), []
    for d in dirs:
        key = real_path(d)  # (an unreadable link on the way: its absolute path; its problem is said when read)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def check_packs(extra_dirs: list[str | Path] = (), *, builtin: bool = True) -> Checked:
    """Parse and check the packs; raise `RuleError` on problems (warnings are kept). Packs whose files
    are all as an earlier run checked them come from the cache (`packs.cache`), nothing parsed or checked:
    the `packs.parse` stage then reads the entry and `packs.check` restores the checker's types from it."""
    diags: list[Diagnostic] = []
    dirs = ([builtin_rules_dir()] if builtin else []) + [Path(d) for d in extra_dirs]
    dirs = _once(dirs)  # a pack named twice (by the configuration and by --rules) is loaded once
    with TIMINGS.stage("packs.parse"):
        read = [read_pack_files(Path(d), diags) for d in dirs]
        key = None if diags else cache.checked_key([t for files in read for t in files.texts()])
        entry = cache.load_checked(key)
        if entry is None:
            packs = [read_pack(files.path, diags, files) for files in read]
    if entry is not None:
        with TIMINGS.stage("packs.check"):
            return _from_cache(entry)
    tables = _tables(packs, diags)
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
    for c in checked:
        c.pack = pack_of.get(c.rule.span.file, "")
    result = Checked(packs, checked, tables, sources, diags)
    if key is not None:
        try:
            kept = _to_cache(result)
        except RecursionError:  # a rule nested too deeply to walk: checked again next time
            kept = None
        if kept is not None:
            cache.store_checked(key, kept)
    return result


def _to_cache(checked: Checked) -> tuple | None:
    """The checked packs as plain values for the cache (the checker's types keyed by their nodes, which
    the entry holds, instead of by `id`, and each rule's `Analysis` with its hoisted nodes); None when a
    type's node is not found in its rule."""
    rules = []
    for c in checked.checked:
        nodes = _nodes(c.rule, {})
        if any(key not in nodes for key in c.types):
            return None
        rules.append((c.rule, [(nodes[key], t) for key, t in c.types.items()], c.reads, c.text_reads, c.pack,
                      hoist.hoisted(nodes.values()), sharing._order_free(c.rule), sharing._constant_when(c.rule)))
    packs = [(str(p.path), p.files, p.tables, p.table_files, p.sources) for p in checked.packs]
    return packs, rules, checked.tables, checked.sources, checked.diagnostics


def _from_cache(value: tuple) -> Checked:
    packs, rules, tables, sources, diagnostics = value
    return Checked([Pack(Path(path), files, rows, table_files, texts) for path, files, rows, table_files, texts in packs],
                   [CheckedRule(rule, {id(node): t for node, t in types}, reads, text_reads, pack,
                                Analysis(frozenset(map(id, hoisted)), order_free, constant_when))
                    for rule, types, reads, text_reads, pack, hoisted, order_free, constant_when in rules],
                   tables, sources, diagnostics)


def _nodes(node, found: dict) -> dict:
    """Every AST node under `node` (itself included), by id."""
    if isinstance(node, (tuple, list)):
        for item in node:
            _nodes(item, found)
    elif isinstance(node, ast.Node) and id(node) not in found:
        found[id(node)] = node
        for name in node._fields:
            _nodes(getattr(node, name), found)
    return found


def _tables(packs: list[Pack], diags: list[Diagnostic]) -> dict[str, list]:
    """Every pack's data tables by name; a name defined twice is a problem."""
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
    return tables


def compile_packs(checked: Checked, settings: Settings = Settings()) -> RuleSet:
    """Compile every rule the settings keep, once, against the tables with the configuration's rows.

    The configuration's rows come first: where a rule takes the first matching row (`memory_overhead`,
    `vcpu_limits`, `processor_groups`), a site's row for a release or processor a built-in row covers is the
    one used, the site's own knowledge (a measured overhead) before the packs' (appended, a built-in
    Integrity VM 4.x overhead row hid a site's larger one: READY)."""
    tables = {name: list(settings.extra_rows.get(name, ())) + rows for name, rows in checked.tables.items()}
    rules, left_out = [], set()
    with TIMINGS.stage("packs.compile"):
        for c in checked.checked:
            if c.rule.id in settings.disable or (settings.tags and not settings.tags & set(c.rule.get("tags", ()))):
                left_out.add(c.rule.id)
                continue
            rules.append(compile_rule(c, tables, settings.severity.get(c.rule.id), settings.budget))
    sources = checked.sources
    digest = sha256_hex(b"".join(name.rsplit("/", 1)[-1].encode() + b"\0" + sources[name].encode() + b"\0"
                                 for name in sorted(sources, key=lambda s: (s.rsplit("/", 1)[-1], s))))
    return RuleSet(rules, checked.packs, tables, sources, digest, sorted(set(checked.diagnostics)), frozenset(left_out))


def is_builtin_pack(path: str | Path) -> bool:
    """Whether a pack directory is the built-in pack or a copy of it (a checkout's `rules/`, an edited copy).

    A copy holds most of the built-in pack's `*.rules` file names; `lint` and `test` check it
    in place of the built-in pack instead of loading both (30 false duplicate-rule errors).
    """
    path = Path(path)
    builtin = builtin_rules_dir()
    try:
        if real_path(path) == real_path(builtin):  # realpath: a symbolic link loop is no exception
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
