"""Diagnostics of the rule language: one located problem each, collected, sorted, rendered.

A stage yields `Diagnostic`s instead of raising; the driver sorts them by position and
prints each as `file:line:col: error[code]: message`, the source line, a caret under the
column, and an optional help line (Cedar's and rustc's shape).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Diagnostic:
    file: str
    line: int
    col: int
    code: str
    message: str
    help: str = ""

    def render(self, source: str | None = None) -> str:
        out = f"{self.file}:{self.line}:{self.col}: error[{self.code}]: {self.message}"
        if source is not None:
            lines = source.splitlines()
            if 1 <= self.line <= len(lines):
                text = lines[self.line - 1].expandtabs(1)
                out += f"\n  | {text}\n  | {' ' * (self.col - 1)}^"
        if self.help:
            out += f"\n  = help: {self.help}"
        return out

    def to_json(self) -> dict:
        return {"file": self.file, "line": self.line, "col": self.col, "code": self.code,
                "message": self.message, "help": self.help}


def at(span, code: str, message: str, help: str = "") -> Diagnostic:
    """A diagnostic at an AST span."""
    return Diagnostic(span.file, span.line, span.col, code, message, help)


class RuleError(Exception):
    """Rule packs that cannot be used: carries every diagnostic and the sources to show them."""

    def __init__(self, diagnostics: list[Diagnostic], sources: dict[str, str] | None = None):
        self.diagnostics = sorted(set(diagnostics))
        self.sources = sources or {}
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join(d.render(self.sources.get(d.file)) for d in self.diagnostics)
