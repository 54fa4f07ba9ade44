"""The hotline's part of a resident's erasure: a 12345 order whose ticket belongs to the resident keeps its numbers
(order number, dates, category, unit, the place it was filed in) and loses the caller's name, phone and words; the
address keeps its street and estate but not the room (`handlers.privacy.redact`).

It runs before the tickets' step (features erase in name order), while the orders can still be found through
their tickets.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.privacy.redact import redact
from storage.hotline_models import HotlineOrder
from storage.models import Resident
from storage.ticket_models import Ticket

ERASED_CONTENT = "（居民已删除个人信息，工单内容已清除）"


async def erase_resident(session: AsyncSession, resident: Resident, now: datetime) -> None:
    theirs = select(Ticket.id).where(or_(Ticket.resident_id == resident.id, Ticket.resident_ref == resident.ref))
    for order in await session.scalars(select(HotlineOrder).where(HotlineOrder.ticket_id.in_(theirs))):
        order.caller_name = order.phone = order.phone_masked = None
        order.content = ERASED_CONTENT
        order.address = redact(order.address)
