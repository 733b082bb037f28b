"""`migcheck explain`: why a rule gave its result for one subject.

Prints the rule's source, then walks its clauses in order for the subject, showing the
value of every sub-expression, each `for` binding, and for a failing `require` which part
failed and the value that would make it pass. It evaluates with the rule's own compiled
closures, so what it shows is what `check` and `audit` computed.
"""

from __future__ import annotations


from .lang import ast
from .lang.builtins import EvalError, render
from .lang.unparse import to_text

MAX_BINDINGS = 50


class ExplainError(Exception):
    pass


def _value(value) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value[:12]) + (", ..." if len(value) > 12 else "") + "]"
    if isinstance(value, dict):
        return render(value)
    return render(value)


class _Tracer:
    def __init__(self, rule, env: dict):
        self.rule = rule
        self.closures = rule.compiled
        self.env = env
        self.lines: list[str] = []
        self.lets: dict[str, ast.Let] = {}

    def say(self, depth: int, text: str) -> None:
        self.lines.append("  " * depth + text)

    def value_of(self, node):
        fn = self.closures.get(id(node))
        if fn is None:
            raise EvalError("not evaluated on its own")
        return fn(self.env)

    def show(self, node, depth: int, limit: int = 3) -> None:
        """The value of each interesting sub-expression of `node`."""
        if limit == 0:
            return
        for child in ast.children(node):
            if isinstance(child, (ast.Literal, ast.Selection)) or (
                    isinstance(child, ast.ListExpr) and all(isinstance(i, ast.Literal) for i in child.items)):
                continue
            if isinstance(child, ast.Attr) and isinstance(child.obj, ast.Name) and child.obj.name == "data":
                continue
            try:
                text = _value(self.value_of(child))
            except EvalError as exc:
                text = f"<{exc.message}>"
            except (KeyError, TypeError):
                continue
            self.say(depth, f"{to_text(child)} = {text}")
            if not isinstance(child, (ast.Name, ast.Attr, ast.Call, ast.Comprehension)):
                self.show(child, depth + 1, limit - 1)

    def why(self, node, depth: int) -> None:
        """For a false condition: the part that failed, and what would make it pass."""
        if isinstance(node, ast.Logic) and node.op == "and":
            for side in (node.left, node.right):
                if self.value_of(side) is False:
                    self.say(depth, f"false: {to_text(side)}")
                    self.why(side, depth + 1)
                    return
        if isinstance(node, ast.Logic) and node.op == "or":
            self.say(depth, "every alternative is false")
            for side in (node.left, node.right):
                self.why(side, depth + 1)
            return
        if isinstance(node, ast.Compare):
            left, right = self.value_of(node.left), self.value_of(node.right)
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
            return
        if isinstance(node, ast.Call) and node.func in ("any", "all") and len(node.args) == 1 \
                and isinstance(node.args[0], ast.Selection):
            self._quantifier(node, node.args[0], depth)
            return
        self.say(depth, f"{to_text(node)} is false")

    def _quantifier(self, node, sel: ast.Selection, depth: int) -> None:
        """Which items kept `any`/`all` from holding: each item and its condition's value."""
        items = self.value_of(sel.source)
        wanted = node.func == "any"
        self.say(depth, f"{'no' if wanted else 'not every'} {sel.var} in {to_text(sel.source)} "
                        f"({len(items)} item(s)) meets {to_text(sel.cond)}:")
        saved = self.env.get(sel.var)
        for item in items[:12]:
            self.env[sel.var] = item
            try:
                held = self.value_of(sel.cond)
            except EvalError as exc:
                held = f"<{exc.message}>"
            if wanted or held is not True:
                self.say(depth + 1, f"[{sel.var} = {_value(item)}]  =>  {_value(held)}")
        if len(items) > 12:
            self.say(depth + 1, f"... {len(items) - 12} more not shown")
        if saved is None:
            self.env.pop(sel.var, None)
        else:
            self.env[sel.var] = saved

    def _describe(self, node) -> str:
        if isinstance(node, ast.Name) and node.name in self.lets:
            return f"`{node.name}` (= {to_text(self.lets[node.name].expr)})"
        return f"`{to_text(node)}`"

    def run(self, steps: list, i: int, depth: int) -> None:
        step = steps[i]
        try:
            if isinstance(step, ast.When):
                value = self.value_of(step.expr)
                self.say(depth, f"when {to_text(step.expr)}  =>  {_value(value)}")
                self.show(step.expr, depth + 2)
                if not value:
                    self.say(depth + 1, "=> notapplicable")
                    return
                self.run(steps, i + 1, depth)
            elif isinstance(step, ast.For):
                items = self.value_of(step.source)
                cond = f" where {to_text(step.cond)}" if step.cond is not None else ""
                self.say(depth, f"for {step.var} in {to_text(step.source)}{cond}  =>  {len(items)} item(s)")
                matched = 0
                for item in items[:MAX_BINDINGS]:
                    self.env[step.var] = item
                    if step.cond is not None and not self.value_of(step.cond):
                        self.say(depth + 1, f"[{step.var} = {_value(item)}] skipped: {to_text(step.cond)} is false")
                        continue
                    matched += 1
                    self.say(depth + 1, f"[{step.var} = {_value(item)}]")
                    self.run(steps, i + 1, depth + 2)
                self.env.pop(step.var, None)
                if len(items) > MAX_BINDINGS:
                    self.say(depth + 1, f"... {len(items) - MAX_BINDINGS} more not shown")
                if not matched:
                    self.say(depth + 1, "=> notapplicable (nothing to check)")
            elif isinstance(step, ast.Let):
                value = self.value_of(step.expr)
                self.env[step.name] = value
                self.lets[step.name] = step
                self.say(depth, f"let {step.name} = {to_text(step.expr)}  =>  {_value(value)}")
            elif isinstance(step, ast.Require):
                value = self.value_of(step.expr)
                self.say(depth, f"require {to_text(step.expr)}  =>  {_value(value)}")
                self.show(step.expr, depth + 2)
                if value:
                    self.say(depth + 1, "=> pass")
                else:
                    self.say(depth + 1, "=> FAIL")
                    self.why(step.expr, depth + 2)
                    self.say(depth + 1, f"message: {self.rule.message(self.env)}")
                    fix = self.rule.fix(self.env)
                    if fix:
                        self.say(depth + 1, f"fix: {fix}")
                return
            if isinstance(step, ast.Let):
                self.run(steps, i + 1, depth)
        except EvalError as exc:
            where = f" at {exc.span}" if exc.span else ""
            self.say(depth + 1, f"=> error: {exc.message}{where}")


