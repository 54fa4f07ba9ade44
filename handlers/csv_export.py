"""The one CSV writer of every export (tickets figures, survey results and responses, scorecards): UTF-8 with a
BOM so Excel opens the Chinese columns, CRLF line ends, and cells that a spreadsheet would run as a formula
neutralised.

A cell whose text starts with `=`, `+`, `-`, `@`, a tab, a carriage return or a line feed is prefixed with `'`
(OWASP's advice against CSV/formula injection): `=HYPERLINK("http://evil","点此")` typed into a survey comment is
exported as the text `'=HYPERLINK(...)`. Numbers stay numbers: ints and floats are written as they are, and so are
strings that are a plain number (`-3.5`, `+2`, `12.5%`), which no spreadsheet runs as anything else.
"""
from __future__ import annotations

import csv
import io
import re
from typing import Iterable, Sequence

from aiohttp import web

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?%?")


def neutralise(value) -> str | int | float:
    """The cell as written: None → "", numbers unchanged, formula-like text prefixed with a quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def to_csv(rows: Iterable[Sequence]) -> str:
    """`rows` as CSV text: BOM first, CRLF line ends, every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return BOM + out.getvalue()


def without_bom(text: str) -> str:
    """For the command line, which prints the CSV rather than saving it for Excel."""
    return text[len(BOM):] if text.startswith(BOM) else text


def csv_response(text: str, filename: str) -> web.Response:
    """A download of `text` (made by `to_csv`) named `filename`."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename) or "export.csv"
    return web.Response(body=text.encode("utf-8"), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{safe}"'})


__all__ = ["BOM", "neutralise", "to_csv", "without_bom", "csv_response"]
