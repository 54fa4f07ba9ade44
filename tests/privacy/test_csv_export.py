"""The one CSV writer: BOM, CRLF, and formula-like cells neutralised, table-driven."""
from __future__ import annotations

import csv
import io

import pytest

from handlers.csv_export import BOM, csv_response, neutralise, to_csv, without_bom

CELLS = [
    ('=HYPERLINK("http://evil.example","点此")', '\'=HYPERLINK("http://evil.example","点此")'),
    ("=1+1", "'=1+1"),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("\n=1+1", "'\n=1+1"),
    ("门禁常坏", "门禁常坏"),
    ("a=b", "a=b"),
    (" =1", " =1"),
    ("-3.5", "-3.5"),
    ("+2", "+2"),
    ("-12.5%", "-12.5%"),
    ("-", "'-"),
    ("", ""),
    (None, ""),
    (-3, -3),
    (2.5, 2.5),
    (0, 0),
    (True, "True"),
]


@pytest.mark.parametrize("value, written", CELLS)
def test_cells(value, written):
    assert neutralise(value) == written


def test_whole_file():
    text = to_csv([["题目", "回答"], ["意见", "=HYPERLINK(\"http://x\",\"y\")"], ["较上期", -1.5]])
    assert text.startswith(BOM) and "\r\n" in text
    rows = list(csv.reader(io.StringIO(without_bom(text))))
    assert rows == [["题目", "回答"], ["意见", "'=HYPERLINK(\"http://x\",\"y\")"], ["较上期", "-1.5"]]


def test_response_is_a_download():
    response = csv_response(to_csv([["a"]]), "survey-1-responses.csv")
    assert response.content_type == "text/csv" and response.charset == "utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="survey-1-responses.csv"'
    assert response.body.startswith(BOM.encode("utf-8"))
    odd = csv_response("x", 'a"b\r\n.csv')
    assert '"' not in odd.headers["Content-Disposition"][22:-1] and "\r" not in odd.headers["Content-Disposition"]
