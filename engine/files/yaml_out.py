"""A snapshot's data to YAML text that migcheck's YAML 1.2 loader reads back to the same data.

PyYAML writes YAML 1.1. Its resolver would quote `on` and `off` (booleans in 1.1, words in
1.2) and leave plain a string such as `0o17` that YAML 1.2 reads as a number; here the
quoting follows the 1.2 core schema migcheck reads with. Small mappings and lists of
scalars (`memory_mb`, `vswitches`, a storage entry) are written on one line.
"""

from __future__ import annotations

import yaml

from .document import _resolve_plain


class _Dumper(yaml.SafeDumper):
    pass


# YAML 1.1's yes/no/on/off booleans are plain words in YAML 1.2
_Dumper.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeDumper.yaml_implicit_resolvers.items()
}


def _str(dumper: yaml.SafeDumper, value: str):
    plain = _resolve_plain(value) if value else None
    style = '"' if not isinstance(plain, str) or plain != value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _is_scalar(value) -> bool:
    return not isinstance(value, (dict, list))


def _dict(dumper: yaml.SafeDumper, value: dict):
    flow = all(_is_scalar(v) for v in value.values())
    return dumper.represent_mapping("tag:yaml.org,2002:map", value.items(), flow_style=flow)


def _list(dumper: yaml.SafeDumper, value: list):
    flow = all(_is_scalar(v) for v in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(dict, _dict)
_Dumper.add_representer(list, _list)


def dump_snapshot(data: dict, header: str = "") -> str:
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    lines = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return lines + text
