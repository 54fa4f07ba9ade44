"""Joint meetings (社区物业管理工作联席会议): record, agenda items, close, publish the summary, follow-ups.

A meeting belongs to one community: date, chair, attendees by role, agenda items (discussion, decision, follow-up
owner and due date, "concerns residents"). A new meeting opens with the open follow-ups of the community's
previous meeting. Closing records the minutes and the number of attendees; publishing turns the items that
concern residents into a 联席会议纪要 notice for the community (published at once: the minutes were confirmed by
the meeting itself, so the four-eyes rule does not apply). Errors are the notices service's exceptions.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.localtime import LOCAL_TZ
from handlers.notices import service
from handlers.notices.service import Actor, Forbidden, NotFound, NoticeError
from storage.models import Community
from storage.notice_models import Meeting, MeetingAttendee, MeetingItem, Notice
from storage.repositories import meetings as repo

ROLES = ("居委会", "物业服务企业", "业委会", "居民代表", "其他")
STATES = {"open": "记录中", "closed": "已结束，纪要待公开", "published": "纪要已公开"}
NUMERALS = "一二三四五六七八九十"


def local_today(now: datetime) -> date:
    return now.astimezone(LOCAL_TZ).date()


def month_range(month: str) -> tuple[date, date]:
    """'2026-11' → (2026-11-01, 2026-12-01); ValueError with a Chinese message otherwise."""
    try:
        year, mon = (int(x) for x in month.split("-"))
        start = date(year, mon, 1)
    except (ValueError, TypeError):
        raise ValueError("月份格式应为 YYYY-MM，例如 2026-11") from None
    return start, date(year + mon // 12, mon % 12 + 1, 1)


def _allowed(actor: Actor, community_id: int) -> None:
    if actor.communities is not None and community_id not in actor.communities:
        raise Forbidden("只能记录本辖区社区的联席会议")


async def load(session: AsyncSession, meeting_id: int, actor: Actor | None = None) -> Meeting:
    meeting = await repo.get(session, meeting_id)
    if meeting is None or (actor is not None and actor.communities is not None
                           and meeting.community_id not in actor.communities):
        raise NotFound("会议记录不存在或不在您的辖区内")
    return meeting


def _attendees(raw: list[dict] | None) -> list[MeetingAttendee]:
    rows = []
    for n, a in enumerate(raw or [], 1):
        role, name = str(a.get("role", "")).strip(), str(a.get("name", "")).strip()
        if role not in ROLES:
            raise NoticeError(f"第{n}位参会人员的身份应为 " + "、".join(ROLES) + " 之一")
        if not name:
            raise NoticeError(f"请填写第{n}位参会人员的姓名")
        rows.append(MeetingAttendee(role=role, name=name[:64], organisation=(a.get("organisation") or "")[:128]
                                    or None))
    return rows


def _due(raw, what: str = "落实期限") -> date | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        raise NoticeError(f"{what}应为日期，例如 2026-12-15") from None


async def create_meeting(session: AsyncSession, actor: Actor, *, community_id: int, held_on: date | str, chair: str,
                         location: str | None = None, attendees: list[dict] | None = None,
                         now: datetime) -> Meeting:
    _allowed(actor, community_id)
    if await session.get(Community, community_id) is None:
        raise NoticeError("社区不存在")
    held_on = _due(held_on, "会议日期")
    if held_on is None:
        raise NoticeError("请填写会议日期")
    if held_on > local_today(now) + timedelta(days=60):
        raise NoticeError("会议日期不能晚于 60 天之后")
    chair = (chair or "").strip()
    if not chair:
        raise NoticeError("请填写主持人")
    meeting = Meeting(community_id=community_id, held_on=held_on, chair=chair[:64], location=(location or "")[:128]
                      or None, state="open", author=actor.name, author_staff_id=actor.staff_id, created_at=now,
                      attendees=_attendees(attendees), items=[])
    session.add(meeting)
    await session.flush()
    await _carry_over(session, meeting)
    await repo.finish_reminders(session, f"missing:{community_id}:{held_on.year}-{held_on.month:02d}", now)
    return meeting


async def _carry_over(session: AsyncSession, meeting: Meeting) -> None:
    """The new meeting opens with the previous meeting's open follow-ups."""
    previous = await repo.latest_before(session, meeting.community_id, meeting.held_on)
    if previous is None:
        return
    for item in previous.items:
        if item.followup_owner and item.followup_done_at is None and item.carried_to_id is None:
            copy = MeetingItem(position=len(meeting.items) + 1, topic=f"上次会议待落实：{item.topic}"[:200],
                               discussion="", decision=item.decision, concerns_residents=item.concerns_residents,
                               followup=item.followup, followup_owner=item.followup_owner,
                               followup_due=item.followup_due, carried_from_id=item.id)
            meeting.items.append(copy)
            await session.flush()
            item.carried_to_id = copy.id


