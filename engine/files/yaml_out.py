"""The one YAML writer: data to YAML 1.2 text that YAML 1.1 readers read back the same.

`dump_yaml(data, header)` writes `import`'s snapshot, `plan --emit-snapshot`'s estate after
a plan, `place --output`'s proposal and the text `place` checks its own proposal from.
Input: dicts, lists, str, int, float, bool and None (what the reader gives). Output: text
that migcheck's YAML 1.2 reader (`document.parse_text`) and a YAML 1.1 reader (PyYAML's
`safe_load`) both read back to the same values.

- A string is written plain only when no reader could take it for something else: it is
  double-quoted when it would resolve to a non-string under the YAML 1.2 core schema
  (`1e3`, `0o17`, `.inf`, `null`, `true`) or under YAML 1.1 (`on`, `off`, `yes`, `no`,
  `y`, `n`, `~`, `0x1F`, `1_000`, `12:30:00`, `2026-12-05`, `=`, `<<`), keys too, and
  when it is empty.
- A string holding a line break, a tab, a control character, a byte-order mark or
  another character a reader might not keep as it is (NEL, LINE and PARAGRAPH
  SEPARATOR: line breaks in YAML 1.1, not in 1.2) is double-quoted, those characters
  escaped. Other non-ASCII characters are written as they are (the files are UTF-8).
- Any other string PyYAML's emitter cannot write plain (`a: b`, `x #y`, leading or
  trailing spaces, a leading indicator) it single-quotes; long strings are folded at 100
  columns in a way both readers unfold.
- No tags, no anchors or aliases (an object met twice is written twice, so a reader's
  alias bound is never reached), keys in the order given: the same data gives the same
  bytes.
- Small mappings and lists of scalars (`memory_mb`, `vswitches`, a storage entry, a
  plan's migration) are written on one line.
"""

from __future__ import annotations

import re

import yaml

from .document import _BigInt, _resolve_plain

_STR = "tag:yaml.org,2002:str"
_YAML11 = yaml.resolver.Resolver()  # the implicit resolvers of PyYAML's safe_load (YAML 1.1)
_YAML11_WORDS = frozenset({"y", "Y", "n", "N"})  # YAML 1.1 booleans that PyYAML leaves strings
# what may stand as it is in a scalar: printable, no tab, no line break of YAML 1.1 or 1.2, no BOM
_AS_IS = re.compile("[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]*")


def _resolves_to_other(value: str) -> bool:
    """Would a reader take this string, written plain, for a non-string (or another string)?"""
    if not value or value in _YAML11_WORDS:
        return True
    try:
        if _resolve_plain(value) is not value:  # YAML 1.2 core schema, as migcheck reads
            return True
    except _BigInt:
        return True
    return _YAML11.resolve(yaml.ScalarNode, value, (True, False)) != _STR


def needs_quotes(value: str) -> bool:
    """A string that must be double-quoted (see the module docstring)."""
    return _resolves_to_other(value) or not _AS_IS.fullmatch(value)


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str):
    return dumper.represent_scalar(_STR, value, style='"' if needs_quotes(value) else None)


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


def dump_yaml(data, header: str = "") -> str:
    """`data` as YAML text (see the module docstring), after `header` as `#` comment lines."""
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    lines = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return lines + text
