"""Console pages for joint meetings (联席会议): record a meeting, add agenda items, close, publish the summary,
mark follow-ups done; the list shows reminders, overdue follow-ups and communities missing this month's meeting.
Also the dashboard panel (slot `meetings`)."""
from __future__ import annotations

import re

from aiohttp import web
from sqlalchemy import select

from handlers.console.audit import audit
from handlers.console.authz import restrict, visible_communities
from handlers.console.guard import current, db, require_staff
from handlers.console.registry import SLOTS
from handlers.console.render import Form, flash, render, see_other, staff_names_for
from handlers.console.toolkit import path_id
from handlers.notices import meetings
from handlers.notices.console import _base, actor_of, communities
from handlers.notices.service import Forbidden, NotFound, NoticeError
from storage.models import Community
from storage.repositories import meetings as repo

_SPLIT = re.compile(r"[,，、\t ]+")


def parse_attendees(text: str) -> list[dict]:
    """Lines "身份 姓名 [单位]" (separated by spaces or commas) → attendee dicts."""
    rows = []
    for line in (text or "").splitlines():
        parts = [p for p in _SPLIT.split(line.strip()) if p]
        if parts:
            rows.append({"role": parts[0], "name": parts[1] if len(parts) > 1 else "",
                         "organisation": " ".join(parts[2:])})
    return rows


async def _load(request: web.Request):
    """The meeting in the path; 404 when absent or outside the jurisdiction."""
    return await meetings.load(db(request), path_id(request, "meeting_id"), actor_of(request))


async def _choices(request: web.Request) -> list[tuple[int, str]]:
    query = restrict(select(Community.id, Community.name).order_by(Community.code), current(request).scope,
                     Community.id)
    return [(i, n) for i, n in (await db(request).execute(query)).all()]


@require_staff()
async def list_page(request: web.Request) -> web.Response:
    session, user = db(request), current(request)
    today = meetings.local_today(user.now)
    month = request.query.get("month") or f"{today.year}-{today.month:02d}"
    try:
        start, end = meetings.month_range(month)
    except ValueError:
        start, end = meetings.month_range(month := f"{today.year}-{today.month:02d}")
    rows, _ = await repo.list_meetings(session, communities(request), start=start, end=end, limit=200)
    return render(request, "meetings/list.html", title="联席会议", rows=rows, month=month,
                  missing=await repo.missing(session, start, end, communities(request)),
                  overdue=await repo.overdue(session, today, communities(request)),
                  reminders=await repo.reminders(session, communities(request)), states=meetings.STATES)


@require_staff()
async def new_page(request: web.Request) -> web.Response:
    return render(request, "meetings/form.html", title="记录联席会议", values={}, errors={},
                  choices=await _choices(request), roles=meetings.ROLES)


@require_staff()
async def create(request: web.Request) -> web.Response:
    data = await Form.read(request)
    values = {k: str(data.get(k, "")).strip() for k in ("community", "held_on", "chair", "location", "attendees")}
    try:
        if not values["community"].isdigit():
            raise NoticeError("请选择社区")
        meeting = await meetings.create_meeting(
            db(request), actor_of(request), community_id=int(values["community"]), held_on=values["held_on"],
            chair=values["chair"], location=values["location"], attendees=parse_attendees(values["attendees"]),
            now=current(request).now)
    except NoticeError as exc:
        if isinstance(exc, Forbidden):
            raise web.HTTPForbidden() from None
        return render(request, "meetings/form.html", title="记录联席会议", values=values, errors={"form": str(exc)},
                      choices=await _choices(request), roles=meetings.ROLES, status=422)
    await audit(db(request), current(request), "meeting.create", f"联席会议 {meeting.id}", request,
                community_id=meeting.community_id)
    carried = len(meeting.items)
    await flash(request, "会议记录已创建。" + (f"已带入上次会议未落实的 {carried} 项待办。" if carried else ""))
    raise see_other(f"/console/meetings/{meeting.id}")


