"""The commands that answer about one input, not a report: `validate`, `rules`, `lint`, `test`, `explain`.

Apart from the reporting commands (`commands`), so that a `check` imports none of what these use
(the rule tests' runner, the explainer) and these none of the reporting commands' parts.
"""

from __future__ import annotations

import json
import sys
from importlib import import_module
from pathlib import Path

from ..core.diagnostics import render_all
from ..core.verdicts import EXIT_BAD_INPUT, EXIT_OK
from ..files.document import LoadError
from ..lang.diagnostics import RuleError
from . import pipeline
from .commands import make_request, write_answer

# the modules only one of these commands uses, imported when it runs (`validate` and `lint` import
# neither the rule tests' runner nor the explainer, and through it the plans)
PARTS = {"test": "ruletest", "explain": "explaining"}


def _part(command: str):
    return import_module(f"{__package__}.{PARTS[command]}")


def cmd_validate(args) -> int:
    try:
        snapshot = pipeline.validate(args.snapshot, args.max_bytes)
    except LoadError as exc:
        if args.format != "json":
            raise
        print(json.dumps({"snapshot": args.snapshot, "valid": False,
                          "problems": [p.to_json() for p in exc.problems]}, indent=2))
        return EXIT_BAD_INPUT
    if args.format == "json":
        print(json.dumps({"snapshot": args.snapshot, "valid": True, "sha256": snapshot.doc.sha256,
                          "hosts": len(snapshot.hosts), "guests": len(snapshot.guests), "problems": []}, indent=2))
    elif not args.quiet:
        print(f"{args.snapshot}: valid snapshot: {len(snapshot.hosts)} hosts, {len(snapshot.guests)} guests",
              file=sys.stderr)
    return EXIT_OK


def cmd_rules(args) -> int:
    text = pipeline.catalogue(make_request(args, "rules", reporting=False), (args.format or ["table"])[0])
    write_answer(args.output, text)
    return EXIT_OK


def cmd_lint(args) -> int:
    try:
        count, warnings = pipeline.lint(args.dirs, args.no_builtin)
    except RuleError as exc:
        if args.format != "json":
            raise
        print(json.dumps({"diagnostics": [d.to_json() for d in exc.diagnostics]}, indent=2))
        return EXIT_BAD_INPUT
    failed = bool(warnings) and args.warnings_as_errors
    if args.format == "json":
        print(json.dumps({"diagnostics": [d.to_json() for d in warnings]}, indent=2 if warnings else None))
    elif warnings:
        print(render_all(warnings), file=sys.stderr)
    if args.quiet:
        return EXIT_BAD_INPUT if failed else EXIT_OK
    print(f"{count} rule(s) checked in {len(args.dirs)} pack(s): "
          + (f"{len(warnings)} warning(s)" if warnings else "no problems"), file=sys.stderr)
    return EXIT_BAD_INPUT if failed else EXIT_OK


def cmd_test(args) -> int:
    return _part("test").run_pack_tests([Path(d) for d in args.dirs], out=sys.stdout, verbose=args.verbose,
                                        no_builtin=args.no_builtin, fmt=args.format, case_filter=args.run,
                                        output=args.output, quiet=args.quiet)


def cmd_explain(args) -> int:
    request = make_request(args, "explain", reporting=False)
    explaining = _part("explain")
    sys.stdout.write(explaining.explain_in_plan(request) if args.plan or args.step is not None
                     else explaining.explain(request))
    return EXIT_OK
