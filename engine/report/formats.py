"""The one registry of report formats: a name, the module that writes it, and how.

Every format renders a whole `Report` to text (`render`); a matrix streams instead, to a writer
per format (`report.stream`): the machine formats have a writer of their own that takes results as
they come, the documents for people (table, Markdown, HTML) are made at the end from the run's
`Digest`. A format's module is imported when the format is first used, so a run pays only for
the formats it writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib import import_module

from ..core.records import record


@record(frozen=True)
class Format:
    name: str
    module: str  # under migcheck.report
    render: str  # its function Report -> text
    matrix: str | None = None  # its streaming writer class for a matrix (None: made from the digest)
    spools: bool = False  # the writer takes a spool directory (JSON, JUnit: parts beside the output)
    iter_pieces: str | None = None  # a function Report -> pieces of text, written as they come (HTML)
    color: bool = False  # the renderer takes `color=` (the terminal table)
    width: bool = False  # the renderer takes `width=` (the terminal table: the terminal's columns, None in pipes)

    def _function(self, name: str):
        return getattr(import_module(f"{__package__}.{self.module}"), name)

    def renderer(self) -> Callable[..., str]:
        return self._function(self.render)

    def matrix_writer(self):
        return self._function(self.matrix) if self.matrix else None

    def pieces(self, report, color: bool = False, width: int | None = None) -> Iterator[str]:
        """The document in pieces (one piece unless the format writes them as it goes)."""
        if self.iter_pieces:
            yield from self._function(self.iter_pieces)(report)
        else:
            yield self.text(report, color, width)

    def text(self, report, color: bool = False, width: int | None = None) -> str:
        """The whole document; `color` and `width` reach only the formats that take them."""
        options = {}
        if self.color:
            options["color"] = color
        if self.width:
            options["width"] = width
        return self.renderer()(report, **options)


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("table", "table", "render_table", color=True, width=True),
    Format("json", "json_report", "render_json", "JsonWriter", spools=True),
    Format("jsonl", "json_report", "render_jsonl", "JsonLinesWriter"),
    Format("csv", "csv_report", "render_csv", "CsvWriter"),
    Format("csv-cells", "csv_report", "render_csv_cells", "CsvCellsWriter"),
    Format("markdown", "markdown", "render_markdown"),
    Format("html", "html", "render_html", iter_pieces="iter_html"),
    Format("sarif", "sarif", "render_sarif", "SarifWriter"),
    Format("junit", "junit", "render_junit", "JunitMatrixWriter", spools=True),
    Format("github", "github", "render_github", "GithubWriter"),
    Format("gitlab", "gitlab", "render_gitlab", "GitlabWriter"),
)}


def render(report, fmt: str, color: bool = False, width: int | None = None) -> str:
    """The whole report as `fmt` text (`color` and `width`: for the formats that take them)."""
    found = FORMATS.get(fmt)
    if found is None:
        raise ValueError(f"unknown format {fmt}")
    return found.text(report, color, width)
