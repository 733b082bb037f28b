"""Diagnostics of the rule language: the one `Diagnostic` type (see `migcheck.diagnostics`),
made at AST spans, collected, sorted and rendered together.

A stage yields `Diagnostic`s instead of raising; the driver sorts them by position and
prints each as `file:line:col: error[code]: message`, the source line, a caret under the
column, and an optional help line (Cedar's and rustc's shape). Warnings (`unused-let`,
`always-true`) are kept apart: they do not make a pack unusable.
"""

from __future__ import annotations

from ..core.diagnostics import CODES, Diagnostic, render_all

__all__ = ["Diagnostic", "RuleError", "at", "diag"]


def diag(file: str, line: int, col: int, code: str, message: str, help: str = "") -> Diagnostic:
    """A rule-language diagnostic, with its code's registered severity."""
    return Diagnostic(file, line, col, message, help=help, code=code, severity=CODES[code].severity)


def at(span, code: str, message: str, help: str = "") -> Diagnostic:
    """A diagnostic at an AST span."""
    return diag(span.file, span.line, span.col, code, message, help)


class RuleError(Exception):
    """Rule packs that cannot be used: carries every diagnostic (warnings too) and the sources to show them."""

    def __init__(self, diagnostics: list[Diagnostic], sources: dict[str, str] | None = None):
        self.diagnostics = sorted(set(diagnostics))
        self.sources = sources or {}
        super().__init__(self.render())

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    def render(self) -> str:
        return render_all(self.diagnostics, self.sources)
