"""The tickets' part of a resident's erasure (run by `handlers.privacy.erasure`).

A complaint outlives its resident as a figure (category, place, deadlines, levels, rating) but nothing of the
person stays: a fresh random `resident_ref` (their tickets can no longer be linked to each other or to their
votes), no resident id, no description, photos, location, phone or rating words; the resident's own timeline
entries are emptied and the staff's are redacted (`handlers.privacy.redact`); mediation parties and agreement
are removed. The ticket is marked `resident_erased_at` with an internal timeline entry, so staff see that nobody
can be reached or told of progress any more; a pending 「请居民补充」 pause ends (nobody will answer it).

`erase_warning` is what the resident reads before confirming when a complaint of theirs is still being handled.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.privacy.redact import redact, redact_value
from handlers.tickets import rules
from storage.models import Resident, new_ref
from storage.repositories import media as media_repo
from storage.repositories import tickets as repo
from storage.ticket_models import Ticket, TicketEvent, TicketMediation

ERASED_DESCRIPTION = "（居民已删除个人信息，投诉内容已清除）"
ERASED_MEDIATION = "（已随居民信息删除）"
ERASED_EVENT = "居民已删除个人信息：投诉内容、照片、位置和回电号码已清除，无法再联系居民或向其推送办理进展。"
UNFINISHED = rules.OPEN | {"resolved"}


def _of(resident: Resident):
    return or_(Ticket.resident_id == resident.id, Ticket.resident_ref == resident.ref)


async def erase_resident(session: AsyncSession, resident: Resident, now: datetime) -> None:
    for ticket in list(await session.scalars(select(Ticket).where(_of(resident)).order_by(Ticket.id))):
        await erase_ticket(session, ticket, now)


async def erase_ticket(session: AsyncSession, t: Ticket, now: datetime) -> None:
    """Remove everything personal from one ticket of an erased resident and mark it."""
    t.resident_ref, t.resident_id = new_ref(), None
    t.description, t.photos, t.location = ERASED_DESCRIPTION, [], None
    t.phone = t.phone_masked = t.rating_words = t.caller_name = t.building = None
    t.phone_shared_at = None  # nothing left to share with a partner
    t.resolution = redact(t.resolution) if t.resolution else t.resolution
    t.reject_reason = redact(t.reject_reason) if t.reject_reason else t.reject_reason
    t.public_summary = redact(t.public_summary) if t.public_summary else t.public_summary
    if t.waiting_since is not None and t.status in rules.OPEN:  # nobody will answer 「请补充」: the clock resumes
        paused = now - t.waiting_since
        t.sign_due_at, t.resolve_due_at = t.sign_due_at + paused, t.resolve_due_at + paused
        t.waiting_since = None
    t.resident_erased_at = now
    await media_repo.erase_residents_media(session, t.id)  # the resident's photos/voice; staff evidence stays
    for event in await session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id)):
        if event.actor == "resident":
            event.text = ""
            event.data = _anonymous_data(event.data, keep_text=False)
        else:
            event.text = redact(event.text) if event.text else event.text
            event.data = _anonymous_data(event.data, keep_text=True)
    for record in await session.scalars(select(TicketMediation).where(TicketMediation.ticket_id == t.id)):
        record.parties = record.agreement = ERASED_MEDIATION
    repo.add_event(session, t, kind="erased", actor="system", actor_label="系统", public=False, text=ERASED_EVENT,
                   at=now)
    t.updated_at = now


def _anonymous_data(data: dict | None, *, keep_text: bool) -> dict | None:
    """An event's details without the mediation parties; other text redacted, or dropped for the resident's own."""
    if not data:
        return data
    kept = {k: v for k, v in data.items() if k != "parties"}
    if keep_text:
        return redact_value(kept)
    return {k: v for k, v in kept.items() if not isinstance(v, (str, list, dict))}


async def erase_warning(session: AsyncSession, resident: Resident) -> str | None:
    """The resident's complaints still being handled, and what erasing means for them; None when there are none."""
    numbers = list(await session.scalars(select(Ticket.number).where(_of(resident), Ticket.status.in_(UNFINISHED))
                                         .order_by(Ticket.id)))
    if not numbers:
        return None
    shown = "、".join(numbers[:5]) + ("等" if len(numbers) > 5 else "")
    return (f"您有 {len(numbers)} 件投诉尚未办结（{shown}）。删除后，投诉内容、照片、位置和回电号码将一并清除，"
            "工作人员将无法再联系您，也无法向您反馈办理进展。")
