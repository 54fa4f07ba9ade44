"""Policy Q&A data: knowledge gaps with counts, answer ratings, inquiries for staff, the reload generation."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import affected
from storage.policy_qa_models import Inquiry, KbGap, KbGeneration, KbMonthlyCount, KbRating
from storage.prepared import Prepared, typed_params

_GAP_SQL = (
    "INSERT INTO kb_gaps (question_key, example, example_ref, outcome, count, community_id, first_asked, last_asked)"
    " VALUES (:question_key, :example, :example_ref, :outcome, 1, :community_id, :now, :now)"
    " ON CONFLICT (question_key) DO UPDATE SET count = kb_gaps.count + 1, last_asked = excluded.last_asked,"
    " outcome = excluded.outcome, example = excluded.example, example_ref = excluded.example_ref"
)
_GAP_PARAMS = (*typed_params(KbGap.__table__, "question_key", "example", "example_ref", "outcome", "community_id"),
               bindparam("now", type_=KbGap.__table__.c.last_asked.type))
_RECORD_GAP = Prepared(lambda dialect: text(_GAP_SQL).bindparams(*_GAP_PARAMS))


async def record_gap(session: AsyncSession, key: str, example: str, outcome: str, community_id: int | None,
                     now: datetime, example_ref: str | None = None) -> None:
    """Count one more asking of a question the knowledge base could not answer confidently (one upsert: it
    runs inside the webhook's transaction). `example_ref`: the resident whose words `example` is."""
    await _RECORD_GAP.run(session, question_key=key, example=example[:500], example_ref=example_ref,
                          outcome=outcome, community_id=community_id, now=now)


_COUNT_SQL = (
    "INSERT INTO kb_monthly_counts (month, community_id, outcome, entry_id, title, count)"
    " VALUES (:month, {community}, :outcome, :entry_id, :title, 1)"
    " ON CONFLICT (month, community_id, outcome, entry_id) DO UPDATE SET count = kb_monthly_counts.count + 1,"
    " title = excluded.title"
)
_COUNT_QUESTION = Prepared(lambda dialect: text(_COUNT_SQL.format(community=":community_id")).bindparams(
    *typed_params(KbMonthlyCount.__table__, "month", "community_id", "outcome", "entry_id", "title")))


async def count_question(session: AsyncSession, month: str, community_id: int | None, outcome: str,
                         entry_id: str = "", title: str = "") -> None:
    """One more question this local month in this community: answered by `entry_id`, or not (`ambiguous` /
    `none`). One upsert, inside the webhook's transaction."""
    await _COUNT_QUESTION.run(session, month=month, community_id=community_id or 0, outcome=outcome,
                              entry_id=entry_id[:100], title=title[:200])


# the month's count is kept per community with 0 for none, the gap with NULL: COALESCE(:community_id, 0)
_GAP_AND_COUNT = Prepared(lambda dialect: text(
    f"WITH gap AS ({_GAP_SQL}) " + _COUNT_SQL.format(community="COALESCE(:community_id, 0)")
).bindparams(*_GAP_PARAMS, *typed_params(KbMonthlyCount.__table__, "month", "entry_id", "title")))


async def record_gap_and_count(session: AsyncSession, key: str, example: str, outcome: str, community_id: int | None,
                               now: datetime, month: str, example_ref: str | None = None) -> None:
    """`record_gap` and `count_question` (no entry): on PostgreSQL one statement, a round trip less on the
    webhook's path; on SQLite the two statements (a CTE there cannot write)."""
    if session.bind.dialect.name == "sqlite":
        await record_gap(session, key, example, outcome, community_id, now, example_ref)
        await count_question(session, month, community_id, outcome)
        return
    await _GAP_AND_COUNT.run(session, question_key=key, example=example[:500], example_ref=example_ref,
                             outcome=outcome, community_id=community_id, now=now, month=month, entry_id="", title="")


def gaps_query(open_only: bool = True) -> Select:
    query = select(KbGap).order_by(KbGap.count.desc(), KbGap.last_asked.desc())
    return query.where(KbGap.resolved_entry.is_(None)) if open_only else query


async def resolve_gap(session: AsyncSession, gap_id: int, entry_id: str) -> bool:
    done = await session.execute(update(KbGap).where(KbGap.id == gap_id).values(resolved_entry=entry_id[:100]))
    return bool(affected(done))


async def reopen_gaps(session: AsyncSession, entry_id: str) -> int:
    """The questions the entry `entry_id` had resolved are open again (the entry was deleted); how many."""
    done = await session.execute(update(KbGap).where(KbGap.resolved_entry == entry_id[:100])
                                 .values(resolved_entry=None))
    return affected(done)


async def rate(session: AsyncSession, entry_id: str, useful: bool, now: datetime) -> None:
    row = await session.get(KbRating, entry_id)
    if row is None:
        row = KbRating(entry_id=entry_id, useful=0, useless=0, updated_at=now)
        session.add(row)
    if useful:
        row.useful += 1
    else:
        row.useless += 1
    row.updated_at = now


async def ratings(session: AsyncSession, limit: int = 50) -> list[KbRating]:
    query = select(KbRating).order_by((KbRating.useless - KbRating.useful).desc(), KbRating.entry_id).limit(limit)
    return list(await session.scalars(query))


async def open_inquiry(session: AsyncSession, *, resident_ref: str, resident_id: int | None,
                       community_id: int | None, question: str, now: datetime) -> Inquiry:
    inquiry = Inquiry(resident_ref=resident_ref, resident_id=resident_id, community_id=community_id,
                      question=question[:2000], status="open", created_at=now)
    session.add(inquiry)
    await session.flush()
    return inquiry


def inquiries_query(status: str | None = "open") -> Select:
    query = select(Inquiry).order_by(Inquiry.id.desc())
    return query.where(Inquiry.status == status) if status else query


async def request_reload(session: AsyncSession, directory: str | None, by: str, now: datetime) -> int:
    row = await session.get(KbGeneration, 1)
    if row is None:
        row = KbGeneration(id=1, generation=0)
        session.add(row)
    row.generation = (row.generation or 0) + 1
    row.directory, row.requested_by, row.requested_at = directory, by[:64], now
    await session.flush()
    return row.generation


async def generation(session: AsyncSession) -> tuple[int, str | None]:
    row = await session.get(KbGeneration, 1)
    return (row.generation, row.directory) if row else (0, None)


async def open_count(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Inquiry).where(Inquiry.status == "open")) or 0
