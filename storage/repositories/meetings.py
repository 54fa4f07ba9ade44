"""Joint meetings: records, follow-ups, communities missing a meeting, staff reminders. Never commits.

`communities` arguments are a SELECT of community ids (the console's jurisdiction) or None for everything.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Select, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.db import affected
from storage.models import Community, Resident, Staff, StaffLevel, Street
from storage.notice_models import Meeting, MeetingItem, MeetingReminder


def _within(query, column, communities: Select | None):
    return query if communities is None else query.where(column.in_(communities))


async def get(session: AsyncSession, meeting_id: int) -> Meeting | None:
    return await session.get(Meeting, meeting_id, options=[selectinload(Meeting.attendees),
                                                            selectinload(Meeting.items)])


async def latest_before(session: AsyncSession, community_id: int, held_on: date) -> Meeting | None:
    query = (select(Meeting).where(Meeting.community_id == community_id, Meeting.held_on < held_on)
             .order_by(Meeting.held_on.desc(), Meeting.id.desc()).limit(1).options(selectinload(Meeting.items)))
    return (await session.execute(query)).scalar_one_or_none()


async def list_meetings(session: AsyncSession, communities: Select | None, *, start: date | None = None,
                        end: date | None = None, community_id: int | None = None, limit: int = 50,
                        offset: int = 0) -> tuple[list[tuple[Meeting, str]], int]:
    query = _within(select(Meeting, Community.name).join(Community, Community.id == Meeting.community_id),
                    Meeting.community_id, communities)
    if start is not None:
        query = query.where(Meeting.held_on >= start)
    if end is not None:
        query = query.where(Meeting.held_on < end)
    if community_id is not None:
        query = query.where(Meeting.community_id == community_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(query.order_by(Meeting.held_on.desc(), Meeting.id.desc()).limit(limit)
                                 .offset(offset).options(selectinload(Meeting.items)))
    return [(m, name) for m, name in rows.all()], int(total or 0)


async def missing(session: AsyncSession, start: date, end: date, communities: Select | None = None
                  ) -> list[tuple[Community, str]]:
    """Communities with no meeting held in [start, end), with their street's name."""
    held = exists().where(Meeting.community_id == Community.id, Meeting.held_on >= start, Meeting.held_on < end)
    query = _within(select(Community, Street.name).join(Street, Street.id == Community.street_id).where(~held),
                    Community.id, communities)
    return [(c, s) for c, s in (await session.execute(query.order_by(Community.code))).all()]


async def overdue(session: AsyncSession, today: date, communities: Select | None = None, limit: int = 200
                  ) -> list[tuple[MeetingItem, Meeting, str]]:
    """Open follow-ups past their due date (only the latest copy of a carried-over item)."""
    query = (select(MeetingItem, Meeting, Community.name).join(Meeting, Meeting.id == MeetingItem.meeting_id)
             .join(Community, Community.id == Meeting.community_id)
             .where(MeetingItem.followup_due < today, MeetingItem.followup_done_at.is_(None),
                    MeetingItem.carried_to_id.is_(None)))
    query = _within(query, Meeting.community_id, communities)
    rows = await session.execute(query.order_by(MeetingItem.followup_due, MeetingItem.id).limit(limit))
    return [(i, m, name) for i, m, name in rows.all()]


async def awaiting_summary(session: AsyncSession) -> list[Meeting]:
    return list(await session.scalars(select(Meeting).where(Meeting.state == "closed").order_by(Meeting.id)))


async def add_reminder(session: AsyncSession, *, key: str, kind: str, community_id: int, text: str, now: datetime,
                       meeting_id: int | None = None, staff_id: int | None = None) -> MeetingReminder | None:
    """Insert the reminder unless one with this key exists; None when it already did."""
    if await session.scalar(select(MeetingReminder.id).where(MeetingReminder.key == key)):
        return None
    row = MeetingReminder(key=key, kind=kind, community_id=community_id, meeting_id=meeting_id, staff_id=staff_id,
                          text=text[:300], created_at=now)
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another sweep inserted it meanwhile
        return None
    return row


async def reminders(session: AsyncSession, communities: Select | None, *, open_only: bool = True, limit: int = 50
                    ) -> list[tuple[MeetingReminder, str]]:
    query = _within(select(MeetingReminder, Community.name).join(Community, Community.id ==
                                                                  MeetingReminder.community_id),
                    MeetingReminder.community_id, communities)
    if open_only:
        query = query.where(MeetingReminder.done_at.is_(None))
    rows = await session.execute(query.order_by(MeetingReminder.created_at.desc(), MeetingReminder.id.desc())
                                 .limit(limit))
    return [(r, name) for r, name in rows.all()]


async def community_staff(session: AsyncSession, community_id: int) -> list[Staff]:
    query = select(Staff).where(Staff.active.is_(True), Staff.level == StaffLevel.community,
                                Staff.community_id == community_id).order_by(Staff.id)
    return list(await session.scalars(query))


async def residents_for_openids(session: AsyncSession, openids: list[str]) -> list[int]:
    """Resident rows (followers) behind staff members' linked WeChat accounts."""
    if not openids:
        return []
    return sorted(await session.scalars(select(Resident.id).where(Resident.openid.in_(openids))))


async def finish_reminders(session: AsyncSession, key_like: str, now: datetime) -> None:
    """Mark open reminders whose key matches (SQL LIKE) as done: their reason is gone."""
    await session.execute(update(MeetingReminder).where(MeetingReminder.key.like(key_like),
                                                        MeetingReminder.done_at.is_(None)).values(done_at=now))


async def claim_summary_reminder(session: AsyncSession, meeting: Meeting, stage: int) -> bool:
    """Record that reminder `stage` for a closed meeting's minutes is due, once across processes."""
    moved = await session.execute(update(Meeting).where(
        Meeting.id == meeting.id, Meeting.reminders_sent == meeting.reminders_sent,
        Meeting.state == "closed").values(reminders_sent=stage))
    return affected(moved) == 1
