"""Stage: checked rules to Python closures. Compile once per pack, evaluate many times.

`compile_rule(checked, tables)` returns a `CompiledRule` whose `run(env, trace=None)`
yields one `Outcome` per `for` binding: pass, fail, notapplicable or error. Every
expression node becomes a closure over its children's closures (`compile_<Node>`), and
every step a closure over the next step's (`chain_<Step>`); nothing of the rule's text is
ever passed to `eval` or `exec`. Static types from the checker pick the cheaper closure
where a value cannot be absent, and turn string literals compared with releases into
`Version`s once, here.

Tracing: `run(env, trace)` calls `trace(event, step, value, env)` as each step is
decided (events `when`, `for`, `skip`, `bind`, `done`, `let`, `require`, `error`), which
is all `explain` needs: it renders those events and never evaluates on its own.

Errors: anything a rule cannot evaluate is an `EvalError` with a span, in domain words,
and becomes an `error` outcome; so do arithmetic overflow, exhausted memory and nesting
too deep to evaluate. Any other exception is a bug of migcheck, reported as an `error`
outcome whose message starts with `INTERNAL` (tests assert it never happens).
"""

from __future__ import annotations

import operator
from fractions import Fraction
from typing import Any
from collections.abc import Callable

from ..core.records import Factory, record
from . import ast
from .analysis import hoist, joins
from .builtins import BUILTINS, EvalError, Pattern, as_version, compile_pattern, order_pair, parse_version, render
from .builtins import brief, described, divide, exact_pair, is_number, written
from .builtins import equal as _equal  # the language's `==` (`in`, `distinct` and key lookups use it too)
from .checker import CheckedRule
from .analysis.constants import MAX_DIGITS, bits, too_big  # noqa: F401  (MAX_DIGITS re-exported)
from .analysis.reads import name_hole
from .analysis.sharing import SharingPlan, sharing_plan
from .types import ANY, Type
from .visit import Visitor

Fn = Callable[[dict], Any]

from ..core.results import Text  # noqa: E402
from ..core.vocabulary import ERROR, ERROR_SEVERITY, FAIL, NAME_HOLES, NOTAPPLICABLE, PASS, TABLES  # noqa: E402  (re-exported)


class Outcome:
    """One outcome of a rule for a subject (or one `for` binding of it). Written out, not a dataclass:
    generating one costs every run's import (cold start); it behaves as `@dataclass(slots=True)` did."""

    status: str
    env: dict  # the bindings it was decided with (subject names, for variables, lets)
    item: str  # the `for` binding, readable ("lan_pub")
    error: str  # for status error: what went wrong, located
    __slots__ = tuple(__annotations__)

    def __init__(self, status: str, env: dict, item: str = "", error: str = "") -> None:
        self.status = status
        self.env = env
        self.item = item
        self.error = error

    def __repr__(self) -> str:
        return f"Outcome(status={self.status!r}, env={self.env!r}, item={self.item!r}, error={self.error!r})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return (self.status, self.env, self.item, self.error) == (other.status, other.env, other.item, other.error)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  (as a dataclass with eq: mutable, unhashable)


INTERNAL = "internal error"
Trace = Callable[[str, Any, Any, dict], None]


DEFAULT_BUDGET = 100_000  # steps per rule and subject; the built-in pack's largest need is far below
SIZE_PER_STEP = 64  # characters or list items made per step of the budget (string `+`, `join`, message parts)
_BIG = 1 << 64  # integers within +-_BIG are computed without measuring them
TEXT_CAP = 4096  # characters of one rendered message or fix; the rest is elided, and said so


class Budget:
    """The evaluation budget of one rule: steps counted per run (one per item a loop or a path over a
    list goes through, like CEL's cost limit), reset for each subject; past `limit` the run stops with
    an `error` result. `limit` is the site configuration's `evaluation_budget`."""

    __slots__ = ("steps", "limit", "rule", "most")

    def __init__(self, rule: str, limit: int = DEFAULT_BUDGET):
        self.steps = 0
        self.limit = limit
        self.rule = rule
        self.most = 0  # the largest count of one run so far (for benchmarks and tests)

    def charge(self, steps: int, span) -> None:
        """Count `steps` more (what making a value of that size costs), or stop past the limit."""
        self.steps += steps
        if self.steps > self.limit:
            raise self.exceeded(span)

    def exceeded(self, span) -> EvalError:
        return EvalError(f"rule `{self.rule}` needs more than its evaluation budget of {self.limit:,} steps for "
                         "this subject (a loop over every guest or host inside a rule run for each one?); select "
                         "by key, or raise `evaluation_budget` in the site configuration", span)


class RuleText(Text):
    """A rule's message and fix made from an outcome's environment: the `Text` of its results
    (`core.results`) but for the matrix's shared ones (`eval.texts.ClassText`)."""

    __slots__ = ("message", "fix")

    def __init__(self, message: Callable[[dict], str], fix: Callable[[dict], str]):
        self.message, self.fix = message, fix

    def plain(self, env: dict) -> tuple[str, str]:
        return self.message(env), self.fix(env)


