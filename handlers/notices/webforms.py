"""Reading the console's notice and meeting forms: scope picker values, local times, tables as CSV text, and the
scope options inside a staff member's jurisdiction. Errors are `NoticeError` with a Chinese message."""
from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.localtime import LOCAL_TZ
from handlers.console import pickers
from handlers.console.authz import Scope as StaffScope
from handlers.notices import rules
from handlers.notices.service import NoticeError

MAX_TABLES = 10


def parse_scope(values: list[str]) -> tuple[str, list[int]]:
    """["community:3", "community:4"] → ("community", [3, 4]); "all" alone → ("all", [])."""
    values = [v.strip() for v in values if v and v.strip()]
    if not values:
        raise NoticeError("请选择公示范围")
    if values == ["all"]:
        return "all", []
    levels, ids = set(), []
    for value in values:
        level, _, raw = value.partition(":")
        if level not in rules.SCOPE_LEVELS or level == "all" or not raw.isdigit():
            raise NoticeError("公示范围有误")
        levels.add(level)
        ids.append(int(raw))
    if len(levels) != 1:
        raise NoticeError("所选范围须为同一级别（例如都选小区，或都选社区）")
    return levels.pop(), sorted(set(ids))


def scope_values(level: str, ids: list[int]) -> list[str]:
    return ["all"] if level == "all" else [f"{level}:{i}" for i in ids]


def parse_local_time(raw: str) -> datetime | None:
    """A datetime-local value ("2026-11-21T08:00"), read as Beijing time; None when empty."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise NoticeError("发布时间格式应为 2026-11-21 08:00") from None
    return value.replace(tzinfo=LOCAL_TZ) if value.tzinfo is None else value


def local_input(value: datetime | None) -> str:
    return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M") if value else ""


def table_csv(table: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.get("columns") or [])
    writer.writerows(table.get("rows") or [])
    return out.getvalue()


def table_values(tables: list[dict]) -> list[dict]:
    """A version's tables as the form's fields (title, CSV), plus an empty one to add."""
    return [{"title": t.get("title", ""), "csv": table_csv(t)} for t in tables] + [{}]


def tables_from_form(data) -> list[dict]:
    """Tables from fields table_title_N / table_csv_N (N = 0…); an empty CSV drops that table."""
    tables = []
    for n in range(MAX_TABLES + 1):
        text = str(data.get(f"table_csv_{n}", "") or "")
        if not text.strip():
            continue
        try:
            table = rules.table_from_csv(text, str(data.get(f"table_title_{n}", "") or "").strip())
        except rules.TableError as exc:
            raise NoticeError(f"第{n + 1}个表格：" + "；".join(exc.problems)) from None
        tables.append(table.as_json())
    if len(tables) > MAX_TABLES:
        raise NoticeError(f"最多 {MAX_TABLES} 个表格")
    return tables


async def scope_options(session: AsyncSession, scope: StaffScope) -> list[tuple[str, list[tuple[str, str]]]]:
    """Grouped (value, label) choices for the scope picker (handlers/console/pickers.py)."""
    return await pickers.scope_options(session, scope)
