"""Pushes to staff who linked their WeChat (issue 18), through the same durable outbox as residents' messages.

Every alert to staff goes through `push_to_staff(session, staff, kind=…)`: only active accounts with a linked
WeChat that still follows the account (a follower row with that openid) are reached; each person may switch a
kind off (`staff_wechat.muted`) and set quiet hours (Beijing time), during which the push is held, not dropped: it
is queued with `send_at` at the end of the quiet hours and the worker sends it then. Each push carries the console
page's link. `quiet_until` is the pure policy (tested on its own).
"""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.channels import Content
from bot.delivery.outbox import Scope, create_broadcast
from bot.localtime import LOCAL_TZ
from storage.models import Resident, Staff
from storage.staff_link_models import StaffWeChat

# the push kinds a staff member may switch on or off, with their labels (console 我的账号)
KINDS: dict[str, str] = {
    "ticket_new": "辖区内的新投诉",
    "ticket_assigned": "升级或交办给我的工单",
    "ticket_chase": "办理时限前的催办",
    "ticket_update": "工单动态（居民补充、重新办理）",
    "handoff": "居民转人工的咨询",
    "meeting": "联席会议提醒",
    "notice_review": "等待我审核的公示",
    "owners_motion": "本小区业主表决的开启、结束和撤销（业主委员会账号）",
}
# the outbox category each kind is sent under (bot/delivery/config.py CATEGORIES)
CATEGORY = {"ticket_new": "ticket", "ticket_assigned": "ticket", "ticket_chase": "ticket", "ticket_update": "ticket",
            "handoff": "ticket", "meeting": "meeting", "notice_review": "notice",
            "owners_motion": "notice"}
HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_hhmm(value: str | None) -> time | None:
    """"22:00" → time(22, 0); None for nothing or a malformed value."""
    found = HHMM.match((value or "").strip())
    return time(int(found.group(1)), int(found.group(2))) if found else None


def quiet_until(now: datetime, start: str | None, end: str | None) -> datetime | None:
    """When the quiet hours `start`–`end` (Beijing time, may span midnight) end, if `now` is inside them; else
    None. Equal or missing bounds mean no quiet hours."""
    begin, finish = parse_hhmm(start), parse_hhmm(end)
    if begin is None or finish is None or begin == finish:
        return None
    local = now.astimezone(LOCAL_TZ)
    at = local.time().replace(tzinfo=None)
    inside = begin <= at < finish if begin < finish else (at >= begin or at < finish)
    if not inside:
        return None
    ends = datetime.combine(local.date(), finish, tzinfo=LOCAL_TZ)
    if ends <= local:
        ends += timedelta(days=1)
    return ends


async def push_to_staff(session: AsyncSession, staff: Iterable[Staff | None], *, kind: str, title: str, text: str,
                        link: str, now: datetime, source: str, created_by: str = "system:staff") -> int:
    """Queue `text` for each linked, active staff member in `staff` who has `kind` on; returns how many were
    reached (now or after their quiet hours)."""
    if kind not in KINDS:
        raise ValueError(f"unknown staff push kind {kind!r}")
    people = {s.id: s for s in staff if s is not None and s.active and s.openid}
    if not people:
        return 0
    prefs = {p.staff_id: p for p in (await session.execute(
        select(StaffWeChat).where(StaffWeChat.staff_id.in_(sorted(people))))).scalars()}
    openids = {s.openid: sid for sid, s in people.items()}
    followers = {row.openid: row.id for row in (await session.execute(
        select(Resident.id, Resident.openid).where(Resident.openid.in_(sorted(openids))))).all()}
    batches: dict[datetime | None, list[int]] = defaultdict(list)
    for openid, sid in sorted(openids.items(), key=lambda item: item[1]):
        pref = prefs.get(sid)
        if openid not in followers or (pref is not None and kind in (pref.muted or [])):
            continue
        held = quiet_until(now, pref.quiet_start, pref.quiet_end) if pref is not None else None
        batches[held].append(followers[openid])
    for send_at, residents in batches.items():
        await create_broadcast(session, category=CATEGORY[kind], scope=Scope.of_residents(residents),
                               content=Content(text=f"{text}\n{link}" if link else text, title=title,
                                               summary=text[:60], link=link or None),
                               created_by=created_by, source=source, send_at=send_at, now=now)
    return sum(len(r) for r in batches.values())
