"""Status, verdict, severity and mode words are named from `core/vocabulary.py`, never spelled again.

The source of `engine/` is read with `ast` (nothing is imported): a string constant equal to one of
the vocabulary's words outside `core/vocabulary.py` fails, unless it is listed below as the word of
an external format (SARIF, JUnit, CSS...) or of another protocol that happens to be spelled the
same, with how many times the file may spell it and why.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

from migcheck.core import vocabulary as v

ENGINE = Path(__file__).resolve().parent.parent / "engine"
VOCABULARY = ENGINE / "core" / "vocabulary.py"

WORDS = frozenset((*v.STATUSES, *v.VERDICTS, v.AUDIT_PASS, v.AUDIT_FAIL, v.AUDIT_ERROR, *v.SEVERITIES, *v.FAIL_ON,
                   *v.MODES))

# (file under engine/, word) -> (how many times it may be spelled there, why it is not the vocabulary's word)
EXTERNAL: dict[tuple[str, str], tuple[int, str]] = {
    ("report/sarif.py", "error"): (1, "SARIF `level` of a result or notification (LEVEL_ERROR)"),
    ("report/sarif.py", "warning"): (1, "SARIF `level` of a result or notification (LEVEL_WARNING)"),
    ("report/sarif.py", "fail"): (2, "SARIF `kind` of a result (KIND_FAIL), and the kind of a folded group"),
    ("report/junit.py", "error"): (1, "JUnit's `<error>` element, a case's outcome (ERROR_ELEMENT)"),
    ("report/html.py", "info"): (1, "the stylesheet's class of the notes card"),
    ("core/diagnostics.py", "error"): (1, "a diagnostic's level (lint, validation): another vocabulary"),
    ("core/diagnostics.py", "warning"): (1, "a diagnostic's level (lint, validation): another vocabulary"),
    ("lang/compiler.py", "error"): (2, "a trace event, dispatched to `Explainer.on_error` like `bind`, `when`"),
    ("eval/engine.py", "error"): (1, "a trace event, dispatched to `Explainer.on_error` like `bind`, `when`"),
    ("lang/analysis/hoist.py", "error"): (1, "an attribute name in `__slots__`"),
    ("app/terminal.py", "error"): (1, "an English noun of the stderr headline (`1 error`), pluralised"),
    ("app/terminal.py", "never"): (1, "the `--color` choice (auto, always, never), not `--fail-on never`"),
    ("app/terminal.py", "warning"): (1, "an English noun of the stderr headline (`1 warning`), pluralised"),
    ("cli.py", "never"): (1, "the `--color` choice (auto, always, never), not `--fail-on never`"),
    ("report/github.py", "error"): (2, "a GitHub workflow command (`::error`), and a noun of its closing notice"),
    ("report/github.py", "warning"): (2, "a GitHub workflow command (`::warning`), and a noun of its closing notice"),
    ("report/gitlab.py", "info"): (1, "a GitLab Code Quality severity (SEVERITY_INFO)"),
    ("report/html.py", "error"): (1, "an English noun of a summary card (`1 error`), the singular of its title"),
    ("report/html.py", "warning"): (1, "an English noun of a summary card (`1 warning`), the singular of its title"),
    ("report/table.py", "error"): (1, "an English noun of the summary line (`1 error`), pluralised"),
    ("report/table.py", "warning"): (1, "an English noun of the summary line (`1 warning`), pluralised"),
    ("waves/place.py", "unknown"): (1, "CP-SAT's solver status (_SOLVER_UNKNOWN), not the verdict"),
}


def vocabulary_literals(root: Path = ENGINE) -> Counter:
    """(file under `root`, word) -> how many string constants of the file equal the word."""
    found: Counter = Counter()
    for path in sorted(root.rglob("*.py")):
        if path == VOCABULARY:
            continue
        name = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in WORDS:
                found[(name, node.value)] += 1
    return found


def test_words_come_from_the_vocabulary():
    allowed = {key: n for key, (n, _) in EXTERNAL.items()}
    unexplained = [f"engine/{name}: {word!r} {n} time(s), {allowed.get((name, word), 0)} allowed"
                   for (name, word), n in sorted(vocabulary_literals().items()) if n > allowed.get((name, word), 0)]
    assert not unexplained, ("spell these with the constants of core/vocabulary.py, or list an external "
                             "format's word in EXTERNAL with why:\n" + "\n".join(unexplained))


def test_every_exception_is_still_needed():
    """An allowance no longer used goes, so that it cannot cover a new literal."""
    found = vocabulary_literals()
    stale = [f"engine/{name}: {word!r} allowed {n}, spelled {found[(name, word)]}"
             for (name, word), (n, _) in EXTERNAL.items() if found[(name, word)] != n]
    assert not stale, "\n".join(stale)


def test_the_scan_finds_a_new_literal(tmp_path):
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "new.py").write_text('def f(r):\n    return r.status == "fail" or f"{r[\'ready\']}"\n')
    assert vocabulary_literals(tmp_path) == Counter({("report/new.py", "fail"): 1, ("report/new.py", "ready"): 1})


def test_the_vocabulary_is_a_leaf():
    """It imports nothing of migcheck: every layer may name its words."""
    tree = ast.parse(VOCABULARY.read_text(encoding="utf-8"))
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert all(isinstance(n, ast.ImportFrom) and n.module == "__future__" for n in imports)


def test_the_words_and_their_orders():
    assert v.STATUSES == (v.FAIL, v.ERROR, v.PASS, v.NOTAPPLICABLE)
    assert v.VERDICTS == (v.READY, v.BLOCKED, v.UNKNOWN)
    assert v.SEVERITIES == (v.ERROR_SEVERITY, v.WARNING, v.INFO)
    assert sorted(v.SEVERITY_RANK, key=v.SEVERITY_RANK.get, reverse=True) == list(v.SEVERITIES)
    assert list(v.FAIL_ON) == [*reversed(v.SEVERITIES), v.NEVER]  # the order `--fail-on` lists its choices in
    assert all(v.FAIL_ON[s] == v.SEVERITY_RANK[s] for s in v.SEVERITIES)
    assert v.MODES == (v.OFFLINE, v.ONLINE)