@record
class CompiledRule:
    id: str
    title: str
    severity: str
    subject: str
    cite: str
    tags: tuple
    span: ast.Span
    rule: ast.Rule
    reads: frozenset
    pack: str
    run: Callable[..., list[Outcome]]  # run(env, trace=None)
    message: Callable[[dict], str]
    fix: Callable[[dict], str]
    # message and fix as the text around their subjects' names, and which names (`Compiler.template`)
    message_split: Callable[[dict], tuple] = None
    fix_split: Callable[[dict], tuple] = None
    message_holes: tuple = ()
    fix_holes: tuple = ()
    checked: CheckedRule = None
    compiled: dict = Factory(dict)  # id(node) -> closure
    lookups: tuple = ()  # (joins.Lookup, counted) of the rule's steps: how the matrix classes targets
    budget: Budget | None = None
    sharing: SharingPlan | None = None  # what the matrix may share (analysis/sharing)
    text: RuleText = None  # message and fix as its results' `Text`
    _hidden = ("message_split", "fix_split", "checked", "compiled", "budget", "sharing", "text")  # from repr

    def __post_init__(self):
        if self.text is None:
            self.text = RuleText(self.message, self.fix)

    def value(self, node, env: dict):
        """The value of one of the rule's expression nodes in `env` (its own compiled closure)."""
        fn = self.compiled.get(id(node))
        if fn is None:
            raise EvalError("not evaluated on its own", getattr(node, "span", None))
        return fn(env)


def _regex(pattern, span) -> Pattern:
    """A pattern read from data: compiled with RE2, or an `error` result located at the pattern."""
    if not isinstance(pattern, str):
        raise EvalError(f"`matches` needs a pattern string, got `{brief(pattern)}`", span)
    try:
        return compile_pattern(pattern)
    except EvalError as exc:
        raise EvalError(exc.message, span) from None


def _describe(node) -> str:
    key = ast.dotted(node)
    return f"`{key}`" if key else "a value"


_NUMBERS = frozenset({int, float, Fraction})  # a boolean is not a number in a rule
_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": divide, "%": operator.mod}
_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_FAST_ORDER = {
    "<": lambda a, b: lambda env: a(env) < b(env),
    "<=": lambda a, b: lambda env: a(env) <= b(env),
    ">": lambda a, b: lambda env: a(env) > b(env),
    ">=": lambda a, b: lambda env: a(env) >= b(env),
}


def _map_field(items: list, name: str) -> list:
    """`xs.name` over a list: the present values, lists flattened one level."""
    out = []
    for item in items:
        if type(item) is not dict:
            if item is None:
                continue
            raise EvalError(f"`{brief(item)}` has no field `{name}`")
        value = item.get(name)
        if value is None:
            continue
        if type(value) is list:
            out.extend(value)
        else:
            out.append(value)
    return out


