"""Pickers for console forms, so staff choose from names instead of typing internal codes: the jurisdiction
scope picker (区 / 街道 / 社区 / 小区 inside the caller's jurisdiction; notices, 群发, surveys use it), and
reading its values back.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.console.authz import RANK, visible_communities
from handlers.console.authz import Scope as StaffScope
from storage.models import Community, District, Estate, StaffLevel, Street

LEVELS = ("estate", "community", "street", "district", "all")


def parse_scope(values: list[str]) -> tuple[str, list[int]] | None:
    """["community:3", "community:4"] → ("community", [3, 4]); ["all"] → ("all", []); None when the values are
    empty, mix levels or are not the picker's."""
    values = [v.strip() for v in values if v and v.strip()]
    if not values:
        return None
    if values == ["all"]:
        return "all", []
    levels, ids = set(), []
    for value in values:
        level, _, raw = value.partition(":")
        if level not in LEVELS or level == "all" or not raw.isdigit() or len(raw) > 9:
            return None
        levels.add(level)
        ids.append(int(raw))
    if len(levels) != 1:
        return None
    return levels.pop(), sorted(set(ids))


async def scope_options(session: AsyncSession, scope: StaffScope) -> list[tuple[str, list[tuple[str, str]]]]:
    """Grouped (value, label) choices for the scope picker, limited to the jurisdiction."""
    communities = list((await session.execute(
        select(Community).where(Community.id.in_(visible_communities(scope))).order_by(Community.code))).scalars())
    ids = [c.id for c in communities]
    estates = list((await session.execute(select(Estate, Community.name).join(Community, Community.id ==
                                                                              Estate.community_id)
                                          .where(Estate.community_id.in_(ids)).order_by(Estate.code))).all())
    groups = []
    rank = RANK[scope.level]
    if scope.is_admin:
        groups.append(("全市", [("all", "全市所有居民")]))
    if rank >= RANK[StaffLevel.district]:
        query = select(District).order_by(District.code)
        if not scope.is_admin:
            query = query.where(District.id == scope.district_id)
        groups.append(("区", [(f"district:{d.id}", d.name) for d in (await session.execute(query)).scalars()]))
    if rank >= RANK[StaffLevel.street]:
        query = select(Street).order_by(Street.code)
        if scope.level is StaffLevel.street:
            query = query.where(Street.id == scope.street_id)
        elif scope.level is StaffLevel.district:
            query = query.where(Street.district_id == scope.district_id)
        groups.append(("街道", [(f"street:{s.id}", s.name) for s in (await session.execute(query)).scalars()]))
    groups.append(("社区", [(f"community:{c.id}", c.name) for c in communities]))
    groups.append(("小区", [(f"estate:{e.id}", f"{name} · {e.name}") for e, name in estates]))
    return [(label, options) for label, options in groups if options]


async def codes_for(session: AsyncSession, level: str, ids: list[int]) -> list[str]:
    """The codes of the picked nodes (for services that take codes, such as surveys), in the picker's order."""
    model = {"district": District, "street": Street, "community": Community, "estate": Estate}.get(level)
    if model is None or not ids:
        return []
    rows = await session.execute(select(model.id, model.code).where(model.id.in_(ids)))
    found = dict(rows.all())
    return [found[i] for i in ids if i in found]
