"""`migcheck explain`: why a rule gave its result for one subject.

Prints the rule's source, then its clauses in the order the evaluation decided them for
the subject: each `when`, `let` and `require` with its value, each `for` binding, and for a
failing `require` which part failed and the value that would make it pass. It is a trace
hook on the engine's one evaluation path (`Engine.outcomes(rule, subject, trace)`) plus
rendering: the statuses it prints are those `check` and `audit` compute, and the values of
sub-expressions come from the rule's own compiled closures (`CompiledRule.value`).
"""

from __future__ import annotations

from ..lang import ast
from ..lang.builtins import EvalError, render
from ..lang.compiler import CompiledRule, error_text
from ..lang.unparse import to_text
from ..lang.visit import Visitor
from .engine import Engine, Subject

MAX_BINDINGS = 50
MAX_ITEMS = 12


def _value(value) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return ("[" + ", ".join(_value(v) for v in value[:MAX_ITEMS]) + (", ..." if len(value) > MAX_ITEMS else "")
                + "]")
    return render(value)


class _Explainer(Visitor):
    """The trace hook: turns the evaluation's events into indented lines; for a false condition,
    a walk of it (`why_<Node>`) says which part failed."""

    prefix = "why_"

    def __init__(self, rule: CompiledRule):
        self.rule = rule
        self.lines: list[str] = []
        self.depth = 1
        self.lets: dict[str, ast.Let] = {}
        self.loops: list[dict] = []  # the `for`s being iterated, innermost last

    # -- rendering helpers ---------------------------------------------------------------
    @property
    def muted(self) -> bool:
        return any(loop["seen"] > MAX_BINDINGS for loop in self.loops)

    def say(self, depth: int, text: str) -> None:
        if not self.muted:
            self.lines.append("  " * depth + text)

    def value_of(self, node, env: dict):
        return self.rule.value(node, dict(env))

    def text_of(self, node, env: dict) -> str:
        try:
            return _value(self.value_of(node, env))
        except Exception as exc:  # shown, never raised: the outcome itself came from the evaluation
            return f"<{exc.message if isinstance(exc, EvalError) else error_text(exc, None)}>"

    # -- events ------------------------------------------------------------------------------
    def __call__(self, event: str, step, value, env: dict) -> None:
        getattr(self, "on_" + event)(step, value, env)

    def on_when(self, step, value, env):
        self.say(self.depth, f"when {to_text(step.expr)}  =>  {_value(value)}")
        self.show(step.expr, env, self.depth + 2)
        if not value:
            self.say(self.depth + 1, "=> notapplicable")

    def on_let(self, step, value, env):
        self.lets[step.name] = step
        self.say(self.depth, f"let {step.name} = {to_text(step.expr)}  =>  {_value(value)}")

    def on_for(self, step, items, env):
        cond = f" where {to_text(step.cond)}" if step.cond is not None else ""
        self.say(self.depth, f"for {step.var} in {to_text(step.source)}{cond}  =>  {len(items)} item(s)")
        self.loops.append({"depth": self.depth, "seen": 0, "total": len(items)})

    def _next_item(self) -> dict:
        loop = self.loops[-1]
        loop["seen"] += 1
        self.depth = loop["depth"]
        return loop

    def on_skip(self, step, item, env):
        self._next_item()
        self.say(self.depth + 1, f"[{step.var} = {_value(item)}] skipped: {to_text(step.cond)} is false")

    def on_bind(self, step, item, env):
        loop = self._next_item()
        self.say(self.depth + 1, f"[{step.var} = {_value(item)}]")
        self.depth = loop["depth"] + 2

    def on_done(self, step, matched, env):
        loop = self.loops.pop()
        self.depth = loop["depth"]
        if loop["total"] > MAX_BINDINGS:
            self.say(self.depth + 1, f"... {loop['total'] - MAX_BINDINGS} more not shown")
        if not matched:
            self.say(self.depth + 1, "=> notapplicable (nothing to check)")

    def on_require(self, step, value, env):
        self.say(self.depth, f"require {to_text(step.expr)}  =>  {_value(value)}")
        self.show(step.expr, env, self.depth + 2)
        if value:
            self.say(self.depth + 1, "=> pass")
            return
        self.say(self.depth + 1, "=> FAIL")
        self.why(step.expr, env, self.depth + 2)
        message, fix = self.rule.text.plain(dict(env))
        self.say(self.depth + 1, f"message: {message}")
        if fix:
            self.say(self.depth + 1, f"fix: {fix}")

    def on_error(self, step, exc: EvalError, env):
        while self.loops:  # the error ended every loop
            self.depth = self.loops.pop()["depth"]
        where = f" at {exc.span}" if exc.span else ""
        self.say(self.depth + 1, f"=> error: {exc.message}{where}")

    # -- what a condition is made of ---------------------------------------------------
    def show(self, node, env: dict, depth: int, limit: int = 3) -> None:
        """The value of each interesting sub-expression of `node`."""
        if limit == 0:
            return
        for child in ast.children(node):
            if isinstance(child, (ast.Literal, ast.Selection)) or (
                    isinstance(child, ast.ListExpr) and all(isinstance(i, ast.Literal) for i in child.items)):
                continue
            if isinstance(child, ast.Attr) and isinstance(child.obj, ast.Name) and child.obj.name == "data":
                continue
            self.say(depth, f"{to_text(child)} = {self.text_of(child, env)}")
            if not isinstance(child, (ast.Name, ast.Attr, ast.Call, ast.Comprehension)):
                self.show(child, env, depth + 1, limit - 1)

    def why(self, node, env: dict, depth: int) -> None:
        """For a false condition: the part that failed, and what would make it pass."""
        try:
            self._why(node, env, depth)
        except Exception as exc:
            self.say(depth, f"<{exc.message if isinstance(exc, EvalError) else error_text(exc, None)}>")

    def _why(self, node, env: dict, depth: int) -> None:
        self.method_for(node)(self, node, env, depth)

    def why_Logic(self, node, env: dict, depth: int) -> None:
        if node.op == "and":
            for side in (node.left, node.right):
                if self.value_of(side, env) is False:
                    self.say(depth, f"false: {to_text(side)}")
                    self._why(side, env, depth + 1)
                    return
            self.generic_visit(node, env, depth)
            return
        self.say(depth, "every alternative is false")
        for side in (node.left, node.right):
            self._why(side, env, depth + 1)

    def why_Compare(self, node, env: dict, depth: int) -> None:
        left, right = self.value_of(node.left, env), self.value_of(node.right, env)
        name = self._describe(node.left)
        need = {">=": "at least", ">": "more than", "<=": "at most", "<": "less than", "==": "equal to",
                "!=": "anything but"}.get(node.op)
        if need:
            self.say(depth, f"{name} is {_value(left)}; it passes when {need} {_value(right)}"
                     + (f" ({to_text(node.right)})" if not isinstance(node.right, ast.Literal) else ""))
        elif node.op in ("in", "not in"):
            self.say(depth, f"{name} is {_value(left)}; it passes when {'' if node.op == 'in' else 'not '}"
                     f"in {_value(right)}")
        elif node.op == "matches":
            self.say(depth, f"{name} is {_value(left)}; it passes when it matches {_value(right)} entirely")

    def why_Conditional(self, node, env: dict, depth: int) -> None:
        """`if t then a else b` was false: the branch its test took, and why that branch is false."""
        taken = self.value_of(node.test, env) is True
        branch = node.then if taken else node.otherwise
        self.say(depth, f"{to_text(node.test)} is {'true' if taken else 'false'}: the `{'then' if taken else 'else'}`"
                        f" branch decides, {to_text(branch)}")
        self._why(branch, env, depth + 1)

    def why_Call(self, node, env: dict, depth: int) -> None:
        if node.func in ("any", "all") and len(node.args) == 1 and isinstance(node.args[0], ast.Selection):
            self._quantifier(node, node.args[0], env, depth)
        else:
            self.generic_visit(node, env, depth)

    def generic_visit(self, node, env: dict, depth: int) -> None:
        self.say(depth, f"{to_text(node)} is false")

    def _quantifier(self, node, sel: ast.Selection, env: dict, depth: int) -> None:
        """Which items kept `any`/`all` from holding: each item and its condition's value."""
        items = self.value_of(sel.source, env)
        wanted = node.func == "any"
        self.say(depth, f"{'no' if wanted else 'not every'} {sel.var} in {to_text(sel.source)} "
                        f"({len(items)} item(s)) meets {to_text(sel.cond)}:")
        for item in items[:MAX_ITEMS]:
            held = self.text_of(sel.cond, {**env, sel.var: item})
            if wanted or held != "true":
                self.say(depth + 1, f"[{sel.var} = {_value(item)}]  =>  {held}")
        if len(items) > MAX_ITEMS:
            self.say(depth + 1, f"... {len(items) - MAX_ITEMS} more not shown")

    def _describe(self, node) -> str:
        if isinstance(node, ast.Name) and node.name in self.lets:
            return f"`{node.name}` (= {to_text(self.lets[node.name].expr)})"
        return f"`{to_text(node)}`"


