"""The house in layers (DESIGN.md, "Layout, in layers"): every module of `engine/` imports only
from its own layer or the layers before it, nothing imports in a circle, and an import inside a
function is kept for the optional heavy dependencies listed here.

The imports are read from the source with `ast` (nothing is imported), so the test also holds for
code paths no other test runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parent.parent / "engine"

# In order: a module may import from its own layer and from any layer before it.
LAYERS = ("core", "files", "lang", "packs", "estate", "eval", "waves", "report", "importer", "app", "cli")

# Imports that may stay inside a function: optional heavy dependencies, imported where used so
# that a command which does not need them does not pay for them (or does not need them installed).
LAZY_ALLOWED = {
    "ortools",  # `place`, the optional extra hpvm-migcheck[place]
    "rich",  # the progress bar, drawn only on a terminal
    "jsonschema",  # the located error report of an invalid input (the valid path uses jsonschema_rs)
    "jsonschema_rs",  # the valid path's validator: a file found valid before is not validated again (files.cache)
    "lxml",
    "migcheck.waves.place",  # imports ortools at its top: loaded by `place` only
    "migcheck.waves.campaign",  # imports waves.place (ortools): loaded by `campaign` only
    "migcheck.lang.parser",  # imports lark: loaded on a miss of the parse cache (packs.cache) only
}
# Standard-library modules imported inside a function for a reason written beside them in the source.
MAX_OTHER_LOCAL_IMPORTS = 15


def _modules() -> dict[str, Path]:
    mods = {}
    for path in ENGINE.rglob("*.py"):
        parts = list(path.relative_to(ENGINE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(["migcheck", *parts])] = path
    return mods


MODULES = _modules()


def _layer(module: str) -> int | None:
    """The layer of a module of the package; None for the package itself (its version) and __main__."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] == "__main__":
        return None
    return LAYERS.index(parts[1])


def _targets(module: str, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The modules an import statement names (a `from X import name` of a submodule names it)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    package = module if MODULES[module].name == "__init__.py" else module.rsplit(".", 1)[0]
    if node.level:
        base = package.split(".")[: len(package.split(".")) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    return [f"{target}.{a.name}" if f"{target}.{a.name}" in MODULES else target for a in node.names]


def _imports() -> list[tuple[str, str, int, bool]]:
    """(module, imported module, line, inside a function) for every import of the engine."""
    found = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        inner = {id(n) for f in functions for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _targets(module, node):
                    found.append((module, target, node.lineno, id(node) in inner))
    return found


IMPORTS = _imports()


def _own(target: str) -> str | None:
    """The engine module an import lands in (a name imported from a module is that module)."""
    while target not in MODULES and "." in target:
        target = target.rsplit(".", 1)[0]
    return target if target in MODULES else None


def test_every_module_sits_in_a_layer():
    for module in MODULES:
        parts = module.split(".")
        assert len(parts) == 1 or parts[1] in LAYERS or parts[1] == "__main__", f"{module} is in no layer"
    top = sorted(p.name for p in ENGINE.glob("*.py"))
    assert top == ["__init__.py", "__main__.py", "cli.py"], top


def test_no_upward_import():
    upward = []
    for module, target, line, _ in IMPORTS:
        own = _own(target)
        if own is None or own == module:
            continue
        mine, theirs = _layer(module), _layer(own)
        if mine is not None and theirs is not None and theirs > mine:
            upward.append(f"{MODULES[module].relative_to(ENGINE.parent)}:{line}: {module} imports {own}")
    assert not upward, "imports from a later layer:\n" + "\n".join(upward)


def test_no_import_circle():
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, target, _, _ in IMPORTS:
        own = _own(target)
        # a package re-exporting its own submodules is not a dependency of design
        if own and own != module and not (MODULES[module].name == "__init__.py" and own.startswith(module + ".")):
            edges[module].add(own)
    circles = _strongly_connected(edges)
    assert not circles, "import circles: " + "; ".join(" -> ".join(c) for c in circles)


def test_imports_inside_functions_are_the_listed_ones():
    others = []
    for module, target, line, inside in IMPORTS:
        if not inside or any(target == lazy or target.startswith(lazy + ".") for lazy in LAZY_ALLOWED):
            continue
        place = f"{MODULES[module].relative_to(ENGINE.parent)}:{line}: {target}"
        if place not in others:
            others.append(place)
    assert len(others) <= MAX_OTHER_LOCAL_IMPORTS, f"{len(others)} imports inside functions:\n" + "\n".join(others)
    assert not [o for o in others if "migcheck" in o.split(": ", 1)[1]], \
        "an engine module imported inside a function (a circle held apart?):\n" + "\n".join(others)


def test_no_function_over_sixty_lines():
    long = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 60:
                long.append(f"{path.relative_to(ENGINE.parent)}:{node.lineno} {node.name}")
    assert len(long) <= len(LONG_ALLOWED) and set(long) <= LONG_ALLOWED, "functions over 60 lines:\n" + "\n".join(long)


# Functions allowed over 60 lines, each with its reason in the closing note of the layers issue.
LONG_ALLOWED: set[str] = set()


def _strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


@pytest.mark.parametrize("bad, wanted", [
    ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
])
def test_the_circle_finder_finds_circles(bad, wanted):
    assert _strongly_connected(bad) == wanted
