"""Which communities a broadcast reaches, and whether a staff member may see or send it (jurisdiction rules)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.console.authz import Scope as StaffScope
from handlers.console.authz import can_see_community
from storage.models import Community, Estate, Resident, Street


async def communities_of(session: AsyncSession, scope: dict) -> set[int] | None:
    """The community ids a broadcast scope covers; None for the whole city (level `all` without residents)."""
    level, ids, residents = scope.get("level", "all"), list(scope.get("ids") or []), list(scope.get("residents") or [])
    if residents:
        rows = await session.scalars(select(Resident.community_id).where(Resident.id.in_(residents)).distinct())
        return {cid for cid in rows if cid is not None}
    query = {
        "district": select(Community.id).join(Street, Street.id == Community.street_id).where(
            Street.district_id.in_(ids)),
        "street": select(Community.id).where(Community.street_id.in_(ids)),
        "community": select(Community.id).where(Community.id.in_(ids)),
        "estate": select(Estate.community_id).where(Estate.id.in_(ids)),
    }.get(level)
    if query is None:
        return None
    return set(await session.scalars(query))


def may_reach(staff: StaffScope, communities: set[int] | None) -> bool:
    """A staff member may see or send a broadcast only when every community it reaches is theirs; the whole
    city is for admins."""
    if staff.is_admin:
        return True
    if communities is None:
        return False
    return all(can_see_community(staff, cid) for cid in communities)
