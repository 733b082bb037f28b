"""Where a host or guest of a JSON snapshot starts, without reading every position of the file.

`check` of one guest needs the line of that guest only; computing the position of every
value of a 10,000-guest file costs more than the check. For a snapshot that is JSON text,
`locate(text, ("guests", i))` skips from the start of the `guests` array to its item `i`
with the json module's own decoder (each skipped item decoded in C) and gives the line and
column of the item's opening brace, as the loader's positions do. The item offsets of a
section are kept, so locating every guest of a matrix is one pass.

Anything unexpected (not a JSON object at the top, no such section or item) gives None:
the caller then uses the document's full positions.
"""

from __future__ import annotations

import json

_WS = " \t\n\r"
_DECODER = json.JSONDecoder()


class JsonLocator:
    def __init__(self, text: str):
        self.text = text
        self.sections: dict[str, tuple[list[int], bool] | None] = {}  # offsets of items, all of them?
        self._last = (0, 1)  # (offset, line) of the last position asked: lines are counted onward

    def locate(self, path: tuple) -> tuple[int, int] | None:
        """Line and column of `(section, index)` at the top of a JSON object, or None."""
        if len(path) != 2 or not isinstance(path[0], str) or type(path[1]) is not int or path[1] < 0:
            return None
        section, index = path
        found = self.sections.get(section)
        if found is None:
            found = self.sections[section] = self._items(section, index)
        if found is not None and index >= len(found[0]) and not found[1]:
            found = self.sections[section] = self._items(section, None)
        if found is None or index >= len(found[0]):
            return None
        return self._line_col(found[0][index])

    def _items(self, section: str, upto: int | None) -> tuple[list[int], bool] | None:
        """Offsets of the items of the top-level array `section`, at least up to item `upto` (None: all)."""
        text = self.text
        try:
            i = _skip(text, 0)
            if text[i] != "{":
                return None
            i = _skip(text, i + 1)
            while text[i] != "}":
                key, i = _DECODER.raw_decode(text, i)
                i = _skip(text, i)
                if text[i] != ":":
                    return None
                i = _skip(text, i + 1)
                if key == section:
                    return self._array(i, upto)
                _, i = _DECODER.raw_decode(text, i)
                i = _skip(text, i)
                if text[i] == ",":
                    i = _skip(text, i + 1)
            return None
        except (ValueError, IndexError, RecursionError):
            return None

    def _array(self, i: int, upto: int | None) -> tuple[list[int], bool] | None:
        text = self.text
        if text[i] != "[":
            return None
        offsets: list[int] = []
        i = _skip(text, i + 1)
        while text[i] != "]":
            offsets.append(i)
            if upto is not None and len(offsets) > upto + 1024:  # enough for this one and the next few
                return offsets, False
            _, i = _DECODER.raw_decode(text, i)
            i = _skip(text, i)
            if text[i] == ",":
                i = _skip(text, i + 1)
        return offsets, True

    def _line_col(self, offset: int) -> tuple[int, int]:
        text = self.text
        last_offset, last_line = self._last
        if offset < last_offset:
            last_offset, last_line = 0, 1
        line = last_line + text.count("\n", last_offset, offset)
        self._last = (offset, line)
        return line, offset - text.rfind("\n", 0, offset)


def _skip(text: str, i: int) -> int:
    while text[i] in _WS:
        i += 1
    return i


def is_json(text: str) -> bool:
    return text.lstrip(_WS)[:1] == "{"
