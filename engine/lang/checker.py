"""Stage: parsed rules to checked rules, or diagnostics. Runs before any snapshot is read.

`check_rules(files, tables)` types every expression against the scope of the rule's
subject (types derived from the snapshot schema, see `types`) and the pack's data
tables, and yields diagnostics for: unknown names, fields, functions and tables (with
"did you mean"), wrong arity, type mismatches, comparisons that can never be true (a
value outside an enum), invalid regular expressions, operands that may be absent where a
value is needed, missing or repeated metadata, unused `let`s and duplicate rule ids.

Null means "absent". `==` and `!=` compare with it freely; every other operator needs a
present value, so an optional field must be guarded first (`f.label != null and ...`,
a `when`, or `default(f.label, "")`). The checker follows such guards through `and`,
`or`, `not`, `when`, `where` and into the branches of `if ... then ... else ...`, whose type is
the join of its branches' (`types.join`; branches of two kinds are a `type-mismatch`).
"""

from __future__ import annotations

from fractions import Fraction

from ..core.records import Factory, record
from . import ast
from .builtins import BUILTINS, REGEX_HELP, EvalError, compile_pattern, parse_version
from ..core.words import did_you_mean
from .diagnostics import Diagnostic, at
from .analysis.constants import constant
from .analysis.reads import read_paths, text_paths
from .types import ANY, BOOL, FLOAT, INT, NULL, STRING, Type, join, list_of, subject_scope, unify
from .visit import Visitor
from ..core.vocabulary import RESERVED, SCOPES, SEVERITIES, SUBJECTS, TABLES

REQUIRED_META = ("title", "severity", "on", "message", "cite")


@record
class CheckedRule:
    rule: ast.Rule
    types: dict[int, Type] = Factory(dict)  # id(expression node) -> its type
    reads: frozenset = frozenset()  # paths of the subjects the rule's outcome depends on (see reads)
    text_reads: frozenset = frozenset()  # and those its failures' texts read besides (`reads.text_paths`)
    pack: str = ""
    analysis: Analysis | None = None  # what the compiler would work out from the AST alone, when known


@record(frozen=True)
class Analysis:
    """What compiling a rule reads of its AST alone, worked out once and kept in the packs cache with the
    checked rule (cold start): the compiler of a warm run then walks nothing to decide it. None of it is a
    closure; every part is what the compiler would compute itself (tests/test_startup_analysis.py)."""

    hoisted: frozenset  # id() of the rule's nodes worth hoisting (`analysis.hoist.worth_hoisting`)
    order_free: frozenset  # `analysis.sharing._order_free(rule)`
    constant_when: object  # `analysis.sharing._constant_when(rule)`: a node or None


_key = ast.dotted  # a guardable path (`f.label`)


def _facts(expr, truth: bool) -> frozenset:
    """Paths known to be present when `expr` evaluates to `truth`."""
    if isinstance(expr, ast.Compare) and expr.op in ("==", "!="):
        sides = (expr.left, expr.right)
        for this, other in (sides, sides[::-1]):
            if isinstance(other, ast.Literal) and other.value is None and _key(this):
                present = (expr.op == "!=") == truth
                return frozenset({_key(this)}) if present else frozenset()
            if isinstance(other, ast.Literal) and other.value is not None and expr.op == "==" and truth and _key(this):
                return frozenset({_key(this)})
        return frozenset()
    if isinstance(expr, ast.Logic):
        if (expr.op == "and") == truth:
            return _facts(expr.left, truth) | _facts(expr.right, truth)
        return _facts(expr.left, truth) & _facts(expr.right, truth)
    if isinstance(expr, ast.Not):
        return _facts(expr.operand, not truth)
    return frozenset()


class _Scope:
    def __init__(self, names: dict[str, Type], facts: frozenset = frozenset()):
        self.names = names
        self.facts = facts

    def bind(self, name: str, t: Type) -> _Scope:
        return _Scope({**self.names, name: t}, self.facts - {name} - {f for f in self.facts if f.startswith(name + ".")})

    def know(self, facts: frozenset) -> _Scope:
        return _Scope(self.names, self.facts | facts) if facts else self