class Compiler(Visitor):
    """One checked rule's expressions as closures (`compile_<Node>`), made once at compile time."""

    prefix = "compile_"

    def __init__(self, checked: CheckedRule, tables: dict[str, list]):
        self.types = checked.types
        self.tables = tables
        self.closures: dict[int, Fn] = {}
        self.lookups: list[tuple] = []  # (joins.Lookup, its selection is only counted), in compile order
        self.budget = Budget(checked.rule.id)
        self.through_lists: dict[int, bool] = {}  # hoist's answers so far, by node id
        self.free_names: dict[int, frozenset] = {}
        # the ids of the nodes worth hoisting, when the checked rule came with its analysis (the packs cache)
        self.hoisted = checked.analysis.hoisted if checked.analysis is not None else None

    def type(self, node) -> Type:
        return self.types.get(id(node), ANY)

    def compile(self, node) -> Fn:
        fn = self.method_for(node)(self, node)
        if (id(node) in self.hoisted) if self.hoisted is not None else \
                hoist.worth_hoisting(node, self.through_lists, self.free_names):
            fn = hoist.once_per_run(fn, node, self.budget)
        self.closures[id(node)] = fn
        return fn

    def compile_Literal(self, node):
        value = node.value
        return lambda env: value

    def compile_ListExpr(self, node):
        items = [self.compile(i) for i in node.items]
        if all(isinstance(i, ast.Literal) for i in node.items):
            constant = [i.value for i in node.items]
            return lambda env: constant
        make = lambda env: [f(env) for f in items]  # noqa: E731
        if any(self.type(i).kind in ("list", "any") for i in node.items):
            return _nested(make, self.budget, node.span)
        return make

    def compile_Name(self, node):
        name = node.name
        return lambda env: env[name]

    def compile_Attr(self, node):
        name = node.field
        if isinstance(node.obj, ast.Name) and node.obj.name == TABLES:
            rows = written(self.tables[name])  # the pack's decimals, exact as written
            return lambda env: rows
        base_type = self.type(node.obj)
        obj = self.compile(node.obj)
        chain = self._object_chain(node)
        if chain is not None:  # subject.a.b: every step a schema object that is always present
            var, keys = chain
            if len(keys) == 1:
                return lambda env: env[var].get(name)
            if len(keys) == 2:
                k0 = keys[0]
                return lambda env: env[var][k0].get(name)
            head = keys[:-1]

            def path(env):
                value = env[var]
                for key in head:
                    value = value[key]
                return value.get(name)
            return path
        if base_type.kind == "object" and not base_type.nullable and base_type.fields is not None:
            return lambda env: obj(env).get(name)
        budget = self.budget

        def mapped(items: list) -> list:
            budget.steps += len(items)
            if budget.steps > budget.limit:
                raise budget.exceeded(node.span)
            return _map_field(items, name)

        if base_type.kind == "list":
            return lambda env: mapped(obj(env))

        def attr(env):
            value = obj(env)
            kind = type(value)
            if kind is dict:
                return value.get(name)
            if value is None:
                return None
            if kind is list:
                return mapped(value)
            raise EvalError(f"{_describe(node.obj)} is `{brief(value)}`, which has no field `{name}`", node.span)
        return attr

    def _object_chain(self, node) -> tuple[str, tuple] | None:
        """For `name.f1.f2...` through present schema objects: the name and the fields."""
        keys = []
        while isinstance(node, ast.Attr):
            base = self.type(node.obj)
            if base.kind != "object" or base.nullable or base.fields is None:
                return None
            keys.append(node.field)
            node = node.obj
        if not isinstance(node, ast.Name) or node.name == TABLES:
            return None
        return node.name, tuple(reversed(keys))

    def _present(self, fn: Fn, node) -> Fn:
        """Wrap `fn` to raise a located error when it yields null, unless the type rules it out."""
        if not self.type(node).nullable:
            return fn
        what = _describe(node)
        span = node.span if hasattr(node, "span") else None

        def present(env):
            value = fn(env)
            if value is None:
                raise EvalError(f"{what} is absent", span)
            return value
        return present

    def compile_Neg(self, node):
        operand = self._present(self.compile(node.operand), node.operand)

        def neg(env):
            value = operand(env)
            if not is_number(value):
                raise EvalError(f"`-` needs a number, got `{brief(value)}`", node.span)
            return -value
        return neg

    def compile_Not(self, node):
        operand = self._bool(node.operand)
        return lambda env: not operand(env)

    def _bool(self, node) -> Fn:
        fn = self.compile(node)
        if self.type(node).kind == "bool" and not self.type(node).nullable:
            return fn
        what = _describe(node)

        def boolean(env):
            value = fn(env)
            if value is True or value is False:
                return value
            raise EvalError(f"{what} is `{brief(value)}`, not true or false", node.span if hasattr(node, "span") else None)
        return boolean

    def compile_Logic(self, node):
        # a chain of one operator (`a and b and c ...`) becomes one closure over its operands, so
        # a long chain neither compiles nor evaluates by deep recursion; its inner nodes get
        # closures over their own operands (explain shows their values)
        op = node.op
        operands: list = []
        starts: dict[int, int] = {}
        ranges: dict[int, tuple[int, int]] = {}
        stack = [(node, False)]
        while stack:
            current, done = stack.pop()
            if not (isinstance(current, ast.Logic) and current.op == op):
                operands.append(current)
            elif done:
                ranges[id(current)] = (starts[id(current)], len(operands))
            else:
                starts[id(current)] = len(operands)
                stack += [(current, True), (current.right, False), (current.left, False)]
        fns = [self._bool(o) for o in operands]
        for inner, (a, b) in ranges.items():
            if inner != id(node):
                self.closures[inner] = _fold(op, fns[a:b])
        return _fold(op, fns)

    def _versions(self, node) -> tuple[Fn, Fn] | None:
        """For a comparison involving a release: both sides as `Version` closures."""
        lt, rt = self.type(node.left), self.type(node.right)
        if "version" not in (lt.kind, rt.kind):
            return None
        sides = []
        for side in (node.left, node.right):
            if isinstance(side, ast.Literal) and isinstance(side.value, str):
                try:
                    constant = parse_version(side.value)
                except EvalError as exc:  # reported for each subject, located at the literal
                    sides.append(_raiser(exc.message, side.span))
                    continue
                sides.append(lambda env, c=constant: c)
            else:
                fn = self._present(self.compile(side), side)
                sides.append(lambda env, f=fn: as_version(f(env)))
        return sides[0], sides[1]

    def compile_Compare(self, node):
        op = node.op
        versions = self._versions(node) if op not in ("in", "not in", "matches") else None
        if versions is not None:
            return self._compare_versions(node, *versions)
        if op in ("==", "!="):
            return self._equality(node)
        if op in ("in", "not in"):
            return self._membership(node)
        if op == "matches":
            return self._matches(node)
        return self._order(node)

    def _compare_versions(self, node, left: Fn, right: Fn) -> Fn:
        """A comparison involving a release, on `Version`s; an error is located at the comparison."""
        compare = {"==": operator.eq, "!=": operator.ne, **_ORDER}[node.op]
        span = node.span

        def version_compare(env):
            try:
                return compare(left(env), right(env))
            except EvalError as exc:
                raise EvalError(exc.message, exc.span or span) from None
        return version_compare

    def _equality(self, node) -> Fn:
        """`==` and `!=`: Python's where it is the language's, `_equal` otherwise."""
        left, right = self.compile(node.left), self.compile(node.right)
        if self._plainly_comparable(node.left, node.right):
            if node.op == "==":
                return lambda env: left(env) == right(env)
            return lambda env: left(env) != right(env)
        if node.op == "==":
            return lambda env: _equal(left(env), right(env))
        return lambda env: not _equal(left(env), right(env))

    def _membership(self, node) -> Fn:
        """`in` and `not in` a list or a string; a set lookup for a list of literals."""
        op = node.op
        left = self.compile(node.left)
        right = self._present(self.compile(node.right), node.right)
        negate = op == "not in"
        plain = self._plainly_comparable(node.left, node.right, member=True)
        if plain and isinstance(node.right, ast.ListExpr) and all(isinstance(i, ast.Literal)
                                                                 for i in node.right.items):
            members = frozenset(i.value for i in node.right.items)
            if negate:
                return lambda env: left(env) not in members
            return lambda env: left(env) in members

        def membership(env):
            container = right(env)
            needle = left(env)
            if isinstance(container, str):
                if not isinstance(needle, str):
                    raise EvalError(f"`{op}` a string needs a string, got `{brief(needle)}`", node.span)
                found = needle in container
            elif isinstance(container, list):
                found = needle in container if plain else any(_equal(needle, item) for item in container)
            else:
                raise EvalError(f"`{op}` needs a list or a string, got `{brief(container)}`", node.span)
            return found != negate
        return membership

    def _matches(self, node) -> Fn:
        left = self._present(self.compile(node.left), node.left)
        get_pattern = self._pattern(node.right)

        def matches(env):
            value = left(env)
            if not isinstance(value, str):
                raise EvalError(f"{_describe(node.left)} is `{brief(value)}`, not a string", node.span)
            try:
                return get_pattern(env).fullmatch(value)
            except EvalError as exc:
                raise EvalError(exc.message, exc.span or node.span) from None
        return matches

    def _pattern(self, node) -> Fn:
        """The right side of `matches` as a compiled pattern: once, here, when it is a literal."""
        pattern_span = node.span
        if isinstance(node, ast.Literal) and isinstance(node.value, str):
            try:  # the checker has compiled it already
                pattern = compile_pattern(node.value)
                return lambda env: pattern
            except EvalError as exc:
                return _raiser(exc.message, pattern_span)
        right = self._present(self.compile(node), node)
        return lambda env: _regex(right(env), pattern_span)

    def _order(self, node) -> Fn:
        """`<`, `<=`, `>`, `>=` on numbers or strings (never booleans), both sides present."""
        op = node.op
        compare = _ORDER[op]
        left = self._present(self.compile(node.left), node.left)
        right = self._present(self.compile(node.right), node.right)
        lt, rt = self.type(node.left), self.type(node.right)
        if lt.numeric and rt.numeric and not lt.nullable and not rt.nullable and "int" in (lt.kind, rt.kind):
            # schema-validated numbers, one an integer: cannot fail, and Python orders an integer with a
            # float or an exact number as the language does (two `number`s may be a float and an exact one)
            return _FAST_ORDER[op](left, right)

        def order(env):
            a, b = left(env), right(env)
            try:
                return compare(*order_pair(a, b))  # the language's order: none for booleans, lists, maps
            except EvalError as exc:  # a string beside a release that is not a release
                raise EvalError(exc.message, node.span) from None
            except TypeError:
                raise EvalError(f"cannot order `{brief(a)}` and `{brief(b)}` with `{op}`", node.span) from None
        return order

    def _plainly_comparable(self, a, b, member: bool = False) -> bool:
        """Whether Python's `==` is the language's on these operands: both statically strings, or
        both numbers (Python's `True == 1` and `[True] == [1]` must not hold in a rule)."""
        ta, tb = self.type(a), self.type(b)
        if member:
            if tb.kind != "list" or tb.elem is None:
                return tb.kind == "string" and ta.kind == "string"
            tb = tb.elem
        kinds = {ta.kind, tb.kind}
        # two `number`s may be a float and an exact number, which Python compares in binary (`equal` does not)
        return kinds <= {"string", "null"} or kinds <= {"int", "float", "null"} and "int" in kinds

    def compile_Arith(self, node):
        left = self._present(self.compile(node.left), node.left)
        right = self._present(self.compile(node.right), node.right)
        op = _ARITH[node.op]
        symbol = node.op
        strings = symbol == "+"

        budget = self.budget
        span = node.span

        def arith(env):
            a, b = left(env), right(env)
            ta, tb = type(a), type(b)
            if ta in _NUMBERS and tb in _NUMBERS:
                if ta is not tb and (ta is float or tb is float):
                    a, b = exact_pair(a, b)  # a float beside an exact number: read exactly
                    ta, tb = type(a), type(b)
                if not (ta is int and tb is int and -_BIG < a < _BIG and -_BIG < b < _BIG) and ta is not float:
                    _charge_numbers(a, b, symbol, budget, span)
            elif strings and ta is str and tb is str:
                budget.charge((len(a) + len(b)) // SIZE_PER_STEP, span)  # before the string is made
            else:
                raise EvalError(f"cannot compute `{brief(a)} {symbol} {brief(b)}`: "
                                + ("`+` takes two numbers or two strings" if strings else f"`{symbol}` takes numbers"),
                                node.span)
            try:
                return op(a, b)
            except ZeroDivisionError:
                raise EvalError(f"division by zero in `{symbol}`", node.span) from None
            except OverflowError:
                raise EvalError(f"the result of `{symbol}` is too large a number", node.span) from None
        return arith

    def compile_Conditional(self, node):
        """`if test then a else b`: the test, then only the branch it picks (the other is not evaluated)."""
        test = self._bool(node.test)
        then, otherwise = self.compile(node.then), self.compile(node.otherwise)
        return lambda env: then(env) if test(env) else otherwise(env)

    def _iterate(self, source_node) -> Fn:
        source = self._present(self.compile(source_node), source_node)
        what = _describe(source_node)

        budget = self.budget
        span = getattr(source_node, "span", None)

        def items(env):
            value = source(env)
            if type(value) is not list:
                raise EvalError(f"{what} is `{brief(value)}`, not a list", span)
            budget.steps += len(value)
            if budget.steps > budget.limit:
                raise budget.exceeded(span)
            return value
        return items

    def _selection(self, sel: ast.Selection, how: str) -> Fn:
        """`x in xs where cond` as its builtin declares it: `count`, `any`, `all` or `items`; by key
        lookup (`lang/joins.py`) where it can be, scanning otherwise."""
        cond = self._bool(sel.cond)
        scan = _loop(sel.var, self._iterate(sel.source), how, cond)
        lookup = self._lookup(sel.var, sel.source, sel.cond) if how != "all" else None
        if lookup is None:
            return scan
        self.lookups.append((lookup, how in ("count", "any")))
        if how == "count":
            def count_indexed(env):
                found = lookup(env)
                return scan(env) if found is None else len(found)
            return count_indexed
        if how == "any":
            # when the index cannot be built, every item is read as building it reads them: an item whose
            # condition cannot be evaluated is an error whatever the order (a scan stopping at the first
            # match decided by the order; the matrix shares outcomes between lists in another order)
            every = _loop(sel.var, self._iterate(sel.source), "count", cond)

            def any_indexed(env):
                found = lookup(env)
                return every(env) > 0 if found is None else bool(found)
            return any_indexed

        def items_indexed(env):
            found = lookup(env)
            return scan(env) if found is None else list(found)
        return items_indexed

    def _lookup(self, var: str, source_node, cond_node):
        """A `joins.Lookup` for a selection over a stored list by key, or None (scan)."""
        found = joins.plan(var, source_node, cond_node)
        if found is None:
            return None
        item_key, outer, tests = found
        # the raw source: a lookup does not go through the list, so it costs no steps of the budget
        lookup = joins.Lookup(var, self.compile(source_node), self.compile(item_key), self.compile(outer),
                              [self._bool(t) for t in tests], self.budget)
        lookup.source_node = source_node
        return lookup

    def compile_Call(self, node):
        fn = BUILTINS[node.func]
        if len(node.args) == 1 and isinstance(node.args[0], ast.Selection):
            how = fn.selection
            selected = self._selection(node.args[0], how)
            if how != "items":
                return selected
            args = [selected]
        else:
            args = []
            for i, arg in enumerate(node.args):
                compiled = self.compile(arg)
                if i not in fn.nullable_args:
                    compiled = self._present(compiled, arg)
                args.append(compiled)
        impl = fn.impl
        span = node.span
        name = node.func
        if name in _LISTS_ONLY and len(args) == 1:
            given = self.type(node.args[0])
            if given.kind == "any" or name in _BOOLEANS and given.kind == "list" and given.elem.kind == "any":
                impl = _listed(impl, name)  # a value of unknown type (`attrs`): a list (of booleans) it must be
        if len(args) == 1:
            only = args[0]

            def call1(env):
                value = only(env)
                try:
                    return impl(value)
                except EvalError as exc:
                    raise EvalError(exc.message, exc.span or span) from None
                except TypeError:
                    raise EvalError(f"`{name}` cannot take `{brief(value)}`", span) from None
            return call1

        if name == "join":  # the one builtin whose result can be larger than what it is given
            impl = _joining(impl, self.budget, span)

        def call(env):
            values = [a(env) for a in args]
            try:
                return impl(*values)
            except EvalError as exc:
                raise EvalError(exc.message, exc.span or span) from None
            except TypeError:
                raise EvalError(f"`{name}` cannot take " + ", ".join(f"`{brief(v)}`" for v in values), span) from None
        return call

    def compile_Comprehension(self, node):
        source = self._iterate(node.source)
        cond = self._bool(node.cond) if node.cond is not None else None
        expr = self.compile(node.expr)
        scan = _loop(node.var, source, "map", cond, expr)
        nested = self.type(node.expr).kind in ("list", "any")  # lists of lists: counted through (`_nested`)
        lookup = self._lookup(node.var, node.source, node.cond)
        if lookup is None:
            return _nested(scan, self.budget, node.span) if nested else scan
        self.lookups.append((lookup, False))
        var = node.var

        def comprehension_indexed(env):
            found = lookup(env)
            if found is None:
                return scan(env)
            saved = env.get(var, _UNSET)
            try:
                out = []
                for item in found:
                    env[var] = item
                    out.append(expr(env))
                return out
            finally:
                _restore(env, var, saved)
        return _nested(comprehension_indexed, self.budget, node.span) if nested else comprehension_indexed

    def template(self, template: ast.Template | None, holes: bool = False) -> tuple[Callable, Callable, tuple]:
        """The template's renderer `env -> text`, its split renderer `env -> pieces` and the holes
        between those pieces. `holes` (a migration rule; none rebinds a subject, `vocabulary.RESERVED`):
        a part that is exactly `{guest.name}`, `{source.name}` or `{target.name}` is a hole, the index of its
        subject in `NAME_HOLES`; the pieces are the text around the holes (engine/texts.py puts
        each pair's `name_text`s in them). Both renderers share the compiled parts, a hole's being
        `name_of(subject)` in both, so the pieces filled with the names of `env` are `render(env)`
        by construction (tests/test_texts.py checks it for every built-in rule)."""
        if template is None:
            return (lambda env: ""), (lambda env: ("",)), ()
        parts = []
        for node in template.parts:
            if isinstance(node, str):
                parts.append(node)
                continue
            root = name_hole(node, {}) if holes else None
            if root is not None and self._object_chain(node) == (root, ("name",)):
                fn = self.closures[id(node)] = _NAME_OF[root]
                parts.append((NAME_HOLES.index(root), fn))
            else:
                parts.append(self.compile(node))
        budget = self.budget
        if all(isinstance(p, str) for p in parts):
            text = "".join(parts)
            pieces = (text,)

            def render_constant(env):
                budget.steps = 0  # as render_template leaves it
                return text

            def split_constant(env):
                budget.steps = 0
                return pieces
            return render_constant, split_constant, ()
        # (kind, text or compiled expression) per part, decided once: 0 text, 1 expression, 2 a hole
        steps = tuple((0, p) if isinstance(p, str) else (2, p[1]) if isinstance(p, tuple) else (1, p) for p in parts)
        hole_order = tuple(p[0] for p in parts if isinstance(p, tuple))

        split = _splitter(steps, budget)

        def render_template(env):
            return split(env, True)
        return render_template, split, hole_order


def _charge_numbers(a, b, symbol: str, budget: Budget, span) -> None:
    """Big or exact operands: counted by their size, and refused before computing a result that could
    exceed `MAX_DIGITS` (`analysis.constants.too_big`)."""
    why = too_big(a, b, symbol)
    if why:
        raise EvalError(why, span)
    budget.charge((bits(a) + bits(b)) // 1024, span)


def _splitter(steps: tuple, budget: Budget) -> Callable:
    """A template's split renderer (`Compiler.template`) over its parts `(kind, text or closure)`:
    each expression counted in the message's own budget, the text capped at `TEXT_CAP`."""
    def split(env, whole: bool = False):
        budget.steps = 0  # a message has a budget of its own
        out = []
        append = out.append
        pieces = []
        size = 0  # of the text and expressions (a subject's name counted apart: in both renderers alike)
        for i, (kind, p) in enumerate(steps):
            if kind == 0:
                text = p
            elif kind == 1:
                budget.steps += 1
                text = _part(p, env)
                budget.steps += len(text) // SIZE_PER_STEP
            elif whole:
                append(_part(p, env))
                continue
            else:
                pieces.append("".join(out))
                out.clear()
                continue
            size += len(text)
            if size > TEXT_CAP or budget.steps > budget.limit:
                append(_elide(text, size, steps[i + 1:], env, budget))
                break
            append(text)
        if whole:
            return "".join(out)
        pieces.append("".join(out))
        return tuple(pieces)
    return split


def _elide(text: str, size: int, rest: tuple, env: dict, budget: Budget) -> str:
    """The last of a message's text within `TEXT_CAP` (`size` is the message's so far, `text` included),
    and what is left out said: the rest's parts are measured while the message's budget lasts."""
    over = max(size - TEXT_CAP, 0)
    kept = text[:len(text) - over]
    for kind, p in rest:
        if budget.steps > budget.limit:
            return f"{kept}… (the rest needs more than the evaluation budget of {budget.limit:,} steps)"
        if kind == 0:
            over += len(p)
        elif kind == 1:
            budget.steps += 1
            n = len(_part(p, env))
            budget.steps += n // SIZE_PER_STEP
            over += n
    return f"{kept}… ({over:,} more characters)" if over else kept


def _nested(make: Fn, budget: Budget, span) -> Fn:
    """A list that may hold lists, counted by its items through the lists it holds (a list held twice
    counts twice, as rendering or comparing it goes through it twice): `[l, l]` of `[l, l]` ... doubles."""
    def nested(env):
        value = make(env)
        if any(type(v) is list for v in value):
            budget.charge(_tree_size(value, {}) // SIZE_PER_STEP, span)
        return value
    return nested


def _tree_size(value: list, memo: dict) -> int:
    """The items of `value` and of the lists in it, each distinct list measured once (`memo`)."""
    size = memo.get(id(value))
    if size is None:
        size = len(value)
        for v in value:
            if type(v) is list:
                size += _tree_size(v, memo)
        memo[id(value)] = size
    return size


# The builtins that take a list (`len` a list, a string or a map: its keys): given a value of unknown type (from
# `attrs`), Python's own functions would take a string or a map as well and answer wrongly (`count("abc")` 3,
# `min("ab")` "a", `any("x")` true, `min(0)` null): checked when it runs, an `error` naming what it got.
_LISTS_ONLY = {"count": (list, tuple), "len": (list, tuple, str, dict), "sum": (list, tuple), "min": (list, tuple),
               "max": (list, tuple), "distinct": (list, tuple), "sorted": (list, tuple), "any": (list, tuple),
               "all": (list, tuple)}


_BOOLEANS = {"any", "all"}  # and of booleans: `any(["x"])` is not true


def _listed(impl, name: str):
    kinds = _LISTS_ONLY[name]
    what = "a list, a string or a map" if str in kinds else "a list of booleans" if name in _BOOLEANS else "a list"
    booleans = name in _BOOLEANS

    def checked(value):
        if type(value) not in kinds:
            raise EvalError(f"{name}() needs {what}, got {described(value)}")
        if booleans:
            for item in value:
                if item is not True and item is not False:
                    raise EvalError(f"{name}() needs {what}, got {described(item)} in its list")
        return impl(value)
    return checked


def _joining(impl, budget: Budget, span) -> Callable:
    """`join(xs, sep)` counted by the size it makes (its separators before it makes them)."""
    def join(xs, sep):
        if type(xs) is list and type(sep) is str:
            budget.charge((len(xs) * (len(sep) + 1)) // SIZE_PER_STEP, span)
        text = impl(xs, sep)
        budget.charge(len(text) // SIZE_PER_STEP, span)
        return text
    return join


def _part(fn, env) -> str:
    """One `{expr}` of a message, rendered; what cannot be evaluated is shown in its place."""
    try:
        return render(fn(env))
    except EvalError as exc:
        return f"<{exc.message}>"
    except (KeyError, TypeError, AttributeError):
        return "<?>"


def _name_of(root: str) -> Fn:
    def name_of(env):  # `root.name` as `compile_Attr` compiles a present schema object's field
        return env[root].get("name")
    return name_of


_NAME_OF = {root: _name_of(root) for root in NAME_HOLES}


def name_text(root: str, obj) -> str:
    """`{root.name}` of a message for the subject `obj`, as the renderers write it (`Compiler.template`)."""
    return _part(_NAME_OF[root], {root: obj})


_UNSET = object()
_NO_ENV: dict = {}
def _loop(var: str, source: Fn, how: str, cond: Fn | None, expr: Fn | None = None) -> Fn:
    """The one iteration of selections and comprehensions: binds `var` to each item of `source`
    (restoring what it shadowed afterwards) and, by `how`: `any` / `all` (stopping as soon as
    the answer is known), `count`, `items` (those meeting `cond`), or `map` (`expr` of each
    item meeting `cond`, if any)."""
    mode = ("any", "all", "count", "items", "map").index(how)

    def loop(env):
        saved = env.get(var, _UNSET)
        try:
            items = source(env)
            if mode == 0:
                for item in items:
                    env[var] = item
                    if cond(env):
                        return True
                return False
            if mode == 1:
                for item in items:
                    env[var] = item
                    if not cond(env):
                        return False
                return True
            if mode == 2:
                n = 0
                for item in items:
                    env[var] = item
                    if cond(env):
                        n += 1
                return n
            out = []
            for item in items:
                env[var] = item
                if cond is None or cond(env):
                    out.append(item if mode == 3 else expr(env))
            return out
        finally:
            _restore(env, var, saved)
    return loop


def _restore(env: dict, var: str, saved: Any) -> None:
    if saved is _UNSET:
        env.pop(var, None)
    else:
        env[var] = saved


def _fold(op: str, fns: list) -> Fn:
    """`and` / `or` over boolean closures, left to right, stopping as soon as the answer is known."""
    if len(fns) == 2:
        left, right = fns
        if op == "and":
            return lambda env: left(env) and right(env)
        return lambda env: left(env) or right(env)
    fns = tuple(fns)
    if op == "and":
        def all_of(env):
            for f in fns:
                if not f(env):
                    return False
            return True
        return all_of

    def any_of(env):
        for f in fns:
            if f(env):
                return True
        return False
    return any_of


def _raiser(message: str, span) -> Fn:
    def fail(env):
        raise EvalError(message, span)
    return fail


def _item_text(names: tuple, env: dict) -> str:
    return ", ".join(render(env[n]) for n in names if n in env)


_PASS = Outcome(PASS, {}, "")
_NOTAPPLICABLE = Outcome(NOTAPPLICABLE, {}, "")

Step = Callable[[dict, list, Any], None]  # (env, outcomes, trace or None)


class _Steps(Visitor):
    """The rule body as a chain of closures, one per step, each calling the next (`chain_<Step>`)."""

    prefix = "chain_"

    def __init__(self, compiler: Compiler, steps: tuple):
        self.c = compiler
        self.steps = steps

    def chain(self, i: int, bound: tuple) -> Step:
        step = self.steps[i]
        return self.method_for(step)(self, step, i, bound)

    def chain_When(self, step, i, bound) -> Step:
        fn = self.c._bool(step.expr)
        after = self.chain(i + 1, bound)

        def when(env, out, trace):
            value = fn(env)
            if trace:
                trace("when", step, value, env)
            if value:
                after(env, out, trace)
            else:
                out.append(Outcome(NOTAPPLICABLE, _NO_ENV, _item_text(bound, env)) if bound else _NOTAPPLICABLE)
        return when

    def chain_Let(self, step, i, bound) -> Step:
        fn = self.c.compile(step.expr)
        after = self.chain(i + 1, bound)
        name = step.name

        budget = self.c.budget
        span = step.span

        def let(env, out, trace):
            env[name] = value = fn(env)
            kind = type(value)
            if kind is str or kind is list:  # what it binds is kept while the rule runs
                budget.steps += len(value) // SIZE_PER_STEP
                if budget.steps > budget.limit:
                    raise budget.exceeded(span)
            if trace:
                trace("let", step, value, env)
            after(env, out, trace)
        return let

    def chain_For(self, step, i, bound) -> Step:
        source = self.c._iterate(step.source)
        cond = self.c._bool(step.cond) if step.cond is not None else None
        var = step.var
        after = self.chain(i + 1, bound + (var,))

        def for_each(env, out, trace):
            items = source(env)
            if trace:
                trace("for", step, items, env)
            matched = 0
            for item in items:
                env[var] = item
                if cond is not None and not cond(env):
                    if trace:
                        trace("skip", step, item, env)
                    continue
                matched += 1
                if trace:
                    trace("bind", step, item, env)
                after(env, out, trace)
            env.pop(var, None)
            if trace:
                trace("done", step, matched, env)
            if not matched:
                out.append(_NOTAPPLICABLE)
        return for_each

    def chain_Require(self, step, i, bound) -> Step:
        fn = self.c._bool(step.expr)
        if not bound:
            # only a failure's bindings are kept: its message is rendered from them later
            def require(env, out, trace):
                value = fn(env)
                if trace:
                    trace("require", step, value, env)
                out.append(_PASS if value else Outcome(FAIL, dict(env), ""))
            return require

        def require_bound(env, out, trace):
            value = fn(env)
            if trace:
                trace("require", step, value, env)
            item = _item_text(bound, env)
            out.append(Outcome(PASS, _NO_ENV, item) if value else Outcome(FAIL, dict(env), item))
        return require_bound


def error_text(exc: BaseException, span) -> str:
    """An exception that escaped evaluation, in domain words, located."""
    if isinstance(exc, EvalError):
        return f"{exc.message} ({exc.span or span})"
    if isinstance(exc, RecursionError):
        return f"the rule nests too deeply to evaluate ({span}); split its conditions with `let`"
    if isinstance(exc, MemoryError):
        return f"the rule needs more memory than is available to evaluate ({span})"
    if isinstance(exc, OverflowError):
        return f"a number in the rule is too large to compute ({span})"
    return f"{INTERNAL}: {type(exc).__name__}: {exc} ({span}); please report it"


def _failing_compile(rule: ast.Rule, exc: BaseException) -> Callable:
    """A rule that could not be compiled (nesting too deep): every run is one located error."""
    message = error_text(exc, rule.span)

    def run(env: dict, trace: Trace | None = None) -> list[Outcome]:
        if trace:
            trace("error", None, EvalError(message, rule.span), env)
        return [Outcome(ERROR, dict(env), "", message)]
    return run


def compile_rule(checked: CheckedRule, tables: dict[str, list], severity: str | None = None,
                 budget_limit: int | None = None) -> CompiledRule:
    """A checked rule compiled once, with the site configuration's severity and evaluation budget."""
    rule = checked.rule
    c = Compiler(checked, tables)
    if budget_limit is not None:
        c.budget.limit = budget_limit
    steps = []
    for step in rule.steps:
        steps.append(step)
        if isinstance(step, ast.Require):
            break
    for_vars = tuple(s.var for s in steps if isinstance(s, ast.For))
    rule_span = rule.span
    budget = c.budget
    try:
        first = _Steps(c, tuple(steps)).chain(0, ())
        lookups = tuple(c.lookups)  # the steps' own, not the message's
        holes = rule.get("on", "migration") == "migration"  # no rule rebinds a subject (`vocabulary.RESERVED`)
        (message, message_split, message_holes), (fix, fix_split, fix_holes) = (
            c.template(rule.get("message"), holes), c.template(rule.get("fix"), holes))
    except (RecursionError, MemoryError) as exc:
        run = _failing_compile(rule, exc)
        message = fix = lambda env: ""  # noqa: E731
        message_split = fix_split = lambda env: ("",)  # noqa: E731
        message_holes = fix_holes = ()
        lookups = ()
    else:
        def run(env: dict, trace: Trace | None = None) -> list[Outcome]:
            """One outcome per binding. `env` is used in place: `let`s and `for` variables are
            written into it (a rule reads only names it binds itself, so leftovers are harmless)."""
            out: list[Outcome] = []
            budget.steps = 0
            if for_vars:
                for var in for_vars:
                    env.pop(var, None)
            try:
                first(env, out, trace)
            except Exception as exc:  # EvalError, and the isolation of every other kind (see error_text)
                text = error_text(exc, rule_span)
                if trace:
                    trace("error", None, exc if isinstance(exc, EvalError) else EvalError(text, rule_span), env)
                out.append(Outcome(ERROR, dict(env), _item_text(for_vars, env), text))
            if budget.steps > budget.most:
                budget.most = budget.steps
            return out

    return CompiledRule(
        id=rule.id, title=rule.get("title", ""), severity=severity or rule.get("severity", ERROR_SEVERITY),
        subject=rule.get("on", "migration"), cite=rule.get("cite", ""), tags=tuple(rule.get("tags", ())),
        span=rule.span, rule=rule, reads=checked.reads, pack=checked.pack, run=run,
        message=message, fix=fix, message_split=message_split, fix_split=fix_split, message_holes=message_holes,
        fix_holes=fix_holes, checked=checked,
        compiled=c.closures, lookups=lookups, budget=budget,
        sharing=sharing_plan(rule, lookups, checked.reads, checked.analysis))
