"""Stage: a matrix's failed and errored results counted from its shared rows, not made.

Input: a `Matrix` (matrix.py) with no waiver in play. Output: per guest, its row of cells
(`Matrix.guest_row`) and its results counted (`GuestCounts`: per rule how many, on how many
targets); and for the few results a report lists, the results themselves (`Tallies.listed`).

A rule's outcomes are shared per (guest class, target class) (matrix.py), and so are their
counts: a rule without `for` has one outcome per subject, so the statuses of its row are its
counts; a rule with `for` has one outcome per binding, counted once per class pair by running
the rule again for the first pair met (as the matrix ran it for its statuses). A guest rule's
results are the guest's own, counted once however many targets; a migration rule's are counted
per target but the guest's current host, as `Matrix.walk` makes them. Guests with the same row
of cells, the same current host and the same classes for the rules with `for` have the same
counts: they are counted once.
"""

from __future__ import annotations

from ..core.results import Result
from ..core.vocabulary import ERROR, FAIL


class GuestCounts:
    """One guest's results, counted: `rules` ((rule id, severity, results, targets) per rule with
    results, in rule id order; targets 0 for a guest rule), `failed` per severity, `errors`."""

    __slots__ = ("rules", "failed", "errors")

    def __init__(self, rules: tuple, failed: dict, errors: int):
        self.rules, self.failed, self.errors = rules, failed, errors

    def add(self, severity: str, results: list | tuple) -> None:
        """Count `results` of one rule of `severity`: each a `Result`, or an (entry, outcome index) of a text
        class (`eval.texts.GuestStamps`); a tuple is a class's units every pair of it shares
        (`Entry.shared_units`), every one a failure."""
        if type(results) is tuple:
            self.failed[severity] = self.failed.get(severity, 0) + len(results)
            return
        for r in results:
            status = (r[0].status or r[0].outcomes[r[1]].status) if type(r) is tuple else r.status
            if status == FAIL:
                self.failed[severity] = self.failed.get(severity, 0) + 1
            elif status == ERROR:
                self.errors += 1


class Tallies:
    """Counts of a matrix's results, guest by guest (`guest`), and the listed ones made (`listed`)."""

    def __init__(self, matrix):
        self.matrix = matrix
        self.names = [t["name"] for t in matrix.targets]
        plans = matrix.plans
        self._order = sorted(range(len(plans)), key=lambda i: plans[i].rule.id)  # a guest's rules, in id order
        self._with_for = tuple(i for i, p in enumerate(plans) if not p.rule.sharing.single)
        self._guests: dict = {}  # (id(row), host, classes of the rules with `for`) -> (row, GuestCounts)
        self._rows: dict = {}  # (plan index, its row id or class, host) -> (failed, errors, targets)
        self._classes: dict = {}  # plan index -> (its target classes, {(guest class, target class): counts})
        self._texts = None

    def guest(self, guest: dict) -> tuple[list, GuestCounts]:
        """The guest's row of cells (every target position, its host's included) and its results counted."""
        row, classes = self.matrix.classes_of(guest)
        own = guest["host"]
        key = (id(row), own, tuple(classes[i] for i in self._with_for))
        found = self._guests.get(key)
        if found is None:  # the row kept with its counts: its id stays its own
            found = self._guests[key] = (row, self._count(guest, own, classes))
        return row, found[1]

    def _count(self, guest: dict, own: str, classes: tuple) -> GuestCounts:
        plans = self.matrix.plans
        rules, failed, errors = [], {}, 0
        for index in self._order:
            plan = plans[index]
            c = classes[index]
            if not plan.rows.get(c):
                continue
            n_failed, n_errors, targets = self._rule(index, plan, c, guest, own)
            if n_failed or n_errors:
                rule = plan.rule
                rules.append((rule.id, rule.severity, n_failed + n_errors, targets))
                if n_failed:
                    failed[rule.severity] = failed.get(rule.severity, 0) + n_failed
                errors += n_errors
        return GuestCounts(tuple(rules), failed, errors)

    def _rule(self, index: int, plan, c: int, guest: dict, own: str) -> tuple[int, int, int]:
        """(failed, errored, targets) of one rule's results for the guest."""
        row = plan.rows[c]
        if plan.rule.subject == "guest":  # the guest's own results, once (its row spans every target)
            return self._pair(index, plan, c, 0, guest, row[0][1]) + (0,)
        key = (index, plan.row_ids[c] if plan.single else ("class", c), own)
        found = self._rows.get(key)
        if found is None:
            names = self.names
            n_failed = n_errors = targets = 0
            for j, statuses in row:
                if names[j] != own:
                    f, e = self._pair(index, plan, c, j, guest, statuses)
                    n_failed += f
                    n_errors += e
                    targets += 1 if f or e else 0
            found = self._rows[key] = (n_failed, n_errors, targets)
        return found

    def _pair(self, index: int, plan, c: int, j: int, guest: dict, statuses: frozenset) -> tuple[int, int]:
        """(failed, errored) outcomes of the rule for the guest's class and target `j`'s class."""
        if plan.single:  # one outcome per subject: its status is the row's
            return int(FAIL in statuses), int(ERROR in statuses)
        target_class = plan.target_class
        known = self._classes.get(index)
        if known is None or known[0] is not target_class:  # (new target classes: the matrix made them finer)
            known = self._classes[index] = (target_class, {})
        key = (c, target_class[j]) if target_class else (c, 0)
        found = known[1].get(key)
        if found is None:
            outcomes = self.matrix.problem_outcomes(index, guest, j)
            found = known[1][key] = (sum(1 for o in outcomes if o.status == FAIL),
                                     sum(1 for o in outcomes if o.status == ERROR))
        return found

    def listed(self, guests: list[dict], rule_ids) -> list[Result]:
        """The results of `rule_ids` (None: every rule) for these guests, guest by guest in `walk`'s order."""
        if self._texts is None:
            self._texts = self.matrix.new_texts()
        out = []
        for guest in guests:
            out.extend(self.matrix.results_of(guest, rule_ids, self._texts))
        return out

    def rules_of(self, mask: int) -> list:
        """The compiled rules whose bits are set in `mask` (a cell's failing or erring rules)."""
        return self.matrix.rules_of(mask)
