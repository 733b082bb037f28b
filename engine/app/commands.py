"""The command handlers: an argparse namespace in, the pipeline called, an exit code out.

`cli` parses the arguments and imports this module (or `importing`) only when a command runs;
each handler turns the namespace into a `Request`, runs it and writes what it asked for.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..core.diagnostics import render_all
from ..core.verdicts import EXIT_BAD_INPUT, EXIT_EVAL_ERROR, EXIT_OK
from ..files.document import DEFAULT_MAX_BYTES, LoadError
from ..lang.diagnostics import RuleError
from ..packs.config import find_config
from . import explaining, pipeline
from .requests import InternalError, Request, UsageError
from .ruletest import run_pack_tests
from .terminal import colour_wanted, print_headline, terminal_width
from .campaign import campaign_options
from .waves import place_options


def _config(args) -> tuple[str | None, str | None]:
    """The configuration file and how it was found, for a command that reads one (`--rules`, `--config`);
    with `-v` said on stderr."""
    if not hasattr(args, "config"):
        return None, None
    found = find_config(args.config)
    if getattr(args, "verbose", False):
        print(f"migcheck: configuration {found[0]} ({found[1]})" if found else
              "migcheck: no configuration (no --config, MIGCHECK_CONFIG, or migcheck.yaml or .migcheck.yaml "
              "from the working directory upward)", file=sys.stderr)
    return found or (None, None)


def _request(args, command: str, reporting: bool = True) -> Request:
    """The argparse namespace as the pipeline's explicit request."""
    config, config_source = _config(args)
    return Request(
        command=command, snapshot=getattr(args, "snapshot", None), rules=list(getattr(args, "rules", None) or []),
        config=config, config_source=config_source, waivers=getattr(args, "waivers", None),
        fail_on=getattr(args, "fail_on", None), formats=list(getattr(args, "format", None) or []) if reporting else [],
        output=getattr(args, "output", None), baseline=getattr(args, "baseline", None),
        fail_on_new=getattr(args, "fail_on_new", False), warn_expiring=getattr(args, "warn_expiring", None),
        max_bytes=getattr(args, "max_bytes", None) or DEFAULT_MAX_BYTES, guest=getattr(args, "guest", None),
        target=getattr(args, "target", None), mode=getattr(args, "mode", None), stop=getattr(args, "stop", False),
        rule=getattr(args, "rule", None), subject=list(getattr(args, "subject", None) or []), reporting=reporting,
        source_root=getattr(args, "source_root", None), plan=getattr(args, "plan", None),
        step=getattr(args, "step", None), emit_snapshot=getattr(args, "emit_snapshot", None),
        place=place_options(args) if command == "place" else None,
        campaign=campaign_options(args) if command == "campaign" else None, as_of=getattr(args, "as_of", None),
        guest_globs=list(getattr(args, "guest_glob", None) or []) if command in ("matrix", "where") else [],
        target_globs=list(getattr(args, "target_glob", None) or []) if command in ("matrix", "where") else [],
        limit=getattr(args, "limit", None), quiet=getattr(args, "quiet", False), jobs=getattr(args, "jobs", None),
        verbose=getattr(args, "verbose", False), sarif_category=getattr(args, "sarif_category", None),
        stale_check=getattr(args, "stale_check", False))


def _colour(args) -> bool:
    return colour_wanted(getattr(args, "color", "auto"), sys.stdout)


# -- commands ---------------------------------------------------------------------------
def cmd_report(args) -> int:
    """audit, check, matrix (and any command registered in `pipeline.EVALUATIONS`)."""
    run = pipeline.run(_request(args, args.command))
    pipeline.write_outputs(run, color=_colour(args), width=terminal_width(sys.stdout))
    print_headline(run.final or run.report, run.targets, run.request.quiet)
    return run.exit_code()


def cmd_matrix(args) -> int:
    """matrix: the report, or with --summary the counts per guest and per target (no findings)."""
    if not args.summary:
        return cmd_report(args)
    formats = args.format or ["table"]
    if len(formats) > 1 or formats[0].partition(":")[0] not in ("table", "json"):
        raise UsageError("--summary writes one report, table or json")
    fmt, _, path = formats[0].partition(":")
    text, code = pipeline.matrix_summary(_request(args, "matrix", reporting=False), fmt)
    pipeline.write_text(path or args.output or None, text)
    return code


def cmd_where(args) -> int:
    """Where can GUEST go: every other VSP, ready ones first."""
    text, code = pipeline.where(_request(args, "where", reporting=False), args.format)
    _write(args.output, text)
    return code


def _write(path: str | None, text: str) -> None:
    """An answer to standard output or, with `-o FILE`, to FILE (atomically)."""
    if path is None:
        sys.stdout.write(text)
    else:
        pipeline.write_text(path, text)


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
    text = pipeline.catalogue(_request(args, "rules", reporting=False), (args.format or ["table"])[0])
    _write(args.output, text)
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
    return run_pack_tests([Path(d) for d in args.dirs], out=sys.stdout, verbose=args.verbose,
                          no_builtin=args.no_builtin, fmt=args.format, case_filter=args.run,
                          output=args.output, quiet=args.quiet)


def cmd_explain(args) -> int:
    request = _request(args, "explain", reporting=False)
    sys.stdout.write(explaining.explain_in_plan(request) if args.plan or args.step is not None
                     else explaining.explain(request))
    return EXIT_OK


def cmd_campaign(args) -> int:
    """`campaign`: as `place`; a VSP that cannot be vacated fails the run."""
    return cmd_place(args, "campaign")


def cmd_place(args, command: str = "place") -> int:
    """`place`: a report like the others; a guest that fits nowhere fails the run; an internal error exits 3."""
    try:
        run = pipeline.run(_request(args, command))
    except InternalError as exc:
        print(f"migcheck: internal error: {exc}", file=sys.stderr)
        return EXIT_EVAL_ERROR
    pipeline.write_outputs(run, color=_colour(args), width=terminal_width(sys.stdout))
    print_headline(run.report, run.targets, run.request.quiet)
    return run.exit_code()  # a guest that fits nowhere fails the run (`verdicts.exit_code`)
