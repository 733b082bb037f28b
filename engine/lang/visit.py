"""The one walk over the rule AST: a visitor base with dispatch by node class, cached.

`Visitor.visit(node, *args)` calls the subclass's method `<prefix><NodeClass>` (`visit_Compare`
by default; the checker's methods are `check_Compare`, the compiler's `compile_Compare`, so
names line up across stages) with the node and the extra arguments, or `generic_visit` when
the subclass has none. The method is looked up once per (visitor class, node class) and kept
in a per-class table, as pyflakes' `getNodeHandler` and lark's visitors do. `generic_visit`
visits the node's children (`ast.children`) and returns None; `None` (an absent `where`, say)
has no children, so visiting it does nothing unless a subclass says otherwise.

The walks run at check and compile time only; the compiled closures never go through here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import ast


class Visitor:
    prefix = "visit_"
    _handlers: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._handlers = {}  # node class -> unbound method, this visitor class's own

    def visit(self, node, *args) -> Any:
        return self.method_for(node)(self, node, *args)

    def method_for(self, node) -> Callable:
        """The unbound method that visits `node`. A recursive walk that calls it itself
        (`self.method_for(node)(self, node, ...)`) keeps one stack frame per level, as a direct
        call would: the checker and compiler do, so rules nested up to the parser's bounds
        compile within Python's recursion limit as they did before the visitor."""
        cls = node.__class__
        handlers = type(self)._handlers
        handler = handlers.get(cls)
        if handler is None:
            handler = handlers[cls] = _handler(type(self), cls)
        return handler

    def generic_visit(self, node, *args) -> Any:
        for child in ast.children(node):
            self.visit(child, *args)
        return None


def _handler(visitor: type, node_class: type):
    return getattr(visitor, visitor.prefix + node_class.__name__, visitor.generic_visit)
