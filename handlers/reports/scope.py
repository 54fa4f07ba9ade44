"""What a monthly report covers: a district, street or community named by its code, its communities, the month,
and who may open it.

- `find(session, code)`: the node with that code (any level), or None; `of_node(session, level, id)` the same by id.
- `allowed(scope, place)`: a staff member may open the report of a node whose communities all lie inside their
  jurisdiction (community staff: their community; street staff: their street and its communities; …).
- `parse_month("2026-11")` and `previous_month(now)`: months in Tianjin local time (Chinese message when bad).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import BadRequest
from bot.localtime import LOCAL_TZ
from handlers.console.authz import Scope, can_see_community
from handlers.scorecards.periods import Period, _add_months
from storage.models import Community, District, StaffLevel, Street
from storage.repositories.org import communities_under

LEVELS = ("district", "street", "community")
LEVEL_LABELS = {"district": "区县", "street": "街道", "community": "社区"}
MODELS = {"district": District, "street": Street, "community": Community}
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Place:
    """A node of the org tree and its communities (id → name, in the tree's order)."""

    level: str
    id: int
    code: str
    name: str
    communities: dict[int, str]
    street_of: dict[int, int]  # community id → street id

    @property
    def ids(self) -> list[int]:
        return list(self.communities)

    @property
    def label(self) -> str:
        return self.name


async def _communities(session: AsyncSession, level: str, node: int) -> tuple[dict[int, str], dict[int, int]]:
    stmt = communities_under(select(Community.id, Community.name, Community.street_id)
                             .order_by(Community.street_id, Community.id), level, node)
    rows = (await session.execute(stmt)).all()
    return {r[0]: r[1] for r in rows}, {r[0]: r[2] for r in rows}


async def of_node(session: AsyncSession, level: str, node: int) -> Place | None:
    model = MODELS[level]
    row = (await session.execute(select(model.id, model.code, model.name).where(model.id == node))).first()
    if row is None:
        return None
    return Place(level, row[0], row[1], row[2], *await _communities(session, level, row[0]))


async def find(session: AsyncSession, code: str | None) -> Place | None:
    """The district, street or community whose code is `code` (case-insensitive), or None."""
    code = (code or "").strip().upper()
    if not code or len(code) > 32:
        return None
    for level in LEVELS:
        model = MODELS[level]
        found = await session.scalar(select(model.id).where(model.code == code))
        if found is not None:
            return await of_node(session, level, found)
    return None


def allowed(scope: Scope, place: Place) -> bool:
    """Whether `scope` may open the report of `place`: every community of it inside the jurisdiction."""
    if scope.is_admin:
        return True
    return bool(place.communities) and all(can_see_community(scope, c) for c in place.communities)


def home_code_level(scope: Scope) -> tuple[str, int] | None:
    """(level, node id) of the staff member's own node (None for admins)."""
    return {StaffLevel.district: ("district", scope.district_id), StaffLevel.street: ("street", scope.street_id),
            StaffLevel.community: ("community", scope.community_id)}.get(scope.level) if scope.level is not \
        StaffLevel.admin else None


def parse_month(text: str | None) -> Period:
    raw = (text or "").strip()
    found = MONTH.match(raw)
    if not found or not 2000 <= int(found.group(1)) <= 2100 or not 1 <= int(found.group(2)) <= 12:
        raise BadRequest(f"月份「{raw[:20]}」格式有误，应为 2026-11 这样的年-月")
    start = date(int(found.group(1)), int(found.group(2)), 1)
    return Period(start, _add_months(start, 1), "month")


def previous_month(now: datetime) -> Period:
    """The last whole month before `now` (local time)."""
    today = now.astimezone(LOCAL_TZ).date()
    start = _add_months(date(today.year, today.month, 1), -1)
    return Period(start, _add_months(start, 1), "month")