class Checker(Visitor):
    """Types one rule's expressions; collects diagnostics rather than raising."""

    prefix = "check_"

    def __init__(self, tables: dict[str, Type], diagnostics: list[Diagnostic]):
        self.tables = tables
        self.diags = diagnostics
        self.types: dict[int, Type] = {}
        self.used: set[str] = set()
        self.lets: dict[str, ast.Let] = {}
        self.constants: dict[int, object] = {}  # id(node) -> its value when it reads nothing (`constant`)

    def error(self, span, code, message, help=""):
        self.diags.append(at(span, code, message, help))

    # -- steps: each checks its expressions and gives the scope of the steps after it -------
    def step(self, step, scope: _Scope) -> _Scope:
        return self.method_for(step)(self, step, scope)

    def check_When(self, step: ast.When, scope: _Scope) -> _Scope:
        self._need_bool(self.expr(step.expr, scope), step.expr, "`when`")
        return scope.know(_facts(step.expr, True))

    def check_For(self, step: ast.For, scope: _Scope) -> _Scope:
        source = self.expr(step.source, scope)
        elem = self._iterable(source, step.source, step.var, scope, at=step.span)
        scope = scope.bind(step.var, elem)
        if step.cond is not None:
            self._need_bool(self.expr(step.cond, scope), step.cond, "`where`")
            scope = scope.know(_facts(step.cond, True))
        return scope

    def check_Let(self, step: ast.Let, scope: _Scope) -> _Scope:
        self._binding(step.name, scope, step.span)
        self.lets[step.name] = step
        return scope.bind(step.name, self.expr(step.expr, scope))

    def check_Require(self, step: ast.Require, scope: _Scope) -> _Scope:
        self._need_bool(self.expr(step.expr, scope), step.expr, "`require`")
        return scope

    # -- expressions -----------------------------------------------------------------
    def expr(self, node, scope: _Scope) -> Type:
        t = self.method_for(node)(self, node, scope)
        if t.nullable and _key(node) in scope.facts:
            t = t.with_null(False)
        self.types[id(node)] = t
        return t

    def check_Literal(self, node, scope):
        v = node.value
        if v is None:
            return NULL
        if isinstance(v, bool):
            return BOOL
        if isinstance(v, int):
            return INT
        if isinstance(v, (float, Fraction)):
            return FLOAT
        return STRING

    def check_ListExpr(self, node, scope):
        items = [self.expr(i, scope) for i in node.items]
        return list_of(unify(items) if items else ANY)

    def check_Name(self, node, scope):
        if node.name == TABLES:
            self.error(node.span, "unknown-table", "`data` needs a table name: `data.NAME`",
                       _tables_help(self.tables))
            return ANY
        t = scope.names.get(node.name)
        if t is None:
            candidates = list(scope.names) + [TABLES]
            help = did_you_mean(node.name, candidates, "names here: " + ", ".join(f"`{c}`" for c in candidates))
            self.error(node.span, "unknown-name", f"unknown name `{node.name}`", help)
            return ANY
        self.used.add(node.name)
        return t

    def check_Attr(self, node, scope):
        if isinstance(node.obj, ast.Name) and node.obj.name == TABLES:
            t = self.tables.get(node.field)
            if t is None:
                self.error(node.span, "unknown-table", f"unknown data table `{node.field}`",
                           did_you_mean(node.field, self.tables, _tables_help(self.tables)))
                return ANY
            self.types[id(node.obj)] = ANY
            return t
        base = self.expr(node.obj, scope)
        return self._field(base, node, scope)

    def _field(self, base: Type, node, scope) -> Type:
        if base.kind == "any":
            return ANY
        if base.kind == "list":
            inner = self._field(base.elem, node, scope)
            flat = inner.elem if inner.kind == "list" else inner
            return list_of(flat.with_null(False))  # mapping skips absent values
        if base.kind != "object":
            self.error(node.span, "type-mismatch", f"{base} has no fields; `.{node.field}` cannot apply")
            return ANY
        t = base.field(node.field)
        if t is None:
            names = base.field_names()
            help = did_you_mean(node.field, names, "fields: " + ", ".join(f"`{n}`" for n in names))
            self.error(node.span, "unknown-field", f"{base.name} has no field `{node.field}`", help)
            return ANY
        return t.with_null(t.nullable or base.nullable)

    def check_Neg(self, node, scope):
        t = self.expr(node.operand, scope)
        self._need_number(t, node.operand, "`-`")
        return t if t.numeric else ANY

    def check_Not(self, node, scope):
        self._need_bool(self.expr(node.operand, scope), node.operand, "`not`")
        return BOOL

    def check_Logic(self, node, scope):
        self._need_bool(self.expr(node.left, scope), node.left, f"`{node.op}`")
        inner = scope.know(_facts(node.left, node.op == "and"))
        self._need_bool(self.expr(node.right, inner), node.right, f"`{node.op}`")
        return BOOL

    def check_Conditional(self, node, scope):
        """Both branches are checked, each knowing what the test proves there (`if o == null then 0 else
        o.x`); the value is of their join: numbers mix, a `null` branch makes it optional, else one kind."""
        self._need_bool(self.expr(node.test, scope), node.test, "`if`")
        then = self.expr(node.then, scope.know(_facts(node.test, True)))
        otherwise = self.expr(node.otherwise, scope.know(_facts(node.test, False)))
        joined = join(_empty_as(then, node.then, otherwise), _empty_as(otherwise, node.otherwise, then))
        if joined is None:
            self.error(_span(node.otherwise), "type-mismatch",
                       f"the branches of `if` differ: {then} after `then`, {otherwise} after `else`",
                       "both branches give one kind of value (an integer and a number mix; `null` makes it "
                       "optional); convert one, or split the rule")
            return ANY
        return joined

    def check_Compare(self, node, scope):
        left, right = self.expr(node.left, scope), self.expr(node.right, scope)
        op = node.op
        if op in ("==", "!="):
            self._comparable(left, right, node)
            self._release_literal(left, node.right)
            self._release_literal(right, node.left)
            return BOOL
        if op in ("in", "not in"):
            if right.kind not in ("list", "string", "any"):
                self.error(node.right.span if hasattr(node.right, "span") else node.span, "type-mismatch",
                           f"`{op}` needs a list or a string on its right, not {right}")
                return BOOL
            self._need_present(right, node.right, f"`{op}`")
            if right.kind == "list":
                self._comparable(left, right.elem, node)
                if isinstance(node.right, ast.ListExpr):
                    for item in node.right.items:
                        self._enum_literal(left, node.left, item, op)
            elif right.kind == "string":
                self._need_present(left, node.left, f"`{op}`")
            return BOOL
        if op == "matches":
            self._need_present(left, node.left, "`matches`")
            if left.kind not in ("string", "any"):
                self.error(node.span, "type-mismatch", f"`matches` needs a string on its left, not {left}")
            if isinstance(node.right, ast.Literal) and isinstance(node.right.value, str):
                try:
                    compile_pattern(node.right.value)
                except EvalError as exc:
                    self.error(node.right.span, "invalid-regex", exc.message, REGEX_HELP)
            elif right.kind not in ("string", "any"):
                self.error(node.span, "type-mismatch", f"`matches` needs a pattern string, not {right}")
            return BOOL
        # ordering
        self._need_present(left, node.left, f"`{op}`")
        self._need_present(right, node.right, f"`{op}`")
        kinds = {left.kind, right.kind} - {"any"}
        self._release_literal(left, node.right)
        self._release_literal(right, node.left)
        if kinds <= {"int", "float"} or kinds <= {"version", "string"} or not kinds:
            if kinds == {"string"}:
                for side in (node.left, node.right):
                    if isinstance(side, ast.Attr) and side.field == "version":
                        self.error(side.span, "version-as-string",
                                   f"`{_key(side) or side.field}` is a release compared as text (\"10.1\" < \"9.1\")",
                                   f"compare releases with `version({_key(side) or '...'})`")
                        break
            return BOOL
        self.error(node.span, "type-mismatch", f"cannot order {left} and {right} with `{op}`")
        return BOOL

    def check_Arith(self, node, scope):
        left, right = self.expr(node.left, scope), self.expr(node.right, scope)
        self._need_present(left, node.left, f"`{node.op}`")
        self._need_present(right, node.right, f"`{node.op}`")
        if node.op == "+" and {left.kind, right.kind} <= {"string", "any"} and "string" in (left.kind, right.kind):
            return STRING  # a value of unknown type (`attrs`) joined with a string, as with a number: checked when run
        for t, side in ((left, node.left), (right, node.right)):
            if t.kind not in ("int", "float", "any"):
                self.error(_span(side), "type-mismatch", f"`{node.op}` needs numbers, not {t}")
                return ANY
        self._constant(node)
        if "any" in (left.kind, right.kind):
            return ANY
        return INT if left.kind == right.kind == "int" and node.op != "/" else FLOAT

    def check_Call(self, node, scope):
        fn = BUILTINS.get(node.func)
        if fn is None:
            self.error(node.span, "unknown-function", f"unknown function `{node.func}`",
                       did_you_mean(node.func, BUILTINS, "functions: " + ", ".join(sorted(BUILTINS))))
            for arg in node.args:
                if not isinstance(arg, ast.Selection):
                    self.expr(arg, scope)
            return ANY
        if not fn.min_args <= len(node.args) <= fn.max_args:
            want = str(fn.min_args) if fn.min_args == fn.max_args else f"{fn.min_args} to {fn.max_args}"
            self.error(node.span, "arity", f"`{node.func}` takes {want} argument(s), not {len(node.args)}",
                       f"usage: {fn.signature}")
            return ANY
        if len(node.args) > 1 and any(isinstance(a, ast.Selection) for a in node.args):
            self.error(node.span, "type-mismatch", f"a selection (`x in xs where ...`) must be the only argument "
                       f"of `{node.func}`", f"usage: {fn.signature}; or select first: `[x for x in xs where ...]`")
            return ANY
        types = []
        for arg in node.args:
            if isinstance(arg, ast.Selection):
                source = self._selection(arg, scope)
                types.append(source)
                if node.func in ("any", "all"):
                    types[-1] = list_of(BOOL)
            else:
                t = self.expr(arg, scope)
                types.append(t)
        for i, (arg, t) in enumerate(zip(node.args, types)):
            if i not in fn.nullable_args and not isinstance(arg, ast.Selection):
                self._need_present(t, arg, f"`{node.func}()`")
        if node.func == "default" and len(types) == 2:  # `default(xs, [])`: the empty list is a list of xs' items
            types[1] = _empty_as(types[1], node.args[1], types[0])
        result = fn.check(types)
        if isinstance(result, str):
            self.error(node.span, "type-mismatch", f"`{node.func}` {result}", f"usage: {fn.signature}")
            return ANY
        self._constant(node)
        return result

    def _constant(self, node) -> None:
        """A part that reads nothing is computed now: what fails would fail on every subject."""
        try:
            constant(node, self.constants)
        except EvalError as exc:
            self.error(exc.span or node.span, "type-mismatch", exc.message,
                       "this part reads nothing of its subject: it would be an error on every one")

    def _release_literal(self, t: Type, other) -> None:
        """A string literal compared with a release is read as one: a literal that is not one is found now."""
        if t.kind == "version" and isinstance(other, ast.Literal) and isinstance(other.value, str):
            try:
                parse_version(other.value)
            except EvalError as exc:
                self.error(other.span, "type-mismatch", exc.message,
                           "a release reads like 11.31, 6.1.0 or B.11.31 (compared numerically)")

    def _selection(self, sel: ast.Selection, scope: _Scope) -> Type:
        source = self.expr(sel.source, scope)
        elem = self._iterable(source, sel.source, sel.var, scope)
        inner = scope.bind(sel.var, elem)
        self._need_bool(self.expr(sel.cond, inner), sel.cond, "`where`")
        return list_of(elem)

    def check_Comprehension(self, node, scope):
        source = self.expr(node.source, scope)
        elem = self._iterable(source, node.source, node.var, scope)
        inner = scope.bind(node.var, elem)
        if node.cond is not None:
            self._need_bool(self.expr(node.cond, inner), node.cond, "`where`")
            inner = inner.know(_facts(node.cond, True))
        return list_of(self.expr(node.expr, inner))

    def _iterable(self, t: Type, node, var: str, scope: _Scope, at=None) -> Type:
        self._binding(var, scope, at or _span(node))
        if t.kind == "any":
            return ANY
        if t.kind != "list":
            self.error(_span(node), "type-mismatch", f"expected a list to iterate over, not {t}")
            return ANY
        self._need_present(t, node, "iteration")
        return t.elem

    # -- helpers ---------------------------------------------------------------------
    def _binding(self, name: str, scope: _Scope, span) -> None:
        """A name a `let`, `for`, selection or comprehension binds: not one bound here already, not a
        keyword of the language (`let if = 1` would read as a conditional where it is used), and not
        one any subject's scope has (`vocabulary.RESERVED`): a value computed once per run, and the
        matrix's classes, take such a name for the run's own."""
        if name in scope.names:
            self.error(span, "shadowed-name", f"`{name}` is already bound here", "choose another name")
        elif name in RESERVED or name in ast.KEYWORDS:
            self.error(span, "reserved-name", f"`{name}` is a reserved name: {_reserved_for(name)}; no rule may "
                       "bind it", "choose another name")

    def _need_present(self, t: Type, node, what: str) -> None:
        if t.nullable and t.kind != "any":
            key = _key(node)
            shown = f"`{key}`" if key else "this value"
            self.error(_span(node), "nullable-operand", f"{shown} may be absent, and {what} needs a value",
                       f"guard it with `{key or 'x'} != null and ...`, or use `default({key or 'x'}, ...)`")

    def _need_bool(self, t: Type, node, what: str) -> None:
        if t.kind not in ("bool", "any"):
            self.error(_span(node), "type-mismatch", f"{what} needs a boolean, not {t}")
        else:
            self._need_present(t, node, what)

    def _need_number(self, t: Type, node, what: str) -> None:
        if t.kind not in ("int", "float", "any"):
            self.error(_span(node), "type-mismatch", f"{what} needs a number, not {t}")
        else:
            self._need_present(t, node, what)

    def _comparable(self, a: Type, b: Type, node) -> None:
        kinds = {a.kind, b.kind} - {"any", "null"}
        if len(kinds) > 1 and not kinds <= {"int", "float"} and not kinds <= {"string", "version"}:
            self.error(node.span, "type-mismatch", f"comparing {a} with {b} is never true")
            return
        for this, other, t in ((node.left, node.right, a), (node.right, node.left, b)):
            self._enum_literal(t, this, other, node.op)

    def _enum_literal(self, t: Type, subject, literal, op: str) -> None:
        """A literal outside an enum: `==` / `in` can never hold (an error); `!=` / `not in` always
        holds, which is harmless but surely not meant (a warning)."""
        if t.enum and isinstance(literal, ast.Literal) and isinstance(literal.value, str) and literal.value not in t.enum:
            name = _key(subject) or "the value"
            if op in ("!=", "not in"):
                self.error(literal.span, "always-true",
                           f"`{name}` is {t.with_null(False)}; it is never `{literal.value}`, so `{op}` always holds",
                           did_you_mean(literal.value, sorted(t.enum)))
                return
            self.error(literal.span, "impossible-comparison",
                       f"`{name}` is {t.with_null(False)}; it is never `{literal.value}`",
                       did_you_mean(literal.value, sorted(t.enum)))


