"""Reading the hotline's spreadsheet: an .xlsx workbook (its first sheet) or a .csv file (UTF-8, with or without
BOM, or GB18030 as Chinese Excel saves it), into the header row and the data rows with their line numbers. A file
that cannot be read is a `SheetError` with a Chinese message — never a crash: a corrupt or disguised workbook, an
encrypted one, a file without a header row, or too many rows.
"""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from typing import Any

MAX_ROWS = 20_000
MAX_COLUMNS = 100


class SheetError(ValueError):
    """The file cannot be read as a spreadsheet; the message is Chinese."""


@dataclass(frozen=True)
class Sheet:
    header: list[str]
    rows: list[tuple[int, list[Any]]]  # (line number as a person counts it, cell values)
    header_line: int = 1


def kind_of(filename: str) -> str | None:
    name = (filename or "").lower()
    return "xlsx" if name.endswith(".xlsx") else "csv" if name.endswith(".csv") else None


def _cells(values) -> list[Any]:
    out = [v.strip() if isinstance(v, str) else v for v in list(values)[:MAX_COLUMNS]]
    while out and out[-1] in (None, ""):
        out.pop()
    return out


def _sheet(lines) -> Sheet:
    header, header_line, rows = None, 0, []
    for number, values in lines:
        cells = _cells(values)
        if not cells:
            continue
        if header is None:
            header, header_line = [str(c).strip() if c is not None else "" for c in cells], number
            continue
        rows.append((number, cells))
        if len(rows) > MAX_ROWS:
            raise SheetError(f"工单超过 {MAX_ROWS} 行，请分成几个文件导入")
    if header is None:
        raise SheetError("文件是空的：没有找到表头行")
    return Sheet(header, rows, header_line)


def _xlsx(data: bytes) -> Sheet:
    from openpyxl import load_workbook

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise SheetError("不是有效的 Excel（.xlsx）文件；旧版 .xls 请在 Excel 中另存为 .xlsx 或 .csv")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        ws = book.worksheets[0]
        return _sheet((n, row) for n, row in enumerate(ws.iter_rows(values_only=True), 1))
    except SheetError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on damaged files
        raise SheetError(f"无法读取 Excel 文件：{type(exc).__name__}，请确认文件没有损坏、没有加密") from None


def _csv(data: bytes) -> Sheet:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SheetError("无法识别 CSV 文件的编码（应为 UTF-8 或 GBK）")
    if "\x00" in text:
        raise SheetError("CSV 文件中有无法识别的字符（是否把其他格式的文件改成了 .csv？）")
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        return _sheet((reader.line_num, row) for row in reader)
    except csv.Error as exc:
        raise SheetError(f"CSV 格式有误：{exc}") from None


def read(data: bytes, filename: str) -> Sheet:
    kind = kind_of(filename)
    if kind is None:
        raise SheetError("请上传 12345 平台导出的 .xlsx 或 .csv 文件")
    if not data:
        raise SheetError("文件是空的")
    return _xlsx(data) if kind == "xlsx" else _csv(data)