def describe_subject(subject: Subject) -> str:
    if subject.kind == "host":
        return f"host {subject.host['name']}"
    if subject.kind == "guest":
        guest = subject.guest
        return f"guest {guest['name']} on {guest['host']}" + (f", {subject.mode} migration" if subject.mode
                                                               else ", audit")
    if subject.kind == "migration":
        guest = subject.guest
        return f"guest {guest['name']}: {guest['host']} -> {subject.target['name']}, {subject.mode} migration"
    return "the snapshot"


def explain(engine: Engine, rule: CompiledRule, subject: Subject) -> str:
    """The explanation of `rule` for `subject`, as text."""
    tracer = _Explainer(rule)
    outcomes = engine.outcomes(rule, subject, trace=tracer)
    statuses = sorted({o.status for o in outcomes})
    lines = [f"{rule.id}: {rule.title}", f"  severity {rule.severity}, on {rule.subject}; {rule.span}",
             f"  source: {rule.cite}", f"  subject: {describe_subject(subject)}", f"  result: {', '.join(statuses)}", ""]
    first_line = rule.span.line
    for n, text in enumerate(rule.rule.source.splitlines()):
        prefix = "rule " if n == 0 and not text.startswith("rule") else ""
        lines.append(f"  {first_line + n:4} | {prefix}{text}")
    lines += ["", "evaluation:"]
    return "\n".join(lines + tracer.lines) + "\n"