async def add_item(session: AsyncSession, actor: Actor, meeting: Meeting, *, topic: str, discussion: str = "",
                   decision: str = "", concerns_residents: bool = False, followup: str | None = None,
                   followup_owner: str | None = None, followup_due: date | str | None = None) -> MeetingItem:
    _allowed(actor, meeting.community_id)
    if meeting.state == "published":
        raise NoticeError("纪要已公开，不能再添加议题")
    topic = (topic or "").strip()
    if not topic:
        raise NoticeError("请填写议题")
    due, owner = _due(followup_due), (followup_owner or "").strip() or None
    if due and not owner:
        raise NoticeError("有落实期限的事项请填写负责人")
    item = MeetingItem(position=len(meeting.items) + 1, topic=topic[:200], discussion=(discussion or "").strip(),
                       decision=(decision or "").strip(), concerns_residents=bool(concerns_residents),
                       followup=(followup or "").strip()[:200] or None, followup_owner=owner and owner[:64],
                       followup_due=due)
    meeting.items.append(item)
    await session.flush()
    return item


async def close(session: AsyncSession, actor: Actor, meeting: Meeting, *, minutes: str,
                attendee_count: int | None, now: datetime) -> Meeting:
    _allowed(actor, meeting.community_id)
    if meeting.state != "open":
        raise NoticeError("会议已经结束")
    minutes = (minutes or "").strip()
    if not minutes:
        raise NoticeError("请填写会议记录（纪要正文）")
    count = len(meeting.attendees) if attendee_count in (None, "") else int(attendee_count)
    if count < 1:
        raise NoticeError("参会人数应至少为 1")
    meeting.minutes, meeting.attendee_count, meeting.state, meeting.closed_at = minutes, count, "closed", now
    return meeting


async def publish(session: AsyncSession, actor: Actor, meeting: Meeting, *, now: datetime, base_url: str) -> Notice:
    """Publish the summary: a 联席会议纪要 notice for the community with the items that concern residents."""
    _allowed(actor, meeting.community_id)
    if meeting.state != "closed":
        raise NoticeError("请先结束会议（填写会议记录和参会人数），再公开纪要" if meeting.state == "open"
                          else "纪要已经公开")
    items = [i for i in meeting.items if i.concerns_residents]
    if not items:
        raise NoticeError("没有标记为「涉及居民」的议题，无需公开纪要；如需公开，请先标记相关议题")
    community = await session.get(Community, meeting.community_id)
    title = f"{community.name}{meeting.held_on.year}年{meeting.held_on.month}月物业管理工作联席会议纪要"
    notice = await service.create_draft(
        session, actor, category="meeting", title=title, body=summary_markdown(meeting, items),
        scope_level="community", scope_ids=[meeting.community_id], source=f"meeting:{meeting.id}", now=now)
    await service.approve(session, actor, notice, now=now, base_url=base_url)
    meeting.state, meeting.published_at, meeting.notice_id = "published", now, notice.id
    await repo.finish_reminders(session, f"summary:{meeting.id}:%", now)
    return notice


def summary_markdown(meeting: Meeting, items: list[MeetingItem]) -> str:
    """The published minutes (pure): when, who by role (names of residents' representatives are not published),
    and each item that concerns residents with its decision and follow-up."""
    counts: dict[str, int] = {}
    orgs: dict[str, set[str]] = {}
    for a in meeting.attendees:
        counts[a.role] = counts.get(a.role, 0) + 1
        if a.organisation and a.role != "居民代表":
            orgs.setdefault(a.role, set()).add(a.organisation)
    roles = "，".join(f"{r} {counts[r]} 人" + (f"（{'、'.join(sorted(orgs[r]))}）" if r in orgs else "")
                     for r in ROLES if r in counts)
    lines = [f"**会议时间**：{meeting.held_on.year}年{meeting.held_on.month}月{meeting.held_on.day}日"
             + (f"　**地点**：{meeting.location}" if meeting.location else ""),
             f"**主持人**：{meeting.chair}",
             f"**参会人员**：{roles + '；' if roles else ''}共 {meeting.attendee_count or len(meeting.attendees)} 人",
             "", "现将会议中涉及居民切身利益的事项公开如下：", ""]
    for n, item in enumerate(items, 1):
        lines.append(f"### {NUMERALS[n - 1] if n <= 10 else n}、{item.topic}")
        if item.discussion:
            lines.append(f"- 讨论情况：{item.discussion}")
        if item.decision:
            lines.append(f"- 会议决定：{item.decision}")
        if item.followup_owner:
            due = f"，{item.followup_due.month}月{item.followup_due.day}日前完成" if item.followup_due else ""
            lines.append(f"- 落实：{item.followup_owner}负责{due}" + (f"（{item.followup}）" if item.followup else ""))
        lines.append("")
    lines.append("如有意见建议，请联系社区居委会，或在公众号中回复「投诉」反映。")
    return "\n".join(lines)


async def complete_followup(session: AsyncSession, actor: Actor, item_id: int, *, note: str | None,
                            now: datetime) -> MeetingItem:
    """Mark a follow-up done (and every earlier copy it was carried from)."""
    item = await session.get(MeetingItem, item_id)
    meeting = await repo.get(session, item.meeting_id) if item else None
    if item is None or meeting is None or (actor.communities is not None
                                           and meeting.community_id not in actor.communities):
        raise NotFound("事项不存在或不在您的辖区内")
    if not item.followup_owner:
        raise NoticeError("该议题没有需要落实的事项")
    if item.followup_done_at is not None:
        raise NoticeError("该事项已标记为完成")
    node = item
    while node is not None:
        node.followup_done_at, node.followup_note = now, (note or "").strip()[:200] or None
        node = await session.get(MeetingItem, node.carried_from_id) if node.carried_from_id else None
    return item
