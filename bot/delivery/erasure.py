"""The delivery engine's part of a resident's erasure (run by `handlers.privacy.erasure`).

- Broadcasts naming the resident lose their ref and id from the scope. One addressed to them alone (a reply to
  their complaint or question, which may quote their words) is emptied of its text, and cancelled if it was not
  sent yet: it had no one else to reach.
- Their delivery rows keep the counts (status, channel, errcode) but not the person: no resident id, no WeChat
  message id or error detail; those not yet sent are skipped (`resident_gone`).
- Their category mutes and customer-service window are deleted.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.delivery_models import Broadcast, Delivery
from storage.models import Resident
from storage.repositories import deliveries

ERASED_TEXT = "（收件人已删除个人信息，消息内容已清除）"
UNSENT = ("scheduled", "paused", "sending")


async def erase_resident(session: AsyncSession, resident: Resident, now: datetime) -> None:
    await _forget_in_broadcasts(session, resident)
    await deliveries.forget_resident(session, resident.id)


async def _forget_in_broadcasts(session: AsyncSession, resident: Resident) -> None:
    # Candidates through indexes, not a scan of every broadcast: those already expanded to the resident (a delivery
    # row, sent or skipped) and those not finished (maybe not expanded yet); the scope's refs decide.
    theirs = select(Delivery.broadcast_id).where(Delivery.resident_id == resident.id)
    candidates = await session.scalars(select(Broadcast).where(
        or_(Broadcast.id.in_(theirs), Broadcast.status.in_(UNSENT)),
        cast(Broadcast.scope, String).contains(resident.ref)))
    for broadcast in candidates:
        scope = dict(broadcast.scope or {})
        refs = list(scope.get("refs") or [])
        if resident.ref not in refs:
            continue
        scope["refs"] = [r for r in refs if r != resident.ref]
        scope["residents"] = [i for i in scope.get("residents") or [] if i != resident.id]
        broadcast.scope = scope
        if not scope["refs"]:  # theirs alone
            broadcast.text, broadcast.title, broadcast.summary, broadcast.link = ERASED_TEXT, None, None, None
            if broadcast.status in UNSENT:
                broadcast.status = "cancelled"
