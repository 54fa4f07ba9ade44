"""The customer-service window, fed by the dispatcher: a resident's own message opens 48 hours / 5 messages.

Events (menu clicks, follow, scan) open only a one-minute window of 3 messages in WeChat, too short for a
broadcast, so they are not recorded here.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.types import InboundMessage
from storage.models import Resident
from storage.repositories import deliveries


def opens_window(message: InboundMessage) -> bool:
    return message.kind != "event"


async def note_inbound(session: AsyncSession, resident: Resident, message: InboundMessage, now: datetime) -> None:
    if not opens_window(message) or resident.id is None:
        return
    await deliveries.open_window(session, resident.id, now)
