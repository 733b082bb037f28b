"""JSON report: the contract of DESIGN.md, one object, keys in a fixed order."""

from __future__ import annotations

import json


def render_json(report) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"
