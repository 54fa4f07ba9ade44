"""Reading the console's notice and meeting forms: scope picker values, local times, tables as CSV text, and the
scope options inside a staff member's jurisdiction. Errors are `NoticeError` with a Chinese message."""
from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.localtime import LOCAL_TZ
from handlers.console.authz import Scope as StaffScope
from handlers.console.authz import visible_communities
from handlers.notices import rules
from handlers.notices.service import NoticeError
from storage.models import Community, District, Estate, StaffLevel, Street

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
    """Grouped (value, label) choices for the scope picker, limited to the jurisdiction."""
    communities = list((await session.execute(
        select(Community).where(Community.id.in_(visible_communities(scope))).order_by(Community.code))).scalars())
    ids = [c.id for c in communities]
    estates = list((await session.execute(select(Estate, Community.name).join(Community, Community.id ==
                                                                              Estate.community_id)
                                          .where(Estate.community_id.in_(ids)).order_by(Estate.code))).all())
    groups = []
    rank = rules.RANK[scope.level]
    if scope.is_admin:
        groups.append(("全市", [("all", "全市所有居民")]))
    if rank >= rules.RANK[StaffLevel.district]:
        query = select(District).order_by(District.code)
        if not scope.is_admin:
            query = query.where(District.id == scope.district_id)
        groups.append(("区", [(f"district:{d.id}", d.name) for d in (await session.execute(query)).scalars()]))
    if rank >= rules.RANK[StaffLevel.street]:
        query = select(Street).order_by(Street.code)
        if scope.level is StaffLevel.street:
            query = query.where(Street.id == scope.street_id)
        elif scope.level is StaffLevel.district:
            query = query.where(Street.district_id == scope.district_id)
        groups.append(("街道", [(f"street:{s.id}", s.name) for s in (await session.execute(query)).scalars()]))
    groups.append(("社区", [(f"community:{c.id}", c.name) for c in communities]))
    groups.append(("小区", [(f"estate:{e.id}", f"{name} · {e.name}") for e, name in estates]))
    return [(label, options) for label, options in groups if options]
