"""The owners' part of a resident's erasure: their links to roster owners (verification, proxy) go; their ballots
keep counting with the anonymous facts the tally needs (motion, room, choice, channel, times), under a fresh
random ref, without the resident id. The roster itself is the property company's register of the estate, not
the resident's data, and stays. Evidence photos sent for staff verification are discarded at once (nothing of
the resident left on the row) and the sweep deletes each stored object and then the row.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Resident, new_ref
from storage.repositories import owners as repo


async def erase_resident(session: AsyncSession, resident: Resident, now: datetime) -> None:
    await repo.anonymise_ballots(session, resident, new_ref())
    await repo.discard_evidence(session, resident_id=resident.id)
    await repo.delete_links(session, resident.id)
