"""Importing an estate: HP command output captured on each VSP to a migcheck snapshot.

`collector_script()` is the POSIX sh script that captures one VSP (`migcheck collector`);
`import_capture(DIR)` reads the folders it fills into an `Estate` (snapshot data, located
problems, notes); `dump_snapshot(data)` (the one YAML writer, `files.yaml_out.dump_yaml`)
writes it as YAML that migcheck's YAML 1.2 loader and YAML 1.1 readers read back
unchanged. One parser module per captured format: `summary` (hpvmstatus), `details` (-P),
`devices` (-P -d), `available` (-s), `hpvmnet`, `machinfo`, `swlist`, `hpvminfo`, `devmgmt`
(hpvmdevmgmt -l gdev/rdev), `mounts` (mount -p), and `supplement` (dio.yaml); `layout` says
which file holds what and what may be opened, `guests` makes one guest of its captures.
docs/import.md documents the capture layout.
"""

from __future__ import annotations

from importlib import resources

from .capture import Estate, import_capture
from ..files.yaml_out import dump_yaml as dump_snapshot  # the one YAML writer, under the importer's name

__all__ = ["Estate", "collector_script", "dump_snapshot", "import_capture"]


def collector_script() -> str:
    """The collector, as shipped in the package (`collector.sh`)."""
    return resources.files(__package__).joinpath("collector.sh").read_text(encoding="utf-8")