@require_staff()
async def detail_page(request: web.Request) -> web.Response:
    meeting = await _load(request)
    community = await db(request).get(Community, meeting.community_id)
    return render(request, "meetings/detail.html", title=f"{community.name}联席会议", meeting=meeting,
                  community=community, states=meetings.STATES, today=meetings.local_today(current(request).now),
                  staff_names=await staff_names_for(db(request), [meeting.author]))


async def _act(request: web.Request, work, action: str, done: str) -> web.Response:
    meeting = await _load(request)
    data = await Form.read(request)
    try:
        await work(meeting, data)
    except (NoticeError, ValueError) as exc:
        if isinstance(exc, Forbidden):
            raise web.HTTPForbidden() from None
        await flash(request, str(exc), "error")
        raise see_other(f"/console/meetings/{meeting.id}") from None
    await audit(db(request), current(request), action, f"联席会议 {meeting.id}", request,
                community_id=meeting.community_id)
    await flash(request, done)
    raise see_other(f"/console/meetings/{meeting.id}")


@require_staff()
async def add_item(request: web.Request) -> web.Response:
    async def work(meeting, data):
        await meetings.add_item(
            db(request), actor_of(request), meeting, topic=str(data.get("topic", "")),
            discussion=str(data.get("discussion", "")), decision=str(data.get("decision", "")),
            concerns_residents=data.get("concerns_residents") == "1", followup=str(data.get("followup", "")),
            followup_owner=str(data.get("followup_owner", "")), followup_due=str(data.get("followup_due", "")))

    return await _act(request, work, "meeting.item", "议题已添加。")


@require_staff()
async def close(request: web.Request) -> web.Response:
    async def work(meeting, data):
        raw = str(data.get("attendee_count", "")).strip()
        if raw and not raw.isdigit():
            raise NoticeError("参会人数应为整数")
        await meetings.close(db(request), actor_of(request), meeting, minutes=str(data.get("minutes", "")),
                             attendee_count=int(raw) if raw else None, now=current(request).now)

    return await _act(request, work, "meeting.close", "会议已结束。请尽快公开涉及居民的事项。")


@require_staff()
async def publish(request: web.Request) -> web.Response:
    async def work(meeting, data):
        await meetings.publish(db(request), actor_of(request), meeting, now=current(request).now,
                               base_url=_base(request))

    return await _act(request, work, "meeting.publish", "会议纪要已公开，并推送给本社区居民。")


@require_staff()
async def followup_done(request: web.Request) -> web.Response:
    data = await Form.read(request, "note")
    try:
        item = await meetings.complete_followup(db(request), actor_of(request), path_id(request, "item_id"),
                                                note=str(data.get("note", "")), now=current(request).now)
    except NotFound:
        raise web.HTTPNotFound() from None
    except NoticeError as exc:
        await flash(request, str(exc), "error")
        raise see_other("/console/meetings") from None
    await audit(db(request), current(request), "meeting.followup", f"会议事项 {item.id}", request)
    await flash(request, "已标记为完成。")
    raise see_other(f"/console/meetings/{item.meeting_id}")


def register(registry) -> None:
    registry.nav("联席会议", "/console/meetings", order=25)
    registry.page("GET", "/meetings", list_page)
    registry.page("POST", "/meetings", create)
    registry.page("GET", "/meetings/new", new_page)
    registry.page("POST", "/meetings/items/{item_id}/done", followup_done)
    registry.page("GET", "/meetings/{meeting_id}", detail_page)
    registry.page("POST", "/meetings/{meeting_id}/items", add_item)
    registry.page("POST", "/meetings/{meeting_id}/close", close)
    registry.page("POST", "/meetings/{meeting_id}/publish", publish)

    @registry.panel("meetings", "本月联席会议", order=SLOTS["meetings"], cache_seconds=60)
    async def missing_panel(session, user):
        today = meetings.local_today(user.now)
        start, end = meetings.month_range(f"{today.year}-{today.month:02d}")
        scope = None if user.scope.is_admin else visible_communities(user.scope)
        missing = await repo.missing(session, start, end, scope)
        overdue = await repo.overdue(session, today, scope, limit=50)
        return user.fragment("meetings/panel.html", missing=missing, overdue=len(overdue), month=today.month)
