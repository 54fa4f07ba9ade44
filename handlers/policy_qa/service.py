"""Policy Q&A rules with effects: count gaps and the month's questions (answered per entry, unanswered), store
ratings, open inquiries, answer them (pushing the answer to the resident through the delivery engine), and ask
every server to reload the knowledge base."""
from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.delivery import Content, Scope, create_broadcast
from bot.delivery.staff import push_to_staff
from bot.localtime import LOCAL_TZ
from handlers.policy_qa.rules import question_key
from handlers.privacy.redact import redact
from knowledge import KnowledgeBase, KnowledgeBaseError
from storage.models import Resident
from storage.policy_qa_models import Inquiry
from storage.repositories import meetings as meetings_repo
from storage.repositories import policy_qa as repo


async def record_gap(ctx: Context, outcome: str) -> None:
    """Count the question, stored redacted (no phone numbers, rooms or names) and tied to the asker's ref, so
    their erasure removes their words."""
    await record_question(ctx.session, ctx.resident, ctx.text, outcome, ctx.now)


async def record_question(session: AsyncSession, resident: Resident, said: str, outcome: str, now: datetime) -> None:
    """`record_gap` for a resident's words outside a chat message (the demo history)."""
    said = redact(said)
    key = question_key(said)
    if key:
        await repo.record_gap_and_count(session, key, said, outcome, resident.community_id, now, local_month(now),
                                        example_ref=resident.ref)
    else:
        await repo.count_question(session, local_month(now), resident.community_id, outcome)


async def record_answer(ctx: Context, entry) -> None:
    """Count a question answered by `entry` this month (the monthly report's most asked topics)."""
    await repo.count_question(ctx.session, local_month(ctx.now), ctx.resident.community_id, "answer", entry.id,
                              entry.title)


def local_month(moment: datetime) -> str:
    local = moment.astimezone(LOCAL_TZ)
    return f"{local.year:04d}-{local.month:02d}"  # strftime cost more than the counting itself


async def rate(ctx: Context, entry_id: str, useful: bool) -> None:
    await repo.rate(ctx.session, entry_id, useful, ctx.now)


async def open_inquiry(ctx: Context, question: str) -> Inquiry:
    """A question handed to staff (转人工); the community's linked staff get a push with the console link."""
    inquiry = await inquiry_of(ctx.session, ctx.resident, question, ctx.now)
    if inquiry.community_id is not None:
        staff = await meetings_repo.community_staff(ctx.session, inquiry.community_id)
        base = ctx.settings.base_url.rstrip("/")
        await push_to_staff(ctx.session, staff, kind="handoff", title="居民转人工咨询",
                            text=f"居民转人工咨询（Q{inquiry.id}）：{inquiry.question[:80]}\n请在工作台「政策问答」中答复。",
                            link=f"{base}/console/qa", now=ctx.now, source=f"inquiry:{inquiry.id}:staff",
                            created_by="system:qa")
    return inquiry


async def inquiry_of(session: AsyncSession, r: Resident, question: str, now: datetime) -> Inquiry:
    """`open_inquiry` for a resident outside a chat message (the demo history)."""
    return await repo.open_inquiry(session, resident_ref=r.ref, resident_id=r.id, community_id=r.community_id,
                                   question=question, now=now)


async def answer_inquiry(session: AsyncSession, inquiry: Inquiry, text: str, by: str, now: datetime) -> None:
    """Record the answer and push it to the resident (if they still follow the account)."""
    text = text.strip()
    if not text:
        raise ValueError("答复不能为空")
    inquiry.status, inquiry.answer, inquiry.answered_by, inquiry.answered_at = "answered", text[:4000], by, now
    if inquiry.resident_id is not None:
        body = f"您咨询的问题（Q{inquiry.id}）：{inquiry.question[:60]}\n工作人员答复：{text}"
        await create_broadcast(session, category="ticket", scope=Scope.of_residents([inquiry.resident_id]),
                               content=Content(body, title="咨询答复", summary=text[:60]), created_by=by,
                               source=f"inquiry:{inquiry.id}", now=now)


async def request_reload(session: AsyncSession, directory: str | None, by: str, now: datetime) -> int:
    """Validate the knowledge base at `directory` (None: bundled), then bump the generation every server
    watches. Raises KnowledgeBaseError with the problems; nothing changes then."""
    await asyncio.to_thread(KnowledgeBase.load, directory)  # validate before anyone swaps (~1 s of CPU: off the loop)
    return await repo.request_reload(session, directory, by, now)


__all__ = ["KnowledgeBaseError", "answer_inquiry", "open_inquiry", "rate", "record_answer", "record_gap",
           "request_reload"]
