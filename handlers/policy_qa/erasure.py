"""The policy Q&A's part of a resident's erasure (run by `handlers.privacy.erasure`).

Questions handed to staff (转人工) keep their place in the figures (community, status, times, who answered) but
lose the question and the answer, their link to the resident and any link between them (a fresh random ref);
a question still open is withdrawn (nobody could receive the answer). A knowledge-base gap whose example is the
resident's words loses it: the example is emptied and the key (their normalised question) replaced, while the
count stays for the figures.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Resident, new_ref
from storage.policy_qa_models import Inquiry, KbGap

ERASED_EXAMPLE = "（提问者已删除个人信息）"


def _of(resident: Resident):
    return or_(Inquiry.resident_id == resident.id, Inquiry.resident_ref == resident.ref)


async def erase_resident(session: AsyncSession, resident: Resident, now: datetime) -> None:
    for inquiry in await session.scalars(select(Inquiry).where(_of(resident))):
        inquiry.question, inquiry.answer = "", None
        inquiry.resident_ref, inquiry.resident_id = new_ref(), None
        if inquiry.status == "open":
            inquiry.status = "withdrawn"
    for gap in await session.scalars(select(KbGap).where(KbGap.example_ref == resident.ref)):
        gap.question_key, gap.example, gap.example_ref = f"erased:{new_ref()}", ERASED_EXAMPLE, None


async def erase_warning(session: AsyncSession, resident: Resident) -> str | None:
    waiting = await session.scalar(select(func.count()).select_from(Inquiry)
                                   .where(_of(resident), Inquiry.status == "open")) or 0
    if not waiting:
        return None
    return f"您有 {waiting} 个转人工咨询尚未答复，删除后将无法收到答复。"
