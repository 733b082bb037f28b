"""The `migcheck` command: parses arguments, calls the stages, maps outcomes to exit codes."""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .document import DEFAULT_MAX_BYTES, Limits, LoadError
from .snapshot import load_snapshot

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_EVAL_ERROR = 0, 1, 2, 3


class UsageError(Exception):
    """A bad invocation: reported on stderr with exit code 2."""


def _limits(args) -> Limits:
    return Limits(max_bytes=args.max_bytes)


def cmd_validate(args) -> int:
    snapshot = load_snapshot(args.snapshot, _limits(args))
    problems = snapshot.integrity_report()
    if problems:
        raise LoadError(problems)
    print(f"{args.snapshot}: valid snapshot: {len(snapshot.hosts)} hosts, {len(snapshot.guests)} guests",
          file=sys.stderr)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="migcheck", description=__doc__.split(":")[0])
    parser.add_argument("--version", action="version", version=f"migcheck {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def snapshot_arg(p):
        p.add_argument("snapshot", metavar="SNAPSHOT", help="inventory snapshot (YAML or JSON)")
        p.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES, metavar="N",
                       help=f"refuse input files larger than N bytes (default {DEFAULT_MAX_BYTES:,})")

    p = sub.add_parser("validate", help="check a snapshot's schema and integrity, nothing else")
    snapshot_arg(p)
    p.set_defaults(func=cmd_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except LoadError as exc:
        for problem in exc.problems:
            print(problem.render(), file=sys.stderr)
        print(f"migcheck: {len(exc.problems)} problem(s)", file=sys.stderr)
        return EXIT_BAD_INPUT
    except UsageError as exc:
        print(f"migcheck: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
