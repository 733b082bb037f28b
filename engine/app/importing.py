"""`migcheck import` and `migcheck collector`: argument parsing and exit codes, nothing more."""

from __future__ import annotations

import json
import sys

from ..core.diagnostics import shown
from ..estate.snapshot import snapshot_from_data
from ..files.document import Limits, LoadError
from ..files.outputs import OutputError, inside, write_output
from ..importer import collector_script, dump_snapshot, import_capture


def cmd_collector(args) -> int:
    sys.stdout.write(collector_script())
    return 0


def cmd_import(args) -> int:
    if args.output and inside(args.output, args.dir):  # before reading anything: never onto an input
        print(f"migcheck: the snapshot `{args.output}` would be written inside the capture folder `{args.dir}`, "
              "which import reads (the next import would read it as a capture); write it elsewhere", file=sys.stderr)
        return 2
    estate = import_capture(args.dir, args.site, Limits(max_bytes=args.max_bytes))
    problems = sorted(set(estate.problems))
    data = estate.snapshot
    try:  # integrity (duplicates, DIO assignments) is checked and located in the capture already
        problems += snapshot_from_data(data, "<imported snapshot>").integrity_report()
    except LoadError as exc:  # the importer wrote something the schema refuses: a bug, said plainly
        problems += exc.problems
    for problem in problems:
        print(problem.render(), file=sys.stderr)
    for note in estate.notes:  # (names from the capture in them: control characters shown as escapes)
        print(f"migcheck: note: {shown(note)}", file=sys.stderr)
    if problems and not args.partial:
        print(f"migcheck: {len(problems)} problem(s) in the capture; no snapshot written "
              "(--partial writes what could be read)", file=sys.stderr)
        return 2
    hosts, guests = len(data["hosts"]), len(data["guests"])
    not_runnable = sum(len(h.get("not_runnable", [])) for h in data["hosts"])
    header = (f"migcheck import: {hosts} VSP(s), {guests} guest(s), {not_runnable} Not Runnable copies"
              + (f"; --partial: {len(problems)} problem(s), see the import's messages" if problems else ""))
    if args.output and args.output.endswith(".json"):
        text = json.dumps(data, indent=2) + "\n"
    else:
        text = dump_snapshot(data, header)
    if args.output:
        try:  # a regular file replaced atomically; a device, a FIFO or a symbolic link's target written
            write_output(args.output, text)
        except OutputError as exc:
            print(f"migcheck: {exc}", file=sys.stderr)
            return 2
    else:
        sys.stdout.write(text)
    print(f"migcheck: imported {hosts} VSP(s) and {guests} guest(s)"
          + (f"; {len(problems)} problem(s) listed above" if problems else ""), file=sys.stderr)
    return 0
