"""A snapshot's data to YAML text that migcheck's YAML 1.2 loader reads back to the same data.

PyYAML writes YAML 1.1, where a plain `0o17` or `1_000` differs from YAML 1.2; every string
the 1.2 core schema would read as something else is written in double quotes.
"""

from __future__ import annotations

import yaml

from ..document import _resolve_plain


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str):
    style = None
    if not value or _resolve_plain(value) != value or not isinstance(_resolve_plain(value), str):
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_snapshot(data: dict, header: str = "") -> str:
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100)
    lines = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return lines + text
