"""The reporting commands' handlers: an argparse namespace in, the pipeline called, an exit code out.

`cli` parses the arguments and imports this module (or `tools`, `importing`, `formatting`,
`completion`: its command table names the module of each command) only when a command runs;
each handler turns the namespace into a `Request`, runs it and writes what it asked for. The
options only `place` and `campaign` have are read by their own modules (`OPTIONS`), imported
for those commands only.
"""

from __future__ import annotations

import sys
from importlib import import_module

from ..core.records import replace
from ..core.verdicts import EXIT_EVAL_ERROR
from ..estate import view
from ..files.document import DEFAULT_MAX_BYTES
from ..packs.config import find_config
from . import pipeline
from .requests import InternalError, Request, UsageError
from .terminal import colour_wanted, print_headline, terminal_width

# command -> "MODULE:FUNCTION" under migcheck.app reading its own options into the request (`place`'s
# selection and solver options, `campaign`'s), imported for that command only (they import the solver's side)
OPTIONS = {"place": "waves:place_options", "campaign": "campaign:campaign_options"}


def _own_options(command: str, args):
    """The command's own options (`OPTIONS`), or None for a command that has none."""
    if command not in OPTIONS:
        return None
    module, _, function = OPTIONS[command].partition(":")
    return getattr(import_module(f"{__package__}.{module}"), function)(args)


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


def make_request(args, command: str, reporting: bool = True) -> Request:
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
        place=_own_options(command, args) if command == "place" else None,
        campaign=_own_options(command, args) if command == "campaign" else None, as_of=getattr(args, "as_of", None),
        guest_globs=_names(args, "guest_glob") if command in ("matrix", "where") else [],
        target_globs=_names(args, "target_glob") if command in ("matrix", "where") else [],
        limit=getattr(args, "limit", None), quiet=getattr(args, "quiet", False), jobs=getattr(args, "jobs", None),
        verbose=getattr(args, "verbose", False), sarif_category=getattr(args, "sarif_category", None),
        stale_check=getattr(args, "stale_check", False))


def _names(args, option: str) -> list[str]:
    """The globs of a repeatable option, in NFC as the snapshot's names (`estate.view.name`)."""
    return [view.name(glob) for glob in getattr(args, option, None) or []]


_request = make_request  # (tests build requests as the commands do)


def _colour(args) -> bool:
    return colour_wanted(getattr(args, "color", "auto"), sys.stdout)


# -- commands ---------------------------------------------------------------------------
def cmd_report(args) -> int:
    """audit, check, matrix (and any command registered in `pipeline.EVALUATIONS`)."""
    run = pipeline.run(make_request(args, args.command))
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
    request = replace(make_request(args, "matrix", reporting=False), output=path or args.output or None)
    text, code = pipeline.matrix_summary(request, fmt)  # (its output checked against its inputs first)
    pipeline.write_text(request.output, text)
    return code


def cmd_where(args) -> int:
    """Where can GUEST go: every other VSP, ready ones first."""
    text, code = pipeline.where(make_request(args, "where", reporting=False), args.format)
    write_answer(args.output, text)
    return code


def write_answer(path: str | None, text: str) -> None:
    """An answer to standard output or, with `-o FILE`, to FILE (atomically)."""
    if path is None:
        sys.stdout.write(text)
    else:
        pipeline.write_text(path, text)


def cmd_campaign(args) -> int:
    """`campaign`: as `place`; a VSP that cannot be vacated fails the run."""
    return cmd_place(args, "campaign")


def cmd_place(args, command: str = "place") -> int:
    """`place`: a report like the others; a guest that fits nowhere fails the run; an internal error exits 3."""
    try:
        run = pipeline.run(make_request(args, command))
    except InternalError as exc:
        print(f"migcheck: internal error: {exc}", file=sys.stderr)
        return EXIT_EVAL_ERROR
    pipeline.write_outputs(run, color=_colour(args), width=terminal_width(sys.stdout))
    print_headline(run.report, run.targets, run.request.quiet)
    return run.exit_code()  # a guest that fits nowhere fails the run (`verdicts.exit_code`)
