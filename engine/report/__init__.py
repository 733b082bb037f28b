"""Reports: pure functions from a `Report` (results and their context) to text.

One module per format; `render(report, fmt)` picks it. Every format sorts results the
same way, so two runs on the same input give identical bytes. The JSON report carries
`format` (REPORT_FORMAT) and is described by schemas/report.schema.json.
"""

from __future__ import annotations

from .formats import FORMATS, render  # noqa: F401  (the package's surface)
from .model import REPORT_FORMAT, REPOSITORY_URL, Report  # noqa: F401