def _empty_as(t: Type, node, other: Type) -> Type:
    """The type of `node`, or for an empty list literal beside a list (`default(xs, [])`, `if c then xs
    else []`) the other list's: it has no item to be of another kind, and `xs`' items keep their fields
    checked (a list of any value would let `m.mount_pointt` through)."""
    if isinstance(node, ast.ListExpr) and not node.items and other.kind == "list":
        return other.with_null(False)
    return t


def _reserved_for(name: str) -> str:
    if name in ast.KEYWORDS:
        return "it is a word of the rule language"
    if name == TABLES:
        return "it names the data tables (`data.NAME`)"
    return "rules on " + ", ".join(subject for subject, scope in SCOPES.items() if name in scope) + " see it"


def _span(node):
    while isinstance(node, (ast.Compare, ast.Arith, ast.Logic)):
        node = node.left
    return node.span


def _tables_help(tables: dict) -> str:
    return "tables: " + ", ".join(f"`{t}`" for t in sorted(tables)) if tables else "this pack has no data tables"


def check_rule(rule: ast.Rule, tables: dict[str, Type], diags: list[Diagnostic]) -> CheckedRule:
    """Check one rule's metadata and body; append its diagnostics to `diags`."""
    seen: dict[str, ast.Meta] = {}
    for m in rule.meta:
        if m.key in seen:
            diags.append(at(m.span, "duplicate-clause", f"rule `{rule.id}` has a second `{m.key}`",
                            f"the first is at line {seen[m.key].span.line}"))
        seen.setdefault(m.key, m)
    for key in REQUIRED_META:
        if key not in seen:
            diags.append(at(rule.span, "missing-metadata", f"rule `{rule.id}` has no `{key}`",
                            _META_HELP[key]))
    severity = seen.get("severity")
    if severity and severity.value not in SEVERITIES:
        diags.append(at(severity.value_span, "unknown-severity", f"unknown severity `{severity.value}`",
                        did_you_mean(severity.value, SEVERITIES, "severities: error, warning, info")))
    subject = seen.get("on")
    subject_name = "migration"
    if subject:
        if subject.value not in SUBJECTS:
            diags.append(at(subject.value_span, "unknown-subject", f"unknown subject `{subject.value}`",
                            did_you_mean(subject.value, SUBJECTS, "subjects: " + ", ".join(SUBJECTS))))
        else:
            subject_name = subject.value
    checker = Checker(tables, diags)
    scope = _Scope(dict(subject_scope(subject_name)))
    requires = [s for s in rule.steps if isinstance(s, ast.Require)]
    if not requires:
        diags.append(at(rule.span, "missing-metadata", f"rule `{rule.id}` has no `require`",
                        "add `require CONDITION`: what must hold for the rule to pass"))
    for extra in requires[1:]:
        diags.append(at(extra.span, "duplicate-clause", f"rule `{rule.id}` has a second `require`",
                        "join the conditions with `and`"))
    after_require = False
    for step in rule.steps:
        if after_require:
            diags.append(at(step.span, "unreachable", f"`{_step_name(step)}` after `require` has no effect",
                            "move it before `require`"))
            continue
        scope = checker.step(step, scope)
        after_require = isinstance(step, ast.Require)
    for key in ("message", "fix"):
        template = seen.get(key)
        if template is not None:
            for part in template.value.parts:
                if not isinstance(part, str):
                    checker.expr(part, scope)
    for name, step in checker.lets.items():
        if name not in checker.used:
            diags.append(at(step.span, "unused-let", f"`{name}` is never used",
                            "remove the `let`, or use it in `require`, `message` or `fix`"))
    return CheckedRule(rule, checker.types, read_paths(rule, checker.types), text_reads=text_paths(rule, checker.types))


