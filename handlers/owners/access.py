"""Staff access to the roster and owners' votes, shared by console pages and the API: every object is looked up by
id and answered 404 outside the caller's jurisdiction (an estate, a room, an owner link or a motion belongs to the
community of its estate). Archive exports need street level (the street keeps the archive). An owners' committee's account sees only its
own estate's motions (`committee_estate`), on the few routes marked `committee_allowed`.
"""
from __future__ import annotations

from datetime import datetime

from aiohttp import web
from sqlalchemy import select

from bot.errors import Conflict, Invalid
from bot.localtime import LOCAL_TZ
from handlers.console.authz import can_see_community, restrict
from handlers.console.guard import current, db
from handlers.console.toolkit import visible
from handlers.owners import motions
from storage.models import Estate, StaffLevel
from storage.owner_models import Motion, OwnerLink, RosterOwner, RosterRoom
from storage.repositories import owners as repo

EXPORT_LEVEL = StaffLevel.street


async def _estate(session, estate_id: int) -> Estate | None:
    return await session.get(Estate, estate_id)


async def estate(request: web.Request, name: str = "estate_id") -> Estate:
    return await visible(request, name, _estate, community=lambda e: e.community_id)


async def _room_community(request: web.Request, room: RosterRoom) -> int | None:
    found = await db(request).get(Estate, room.estate_id)
    return found.community_id if found else None


async def room(request: web.Request) -> RosterRoom:
    return await visible(request, "room_id", lambda s, i: s.get(RosterRoom, i),
                         community=lambda r: _room_community(request, r))


async def owner_link(request: web.Request) -> tuple[OwnerLink, RosterOwner]:
    async def load(session, link_id: int):
        found = await session.get(OwnerLink, link_id)
        return found

    found = await visible(request, "link_id", load)
    owner = await db(request).get(RosterOwner, found.owner_id)
    estate_row = await db(request).get(Estate, owner.estate_id) if owner else None
    if owner is None or estate_row is None or not can_see_community(current(request).scope,
                                                                    estate_row.community_id):
        raise web.HTTPNotFound()
    return found, owner


def committee_estate(request: web.Request) -> int | None:
    """The estate of an owners' committee's account (it sees that estate's motions only), else None."""
    return current(request).staff.committee_estate_id


async def motion(request: web.Request) -> Motion:
    estate_id = committee_estate(request)
    if estate_id is not None:
        async def own(session, motion_id: int) -> Motion | None:
            found = await repo.get_motion(session, motion_id)
            return found if found is not None and found.estate_id == estate_id else None

        return await visible(request, "motion_id", own)
    return await visible(request, "motion_id", repo.get_motion, community=lambda m: m.community_id)


def visible_estates_stmt(request: web.Request):
    estate_id = committee_estate(request)
    if estate_id is not None:
        return select(Estate).where(Estate.id == estate_id)
    return restrict(select(Estate).order_by(Estate.id), current(request).scope, Estate.community_id)


def estate_ids_stmt(request: web.Request):
    estate_id = committee_estate(request)
    if estate_id is not None:
        return select(Estate.id).where(Estate.id == estate_id)
    return restrict(select(Estate.id), current(request).scope, Estate.community_id)


def when(raw) -> datetime | None:
    """An ISO date-time (Beijing time when it has no offset), or None when empty/invalid."""
    text = str(raw or "").strip().replace(" ", "T")
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)


async def _draft(request: web.Request, estate: Estate, data: dict) -> motions.Draft:
    buildings = data.get("buildings") or []
    if isinstance(buildings, str):
        buildings = [b for b in buildings.replace("，", ",").replace("、", ",").split(",") if b.strip()]
    if not isinstance(buildings, list):
        buildings = []
    return motions.check_draft(str(data.get("title") or ""), str(data.get("body") or ""),
                               str(data.get("kind") or ""), when(data.get("opens_at")), when(data.get("closes_at")),
                               [str(b).strip() for b in buildings],
                               await repo.buildings_of(db(request), estate.id),
                               topic=str(data.get("topic") or "general"), details=data.get("details"))


async def edit_draft(request: web.Request, motion: Motion, data: dict) -> Motion:
    """Change a draft (an owners' committee's motion not yet opened by staff); its topic stays."""
    if motion.status != "draft":
        raise Conflict("只有待开启的草稿可以修改")
    estate_row = await db(request).get(Estate, motion.estate_id)
    assert estate_row is not None
    draft = await _draft(request, estate_row, {**data, "topic": motion.topic})
    motion.title, motion.body, motion.kind = draft.title, draft.body, draft.kind
    motion.opens_at, motion.closes_at, motion.buildings = draft.opens_at, draft.closes_at, draft.buildings
    motion.details = draft.details
    return motion


async def create_motion(request: web.Request, data: dict) -> Motion:
    user = current(request)
    raw_estate = data.get("estate_id")
    estate_id = int(raw_estate) if (isinstance(raw_estate, int) and not isinstance(raw_estate, bool)) or (
        isinstance(raw_estate, str) and raw_estate.isascii() and raw_estate.isdigit() and len(raw_estate) <= 18) \
        else None
    if estate_id is not None and not 0 < estate_id < 10**18:
        estate_id = None
    found = await db(request).get(Estate, estate_id) if estate_id else None
    committee = committee_estate(request)
    if found is None or not (found.id == committee if committee is not None
                             else can_see_community(user.scope, found.community_id)):
        raise Invalid("请选择您辖区内的小区", errors={"estate_id": "请选择小区"})
    draft = await _draft(request, found, data)
    if committee is not None:  # the owners' committee drafts; street or community staff open it
        return await motions.create(db(request), found, draft, author=f"committee:{user.staff.username}",
                                    now=user.now, pending=True)
    return await motions.create(db(request), found, draft, author=f"staff:{user.staff.username}", now=user.now)
