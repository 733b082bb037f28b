"""Small pieces the text reports share: headlines, subjects, groups."""

from __future__ import annotations

SEVERITY_ORDER = ("error", "warning", "info")


def subject_text(result) -> str:
    s = result.subject
    if "stage" in s and "guest" not in s:
        return f"stage {s['stage']}" + (f" [{result.item}]" if result.item else "")
    if "target" in s:
        text = f"{s['guest']}: {s.get('source')} -> {s['target']} ({s.get('mode')})"
    elif "guest" in s:
        text = f"guest {s['guest']}"
    elif "host" in s:
        text = f"host {s['host']}"
    else:
        text = "snapshot"
    if "step" in s:
        text = f"step {s['step']}, {text}"
    return text + (f" [{result.item}]" if result.item else "")


def headline(report) -> str:
    if report.command == "check":
        r = report.request
        return f"{r['guest']}: {r['source']} -> {r['target']} ({r['mode']} migration)"
    if report.command in ("plan", "place"):
        from .plan_section import headline as plan_headline
        return plan_headline(report)
    if report.command == "matrix":
        c = report.summary["cells"]
        return f"{c['ready']} ready, {c['blocked']} blocked, {c['unknown']} unknown of {len(report.cells)} migrations"
    return f"audit of {report.snapshot_path}"


def findings(report) -> list:
    """Failures and errors, the results a report shows in detail."""
    return [r for r in report.results if r.status in ("fail", "error")]


def by_severity_and_rule(results) -> list[tuple[str, list[tuple[str, list]]]]:
    groups = []
    for severity in SEVERITY_ORDER:
        rules: dict[str, list] = {}
        for r in results:
            if r.severity == severity:
                rules.setdefault(r.rule, []).append(r)
        if rules:
            groups.append((severity, sorted(rules.items())))
    return groups


ROWS_PER_RULE = 200  # documents for people list this many results of a rule, then say how many more
GRID_LIMIT = 40  # targets; a wider matrix is summarised per guest instead of drawn cell by cell


def per_guest(report) -> list[dict]:
    """For a matrix too wide to draw: per guest, how many targets are ready or blocked, and why."""
    from collections import Counter

    rows: dict[tuple, dict] = {}
    for c in report.cells or []:
        row = rows.setdefault((c.guest, c.source), {"guest": c.guest, "source": c.source, "ready": 0, "blocked": 0,
                                                    "unknown": 0, "why": Counter()})
        row[c.verdict] += 1
        if c.verdict != "ready":
            row["why"].update(c.failing)
    out = []
    for row in rows.values():
        row["why"] = ", ".join(f"{rule} ({n})" for rule, n in sorted(row["why"].items(), key=lambda x: (-x[1], x[0]))[:4])
        out.append(row)
    return out


def grid(report) -> tuple[list[str], list[str], dict]:
    """Guests, targets and cells by (guest, target) of a matrix report."""
    cells = report.cells or []
    guests = list(dict.fromkeys(c.guest for c in cells))
    targets = sorted({c.target for c in cells} | {c.source for c in cells})
    return guests, targets, {(c.guest, c.target): c for c in cells}
