"""Stage: compiled rules + an indexed snapshot to results.

`Engine(rules, snapshot)` runs host, guest and snapshot rules for `audit`, and guest and
migration rules for `check` and `matrix`. Each rule runs in isolation: a rule that cannot
be evaluated yields an `error` result and the others go on.

The matrix is the heavy job (guests x hosts x rules). A rule reads only some fields of
its subjects (`CompiledRule.reads`, found statically), so two targets that agree on every
field a rule reads get the same outcome from it, and so do two guests: each rule is run
once per (guest class, target class) and its outcome is shared. Messages, which name the
actual guest and target, are rendered per pair, and only for results that are reported.
"""

from __future__ import annotations

from ._perf import collector_paused
from .findings import Result
from .lang.compiler import ERROR, FAIL, NOTAPPLICABLE, CompiledRule, Outcome
from .packs import RuleSet
from .sharing import Cell  # noqa: F401  (re-exported: reports import it from here)
from .snapshot import Snapshot


class Engine:
    def __init__(self, rules: RuleSet, snapshot: Snapshot, stop: bool = False):
        """`stop`: migrations stop a running guest first (hpvmmigrate -d); rules read it as `stop`."""
        self.ruleset = rules
        self.snapshot = snapshot
        self.stop = stop
        self.scope = snapshot.as_scope()
        self.by_subject: dict[str, list[CompiledRule]] = {s: [] for s in ("host", "guest", "migration", "snapshot")}
        for rule in rules.rules:
            self.by_subject[rule.subject].append(rule)

    # -- turning outcomes into results ------------------------------------------------
    def _result(self, rule: CompiledRule, outcome: Outcome, subject: dict, location) -> Result:
        status = outcome.status
        if status == FAIL:
            message, fix = rule.message(outcome.env), rule.fix(outcome.env)
        elif status == ERROR:
            message, fix = outcome.error, ""
        elif status == NOTAPPLICABLE:
            message, fix = f"not applicable: {rule.title}", ""
        else:
            message, fix = rule.title, ""
        return Result(rule.id, rule.severity, status, subject, message, fix, rule.cite, rule.title,
                      outcome.item, location, tags=rule.tags)

    def _run(self, rule: CompiledRule, env: dict, missing: dict) -> list[Outcome]:
        """Run a rule, or say why it cannot run when a subject it reads is not in the snapshot."""
        for name, why in missing.items():
            if any(path[0] == name for path in rule.reads):
                return [Outcome(ERROR, env, "", why)]
        return rule.run(env)

    def _guest_env(self, guest: dict, mode: str | None) -> tuple[dict, dict]:
        host = self.snapshot.host_by_name.get(guest["host"])
        missing = {} if host is not None else {
            "host": f"host `{guest['host']}` of guest `{guest['name']}` is not in the snapshot (see INV-UNKNOWN-HOST)",
            "source": f"host `{guest['host']}` of guest `{guest['name']}` is not in the snapshot (see INV-UNKNOWN-HOST)"}
        return {"guest": guest, "host": host, "snapshot": self.scope, "mode": mode}, missing

    def _pair_env(self, guest: dict, source: dict | None, target: dict, mode: str) -> dict:
        return {"guest": guest, "source": source, "target": target, "mode": mode, "stop": self.stop,
                "snapshot": self.scope}

    def guest_results(self, guest: dict, mode: str | None, locate: bool = True) -> list[Result]:
        env, missing = self._guest_env(guest, mode)
        subject = {"guest": guest["name"], "host": guest["host"]}
        location = self.snapshot.locate(guest) if locate else None
        return [self._result(rule, o, subject, location)
                for rule in self.by_subject["guest"] for o in self._run(rule, env, missing)]

    # -- commands ---------------------------------------------------------------------
    def audit(self) -> list[Result]:
        """Host, guest and snapshot rules over the whole snapshot."""
        results = []
        for host in self.snapshot.hosts:
            env = {"host": host, "snapshot": self.scope}
            subject = {"host": host["name"]}
            location = self.snapshot.locate(host)
            for rule in self.by_subject["host"]:
                results.extend(self._result(rule, o, subject, location) for o in rule.run(env))
        for guest in self.snapshot.guests:
            results.extend(self.guest_results(guest, None))
        location = (self.snapshot.path, 1, 1)
        for rule in self.by_subject["snapshot"]:
            results.extend(self._result(rule, o, {}, location) for o in rule.run({"snapshot": self.scope}))
        return results

    def check(self, guest: dict, target: dict, mode: str) -> list[Result]:
        """Guest rules for the guest, then migration rules for moving it to `target`: the matrix's one pair."""
        return self.matrix_of(mode, [guest], [target]).pair_results(guest, target)

    # -- one rule for one subject: the single evaluation path of check, matrix and plan ----------
    def run_rule(self, rule: CompiledRule, guest: dict, host: dict | None, target: dict | None,
                 mode: str | None) -> list[Outcome]:
        """Outcomes of a guest rule for `guest` (on `host`), or of a migration rule for moving it to `target`."""
        env, missing = self._guest_env(guest, mode)
        if rule.subject == "migration":
            env = self._pair_env(guest, host, target, mode)
        return self._run(rule, env, missing)

    def guest_rule_results(self, rule: CompiledRule, guest: dict, mode: str | None, location) -> list[Result]:
        subject = {"guest": guest["name"], "host": guest["host"]}
        host = self.snapshot.host_by_name.get(guest["host"])
        return [self._result(rule, o, subject, location) for o in self.run_rule(rule, guest, host, None, mode)]

    def pair_rule_results(self, rule: CompiledRule, guest: dict, host: dict | None, target: dict, mode: str,
                          location) -> list[Result]:
        subject = {"guest": guest["name"], "source": guest["host"], "target": target["name"], "mode": mode}
        return [self._result(rule, o, subject, location) for o in self.run_rule(rule, guest, host, target, mode)]

    def matrix_of(self, mode: str, guests: list[dict] | None = None, targets: list[dict] | None = None,
                  share: bool = True):
        """A `sharing.Matrix` of `guests` x `targets` (default: all), evaluated on demand."""
        from .sharing import Matrix
        return Matrix(self, mode, guests, targets, share)

    def matrix(self, mode: str, *, results: bool = True, waive=None, share: bool = True,
               guests: list[dict] | None = None, targets: list[dict] | None = None,
               waived_rules=None) -> tuple[list[Cell], list[Result]]:
        """Every guest against every host but its own: a cell per pair, plus its failed and errored results.

        With `results=False` only the cells are built; `waive(result)` may attach a waiver
        before the cell's verdict is taken. `share=False` evaluates every guest afresh (for
        benchmarks and for tests of the sharing itself).
        """
        cells: list[Cell] = []
        kept: list[Result] = []
        with collector_paused():
            for row, found in self.matrix_of(mode, guests, targets, share).walk(results, waive, waived_rules):
                cells.extend(row)
                kept.extend(found)
        return cells, kept


_PROBLEMS = frozenset((FAIL, ERROR))