def explain(ctx, rule_id: str, subject: list[str], mode: str | None) -> str:
    from .cli import UsageError, _suggest

    rule = ctx.ruleset.by_id(rule_id)
    if rule is None:
        raise _suggest(rule_id, ctx.ruleset.ids(), "rule")
    snap = ctx.snapshot
    wanted = {"host": ["HOST"], "guest": ["GUEST"], "migration": ["GUEST", "TARGET"], "snapshot": []}[rule.subject]
    if len(subject) != len(wanted):
        raise UsageError(f"rule `{rule.id}` is `on {rule.subject}`: give " + (" ".join(wanted) or "no subject"))
    env = {"snapshot": snap.as_scope()}
    if rule.subject == "host":
        host = snap.host_by_name.get(subject[0])
        if host is None:
            raise _suggest(subject[0], list(snap.host_by_name), "host")
        env["host"] = host
        about = f"host {host['name']}"
    elif rule.subject in ("guest", "migration"):
        guest = snap.guest_by_name.get(subject[0])
        if guest is None:
            raise _suggest(subject[0], list(snap.guest_by_name), "guest")
        source = snap.host_by_name.get(guest["host"])
        if rule.subject == "guest":
            env.update(guest=guest, host=source, mode=mode)
            about = f"guest {guest['name']} on {guest['host']}" + (f", {mode} migration" if mode else ", audit")
        else:
            target = snap.host_by_name.get(subject[1])
            if target is None:
                raise _suggest(subject[1], list(snap.host_by_name), "host")
            env.update(guest=guest, source=source, target=target, mode=mode or "offline",
                       stop=getattr(ctx.args, "stop", False))
            about = f"guest {guest['name']}: {guest['host']} -> {target['name']}, {mode or 'offline'} migration"
    else:
        about = "the snapshot"
    statuses = sorted({o.status for o in rule.run(dict(env))})
    lines = [f"{rule.id}: {rule.title}", f"  severity {rule.severity}, on {rule.subject}; {rule.span}",
             f"  source: {rule.cite}", f"  subject: {about}", f"  result: {', '.join(statuses)}", ""]
    first_line = rule.span.line
    for n, text in enumerate(rule.rule.source.splitlines()):
        prefix = "rule " if n == 0 else ""
        lines.append(f"  {first_line + n:4} | {prefix}{text}" if n == 0 and not text.startswith("rule")
                     else f"  {first_line + n:4} | {text}")
    lines += ["", "evaluation:"]
    tracer = _Tracer(rule, dict(env))
    tracer.run(list(rule.rule.steps), 0, 1)
    return "\n".join(lines + tracer.lines) + "\n"