_META_HELP = {
    "title": 'add `title "What the rule checks, in one line"`',
    "severity": "add `severity error`, `severity warning` or `severity info`",
    "on": "add `on host`, `on guest`, `on migration` or `on snapshot`",
    "message": 'add `message "what failed, with {values}"`',
    "cite": 'add `cite "the source of the constraint (guide, section, table)"`',
}


def _step_name(step) -> str:
    return {ast.When: "when", ast.For: "for", ast.Let: "let", ast.Require: "require"}[type(step)]


def check_rules(files: list[ast.RuleFile], tables: dict[str, Type]) -> tuple[list[CheckedRule], list[Diagnostic]]:
    """Check every rule of every file; duplicate ids across files and packs are errors."""
    diags: list[Diagnostic] = []
    checked: list[CheckedRule] = []
    first: dict[str, ast.Rule] = {}
    for f in files:
        for rule in f.rules:
            if rule.id in first:
                other = first[rule.id]
                diags.append(at(rule.span, "duplicate-rule", f"rule `{rule.id}` is already defined at {other.span}",
                                "rule ids are unique across packs: a site rule cannot replace a built-in one; "
                                "disable the built-in rule in the site configuration and give yours a new id"))
                continue
            first[rule.id] = rule
            try:
                checked.append(check_rule(rule, tables, diags))
            except RecursionError:
                diags.append(at(rule.span, "too-deep", f"rule `{rule.id}` nests its expressions too deeply to check",
                                "split deeply nested conditions into `let`s"))
    return checked, diags
