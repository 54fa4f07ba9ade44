"""Periodic sweeps of notices and meetings (run by the deployment's one scheduler; each is idempotent).

- `publish_scheduled`: every minute, publish scheduled notices whose time has come.
- `summary_reminders`: hourly, remind a meeting's author 3 and 7 days after closing while the summary is not
  published (a console item, and a WeChat push where the author linked WeChat).
- `missing_meetings`: daily at 09:00 Beijing time, from the configured day of the month on
  (`LINLI_MEETING_REMINDER_DAY`, default 20), each community without a meeting this month gets a console item and
  its community staff who linked WeChat a push. A reminder's unique key makes every sweep safe to repeat.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Services
from bot.delivery.staff import push_to_staff as staff_push
from bot.jobs import Job
from handlers.notices import service
from handlers.notices.meetings import local_today, month_range
from storage.models import Community, Staff
from storage.notice_models import Meeting
from storage.repositories import meetings as repo

SUMMARY_AFTER = (timedelta(days=3), timedelta(days=7))


async def push_to_staff(session: AsyncSession, staff: list[Staff], *, title: str, text: str, link: str,
                        now: datetime, source: str, category: str = "meeting") -> int:
    """Push to staff who linked WeChat (bot.delivery.staff: their switches and quiet hours); how many reached."""
    kind = "notice_review" if category == "notice" else "meeting"
    return await staff_push(session, staff, kind=kind, title=title, text=text, link=link, now=now, source=source,
                            created_by="system:meetings")


async def tell_reviewers(session: AsyncSession, notice, *, base_url: str, now: datetime) -> int:
    """After 提交审核: push the draft to the staff who may approve it and linked WeChat; how many were reached."""
    title = service.current(notice).title
    text = f"公示「{title[:40]}」已提交审核，请在工作台「待审核」中审核发布。"
    return await push_to_staff(session, await service.reviewers(session, notice), title="有公示等待您审核",
                               text=text, link=f"{base_url.rstrip('/')}/console/notices/{notice.id}", now=now,
                               source=f"notice-review:{notice.id}", category="notice")


async def publish_scheduled(services: Services, now: datetime) -> list[int]:
    async with services.db.transaction() as session:
        return await service.publish_due(session, now, services.settings.base_url)


async def summary_reminders(services: Services, now: datetime) -> int:
    sent = 0
    async with services.db.transaction() as session:
        for meeting in await repo.awaiting_summary(session):
            stage = sum(1 for gap in SUMMARY_AFTER if meeting.closed_at and now >= meeting.closed_at + gap)
            if stage <= meeting.reminders_sent:
                continue
            if not await repo.claim_summary_reminder(session, meeting, stage):
                continue
            sent += await _remind_summary(session, services, meeting, stage, now)
    return sent


async def _remind_summary(session: AsyncSession, services: Services, meeting: Meeting, stage: int,
                          now: datetime) -> int:
    community = await session.get(Community, meeting.community_id)
    days = (now - meeting.closed_at).days
    text = (f"{community.name}{meeting.held_on.month}月{meeting.held_on.day}日联席会议已结束 {days} 天，"
            "纪要尚未公开，请尽快公开涉及居民的事项。")
    row = await repo.add_reminder(session, key=f"summary:{meeting.id}:{stage}", kind="summary",
                                  community_id=meeting.community_id, meeting_id=meeting.id,
                                  staff_id=meeting.author_staff_id, text=text, now=now)
    if row is None:
        return 0
    author = await session.get(Staff, meeting.author_staff_id) if meeting.author_staff_id else None
    row.pushed = await push_to_staff(session, [author] if author else [], title="联席会议纪要待公开", text=text,
                                     link=f"{services.settings.base_url}/console/meetings/{meeting.id}", now=now,
                                     source=f"meeting-reminder:{meeting.id}:{stage}")
    return 1


async def missing_meetings(services: Services, now: datetime) -> int:
    """From the reminder day on, remind each community with no meeting this month (once per month)."""
    today = local_today(now)
    if today.day < services.settings.meeting_reminder_day:
        return 0
    month = f"{today.year}-{today.month:02d}"
    start, end = month_range(month)
    created = 0
    async with services.db.transaction() as session:
        for community, _street in await repo.missing(session, start, end):
            text = f"{community.name}本月（{today.month}月）尚未记录社区物业管理工作联席会议，请按要求召开并记录。"
            row = await repo.add_reminder(session, key=f"missing:{community.id}:{month}", kind="missing",
                                          community_id=community.id, text=text, now=now)
            if row is None:
                continue
            created += 1
            row.pushed = await push_to_staff(session, await repo.community_staff(session, community.id),
                                             title="本月联席会议提醒", text=text,
                                             link=f"{services.settings.base_url}/console/meetings", now=now,
                                             source=f"meeting-missing:{community.id}:{month}")
    return created


def jobs() -> list[Job]:
    return [
        Job("notices.publish_scheduled", publish_scheduled, every=60),
        Job("meetings.summary_reminders", summary_reminders, cron={"minute": 7}),
        Job("meetings.missing", missing_meetings, cron={"hour": 9, "minute": 0}),
    ]
