"""JSON API for joint meetings under /api/v1/meetings (documented in handlers/notices/openapi.yaml)."""
from __future__ import annotations

from aiohttp import web

from handlers.console.api import json_error, json_response, read_json
from handlers.console.audit import audit
from handlers.console.guard import current, db, require_staff
from handlers.console.toolkit import path_id
from handlers.notices import meetings
from handlers.notices.console import _base, actor_of, communities
from handlers.notices.service import NoticeError
from storage.models import Community
from storage.repositories import meetings as repo


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def item_json(item) -> dict:
    return {"id": item.id, "position": item.position, "topic": item.topic, "discussion": item.discussion,
            "decision": item.decision, "concerns_residents": item.concerns_residents, "followup": item.followup,
            "followup_owner": item.followup_owner, "followup_due": _iso(item.followup_due),
            "followup_done_at": _iso(item.followup_done_at), "followup_note": item.followup_note,
            "carried_from_id": item.carried_from_id}


def meeting_json(meeting, community: str, full: bool = True) -> dict:
    data = {"id": meeting.id, "community_id": meeting.community_id, "community": community,
            "held_on": meeting.held_on.isoformat(), "chair": meeting.chair, "location": meeting.location,
            "state": meeting.state, "attendee_count": meeting.attendee_count, "author": meeting.author,
            "created_at": _iso(meeting.created_at), "closed_at": _iso(meeting.closed_at),
            "published_at": _iso(meeting.published_at), "notice_id": meeting.notice_id}
    if full:
        data |= {"minutes": meeting.minutes,
                 "attendees": [{"role": a.role, "name": a.name, "organisation": a.organisation}
                               for a in meeting.attendees],
                 "items": [item_json(i) for i in meeting.items]}
    return data


def _month(request: web.Request):
    today = meetings.local_today(current(request).now)
    raw = request.query.get("month") or f"{today.year}-{today.month:02d}"
    try:
        return raw, *meetings.month_range(raw)
    except ValueError as exc:
        raise NoticeError(str(exc)) from None


async def _meeting(request: web.Request):
    """The meeting in the path; 404 when absent or outside the jurisdiction."""
    return await meetings.load(db(request), path_id(request, "meeting_id"), actor_of(request))


async def _full(request: web.Request, meeting, status: int = 200) -> web.Response:
    meeting = await repo.get(db(request), meeting.id)
    community = await db(request).get(Community, meeting.community_id)
    return json_response(meeting_json(meeting, community.name), status)


@require_staff()
async def list_meetings(request: web.Request) -> web.Response:
    month, start, end = _month(request)
    rows, total = await repo.list_meetings(db(request), communities(request), start=start, end=end, limit=500)
    return json_response({"month": month, "items": [meeting_json(m, name, False) for m, name in rows],
                          "total": total})


@require_staff()
async def missing(request: web.Request) -> web.Response:
    month, start, end = _month(request)
    rows = await repo.missing(db(request), start, end, communities(request))
    return json_response({"month": month, "communities": [
        {"id": c.id, "code": c.code, "name": c.name, "street": street} for c, street in rows]})


@require_staff()
async def overdue(request: web.Request) -> web.Response:
    rows = await repo.overdue(db(request), meetings.local_today(current(request).now), communities(request))
    return json_response({"items": [{**item_json(i), "meeting_id": m.id, "community_id": m.community_id,
                                     "community": name} for i, m, name in rows]})


@require_staff()
async def reminders(request: web.Request) -> web.Response:
    rows = await repo.reminders(db(request), communities(request))
    return json_response({"items": [{"id": r.id, "kind": r.kind, "community_id": r.community_id, "community": name,
                                     "meeting_id": r.meeting_id, "text": r.text, "created_at": _iso(r.created_at),
                                     "pushed": r.pushed} for r, name in rows]})


@require_staff()
async def create(request: web.Request) -> web.Response:
    body, user = await read_json(request), current(request)
    try:
        meeting = await meetings.create_meeting(
            db(request), actor_of(request), community_id=int(body.get("community_id") or 0),
            held_on=str(body.get("held_on") or ""), chair=str(body.get("chair") or ""),
            location=body.get("location"), attendees=list(body.get("attendees") or []), now=user.now)
    except (TypeError, ValueError) as exc:
        return json_error(getattr(exc, "status", 422), str(exc) if isinstance(exc, NoticeError) else None)
    await audit(db(request), user, "meeting.create", f"联席会议 {meeting.id}", request,
                community_id=meeting.community_id)
    return await _full(request, meeting, 201)


@require_staff()
async def get_one(request: web.Request) -> web.Response:
    return await _full(request, await _meeting(request))


async def _action(request: web.Request, action: str, work) -> web.Response:
    meeting, user = await _meeting(request), current(request)
    body = await read_json(request) if request.body_exists else {}
    await work(meeting, body)
    await audit(db(request), user, action, f"联席会议 {meeting.id}", request, community_id=meeting.community_id)
    return await _full(request, meeting)


@require_staff()
async def add_item(request: web.Request) -> web.Response:
    async def work(meeting, body):
        await meetings.add_item(db(request), actor_of(request), meeting, topic=str(body.get("topic") or ""),
                                discussion=str(body.get("discussion") or ""),
                                decision=str(body.get("decision") or ""),
                                concerns_residents=bool(body.get("concerns_residents")),
                                followup=body.get("followup"), followup_owner=body.get("followup_owner"),
                                followup_due=body.get("followup_due"))
    return await _action(request, "meeting.item", work)


@require_staff()
async def close(request: web.Request) -> web.Response:
    async def work(meeting, body):
        count = body.get("attendee_count")
        if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
            raise NoticeError("attendee_count 应为整数")
        await meetings.close(db(request), actor_of(request), meeting, minutes=str(body.get("minutes") or ""),
                             attendee_count=count, now=current(request).now)
    return await _action(request, "meeting.close", work)


@require_staff()
async def publish(request: web.Request) -> web.Response:
    async def work(meeting, body):
        await meetings.publish(db(request), actor_of(request), meeting, now=current(request).now,
                               base_url=_base(request))
    return await _action(request, "meeting.publish", work)


@require_staff()
async def followup_done(request: web.Request) -> web.Response:
    body = await read_json(request) if request.body_exists else {}
    item = await meetings.complete_followup(db(request), actor_of(request), path_id(request, "item_id"),
                                            note=body.get("note"), now=current(request).now)
    await audit(db(request), current(request), "meeting.followup", f"会议事项 {item.id}", request)
    return json_response(item_json(item))


def register(registry) -> None:
    registry.api("GET", "/meetings", list_meetings)
    registry.api("POST", "/meetings", create)
    registry.api("GET", "/meetings/missing", missing)
    registry.api("GET", "/meetings/followups/overdue", overdue)
    registry.api("GET", "/meetings/reminders", reminders)
    registry.api("POST", "/meetings/items/{item_id}/done", followup_done)
    registry.api("GET", "/meetings/{meeting_id}", get_one)
    registry.api("POST", "/meetings/{meeting_id}/items", add_item)
    registry.api("POST", "/meetings/{meeting_id}/close", close)
    registry.api("POST", "/meetings/{meeting_id}/publish", publish)
