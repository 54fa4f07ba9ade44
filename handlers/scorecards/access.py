"""Who sees which scorecard, shared by the console pages, the JSON API and the dashboard panel.

A scorecard is always computed *inside a jurisdiction*: only the estates of the caller's communities count
(street staff: their street's estates; district staff: their district's; community staff: their community's;
admins: everything). `?area=street:ID` / `community:ID` / `district:ID` narrows it further — e.g. a district
official ranking the companies of one street — and must lie inside the jurisdiction (403 otherwise). A company
or developer with nothing in view answers 404, so ids tell nothing.

Also here: reading `kind` and `period` from a request (400 with a Chinese message when wrong), the label of the
area ("友谊路街道"), the choices for the area selector, and the levels allowed to publish and to set rules.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.console.authz import Scope, at_least, can_see_community, visible_communities
from handlers.scorecards import periods
from handlers.scorecards.config import KINDS
from storage.models import Community, District, StaffLevel, Street
from storage.repositories.org import communities_under

PUBLISH_LEVEL = StaffLevel.street  # 街道 and above assess and publish (the property-management authorities)
RULES_LEVEL = StaffLevel.street
AREA_MODELS = {"district": District, "street": Street, "community": Community}


class BadRequest(ValueError):
    """A query parameter that cannot be used; the message is Chinese."""


@dataclass(frozen=True)
class Area:
    key: str  # "" (the whole jurisdiction) or "street:3"
    label: str
    communities: object  # a SELECT of community ids, a list of ids, or None (everything)


def kind_of(raw: str | None) -> str:
    kind = (raw or "property").strip()
    if kind not in KINDS:
        raise BadRequest("kind 应为 property（物业服务企业）或 developer（开发建设单位）")
    return kind


def period_of(raw: str | None, now) -> periods.Period:
    if not (raw or "").strip():
        return periods.containing(now, "quarter")
    try:
        return periods.parse(raw)
    except periods.PeriodError as exc:
        raise BadRequest(str(exc)) from None


async def _node_label(session: AsyncSession, scope: Scope) -> str:
    if scope.level is StaffLevel.admin:
        return "全部辖区"
    model, node = {StaffLevel.district: (District, scope.district_id), StaffLevel.street: (Street, scope.street_id),
                   StaffLevel.community: (Community, scope.community_id)}[scope.level]
    name = await session.scalar(select(model.name).where(model.id == node)) if node else None
    return name or "本辖区"


async def area_of(session: AsyncSession, scope: Scope, raw: str | None) -> Area:
    """The area named by `?area=` inside the jurisdiction (PermissionError outside it, BadRequest if unreadable)."""
    raw = (raw or "").strip()
    if not raw:
        return Area("", await _node_label(session, scope), None if scope.is_admin else visible_communities(scope))
    level, _, number = raw.partition(":")
    if level not in AREA_MODELS or not number.isdigit():
        raise BadRequest("area 应写成 street:编号、community:编号 或 district:编号")
    node = int(number)
    model = AREA_MODELS[level]
    name = await session.scalar(select(model.name).where(model.id == node))
    if name is None:
        raise PermissionError(raw)
    ids = list(await session.scalars(communities_under(select(Community.id), level, node)))
    if not ids or not all(can_see_community(scope, c) for c in ids):
        raise PermissionError(raw)
    return Area(f"{level}:{node}", name, ids)


async def area_choices(session: AsyncSession, scope: Scope) -> list[tuple[str, str]]:
    """(area key, label) of the districts (admins), streets and communities inside the jurisdiction."""
    out: list[tuple[str, str]] = [("", await _node_label(session, scope))]
    visible = visible_communities(scope)
    if scope.level is StaffLevel.admin:
        out += [(f"district:{i}", n) for i, n in (await session.execute(
            select(District.id, District.name).order_by(District.id))).all()]
    if scope.level in (StaffLevel.admin, StaffLevel.district):
        rows = await session.execute(select(Street.id, Street.name).where(
            Street.id.in_(select(Community.street_id).where(Community.id.in_(visible)))).order_by(Street.id))
        out += [(f"street:{i}", f"　{n}") for i, n in rows.all()]
    if scope.level is not StaffLevel.community:
        rows = await session.execute(select(Community.id, Community.name).where(Community.id.in_(visible))
                                     .order_by(Community.street_id, Community.id))
        out += [(f"community:{i}", f"　　{n}") for i, n in rows.all()]
    return out


def may_publish(level: StaffLevel) -> bool:
    return at_least(level, PUBLISH_LEVEL)

