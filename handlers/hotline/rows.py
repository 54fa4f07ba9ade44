"""Turning the spreadsheet's rows into work orders, as pure functions: every field read through the mapping,
times parsed (Tianjin local time), phones normalised, the hotline's category mapped to ours (or guessed from the
content, as the chat does), and every problem reported with its line number. Repeated rows of the same order are
dropped; the same order number with different contents is a problem.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.localtime import LOCAL_TZ
from handlers.hotline.mapping import FIELDS, Mapping
from handlers.hotline.sheet import Sheet
from handlers.tickets.intake import guess_category
from handlers.tickets.rules import find_phone

LIMITS = {"number": 64, "caller_name": 64, "address": 300, "content": 2000, "category": 64, "unit": 128}
EARLIEST = datetime(2000, 1, 1, tzinfo=LOCAL_TZ)


@dataclass(frozen=True)
class Row:
    line: int
    number: str
    received_at: datetime
    caller_name: str | None
    phone: str | None
    address: str
    content: str
    hotline_category: str | None
    category: str
    deadline_at: datetime | None
    unit: str | None


@dataclass
class Parsed:
    rows: list[Row]
    problems: list[str]
    repeated: int = 0  # rows that repeat an earlier row of the same order exactly


def columns(sheet: Sheet, mapping: Mapping) -> tuple[dict[str, int], list[str]]:
    """field → column index, and the problems (required fields without a column, a field given twice)."""
    where = {name.strip(): i for i, name in reversed(list(enumerate(sheet.header)))}
    found, problems = {}, []
    for field_name, names in mapping.columns.items():
        hits = [where[n] for n in names if n in where]
        if hits:
            found[field_name] = hits[0]
    missing = [f"「{mapping.label(f)}」" for f in ("number", "received_at", "address", "content") if f not in found]
    if missing:
        problems.append(f"第 {sheet.header_line} 行（表头）：缺少{'、'.join(missing)}列；"
                        f"表头为：{'、'.join(h for h in sheet.header if h)[:200]}")
    return found, problems


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")


def parse_time(value: Any, mapping: Mapping, *, end_of_day: bool = False) -> datetime | None:
    """A local time from a cell: Excel dates directly, text in one of the mapping's formats. A date alone is
    its start (or, for deadlines, the end of that day). None when it cannot be read."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)
    elif isinstance(value, date):
        moment = datetime.combine(value, time(0), LOCAL_TZ)
        return moment + timedelta(days=1, seconds=-1) if end_of_day else moment
    else:
        text = _text(value)
        moment = None
        for fmt in mapping.time_formats:
            try:
                moment = datetime.strptime(text, fmt).replace(tzinfo=LOCAL_TZ)
            except ValueError:
                continue
            if end_of_day and not any(code in fmt for code in ("%H", "%M")):
                moment += timedelta(days=1, seconds=-1)
            break
        if moment is None:
            return None
    return moment if EARLIEST <= moment <= datetime(2100, 1, 1, tzinfo=LOCAL_TZ) else None


def our_category(hotline: str, content: str, mapping: Mapping) -> str:
    for word, code in mapping.categories:
        if word and word in hotline:
            return code
    guess, _ = guess_category(content)
    return guess or "other"


def parse(sheet: Sheet, mapping: Mapping, now: datetime) -> Parsed:
    index, problems = columns(sheet, mapping)
    if problems:
        return Parsed([], problems)
    out: list[Row] = []
    seen: dict[str, tuple[int, Row]] = {}
    repeated = 0
    latest = now + timedelta(days=1)
    for line, cells in sheet.rows:
        raw = {f: cells[i] if i < len(cells) else None for f, i in index.items()}
        values = {f: _text(v) for f, v in raw.items()}
        wrong = []
        for name in ("number", "address", "content"):
            if not values.get(name):
                wrong.append(f"{mapping.label(name)}为空")
        for name, limit in LIMITS.items():
            if len(values.get(name) or "") > limit:
                wrong.append(f"{mapping.label(name)}超过 {limit} 字")
        received = parse_time(raw.get("received_at"), mapping)
        if received is None:
            wrong.append(f"{mapping.label('received_at')}「{values.get('received_at', '')[:30]}」无法识别")
        elif received > latest:
            wrong.append(f"{mapping.label('received_at')}晚于现在")
        deadline = None
        if values.get("deadline"):
            deadline = parse_time(raw.get("deadline"), mapping, end_of_day=True)
            if deadline is None:
                wrong.append(f"{mapping.label('deadline')}「{values['deadline'][:30]}」无法识别")
        phone = None
        if values.get("phone"):
            phone = find_phone(values["phone"])
            if phone is None:
                wrong.append(f"{mapping.label('phone')}「{values['phone'][:20]}」不是电话号码")
        if wrong:
            problems.append(f"第 {line} 行：" + "；".join(wrong))
            continue
        row = Row(line, values["number"], received, values.get("caller_name") or None, phone, values["address"],
                  values["content"], values.get("category") or None,
                  our_category(values.get("category") or "", values["content"], mapping), deadline,
                  values.get("unit") or None)
        earlier = seen.get(row.number)
        if earlier is not None:
            if _same(earlier[1], row):
                repeated += 1
            else:
                problems.append(f"第 {line} 行：{mapping.label('number')} {row.number} 与第 {earlier[0]} 行重复，"
                                "但内容不同")
            continue
        seen[row.number] = (line, row)
        out.append(row)
    if not out and not problems:
        problems.append("文件里没有工单（表头下面没有数据行）")
    return Parsed(out, problems, repeated)


def _same(a: Row, b: Row) -> bool:
    return {**a.__dict__, "line": 0} == {**b.__dict__, "line": 0}


__all__ = ["FIELDS", "Parsed", "Row", "parse", "parse_time"]
