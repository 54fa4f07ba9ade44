"""Whether a staff member may see, retry or send a broadcast: the jurisdiction rules of the outbox.

A broadcast keeps the communities it was created for (`Broadcast.reach`, fixed at creation by
`bot.delivery.outbox.reach_of`). Staff see and retry it only when every one of those communities is theirs; the
whole city, and a broadcast that reached no community (its residents unbound or erased), are an admin's. Sending
to named residents requires each to exist, be bound, and live inside the sender's jurisdiction.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Forbidden
from handlers.console.authz import Scope as StaffScope
from handlers.console.authz import can_see_community
from storage.delivery_models import Broadcast
from storage.models import Resident


def may_reach(staff: StaffScope, communities: list[int] | set[int] | None) -> bool:
    """Every community is the staff member's; None (the whole city) and an empty reach are for admins."""
    if staff.is_admin:
        return True
    if not communities:
        return False
    return all(can_see_community(staff, cid) for cid in communities)


def may_see(staff: StaffScope, broadcast: Broadcast) -> bool:
    return may_reach(staff, broadcast.reach)


async def check_residents(session: AsyncSession, staff: StaffScope, resident_ids: list[int]) -> None:
    """Forbidden unless every named resident exists, is bound, and lies inside the staff member's jurisdiction."""
    if not resident_ids:
        return
    rows = dict((await session.execute(select(Resident.id, Resident.community_id)
                                       .where(Resident.id.in_(resident_ids)))).all())
    refused = [i for i in resident_ids if rows.get(i) is None or not can_see_community(staff, rows[i])]
    if refused:
        raise Forbidden(f"以下居民不存在、未绑定或不在您的辖区内，不能向其发送：{'、'.join(map(str, refused[:20]))}")
