"""The spine's part of a resident's erasure, run last by `handlers.privacy.erasure`: the resident row (binding,
room, role, openid, ref), their dialog and their processed-message rows. Rows that cascade with the resident
(drafts, mutes, customer-service windows) go with it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Resident
from storage.repositories import residents


async def erase_resident(session: AsyncSession, resident: Resident, now: datetime) -> None:
    await residents.erase(session, resident.openid)
