"""Shared by the tickets' console pages and API: loading a ticket inside the caller's jurisdiction, the staff
member as a ticket `Actor`, the JSON shapes, and turning submitted fields into `service.perform` parameters.
"""
from __future__ import annotations

from datetime import datetime

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.console.authz import can_see_community
from handlers.console.guard import current, db
from handlers.console.toolkit import path_id
from handlers.privacy.redact import mask
from handlers.tickets import canned, media, publication, rules, service
from handlers.tickets.rules import CATEGORIES, CHANNELS, LEVEL_LABELS, STAFF_STATUS_LABELS
from storage.models import Community, Estate, Staff, StaffLevel, Street
from storage.repositories import media as media_repo
from storage.repositories import tickets as repo
from storage.ticket_models import Ticket


def actor_of(request: web.Request) -> rules.Actor:
    user = current(request)
    return service.staff_actor(user.staff, user.scope.community_ids)


async def ticket_of(request: web.Request) -> Ticket:
    """The ticket named in the path; 404 when absent or outside the jurisdiction (ids tell nothing)."""
    ticket = await repo.get(db(request), path_id(request, "ticket_id"), lock=request.method == "POST")
    if ticket is None or not can_see_community(current(request).scope, ticket.community_id):
        raise web.HTTPNotFound()
    return ticket


def is_overdue(t: Ticket, now: datetime) -> bool:
    if t.status not in rules.OPEN or t.waiting_since is not None:
        return False
    return t.resolve_due_at < now or (t.signed_at is None and t.sign_due_at < now)


async def names(session: AsyncSession, tickets: list[Ticket]) -> dict[str, dict[int, str]]:
    """Community and estate names for a page of tickets, in two queries."""
    cids = {t.community_id for t in tickets}
    eids = {t.estate_id for t in tickets if t.estate_id}
    communities = dict((await session.execute(select(Community.id, Community.name)
                                              .where(Community.id.in_(cids)))).all()) if cids else {}
    estates = dict((await session.execute(select(Estate.id, Estate.name).where(Estate.id.in_(eids)))).all()) \
        if eids else {}
    return {"community": communities, "estate": estates}


def summary(t: Ticket, now: datetime, named: dict[str, dict[int, str]]) -> dict:
    return {
        "id": t.id, "number": t.number, "category": t.category, "category_label": CATEGORIES[t.category],
        "channel": t.channel, "channel_label": CHANNELS.get(t.channel, t.channel),
        "status": t.status, "status_label": STAFF_STATUS_LABELS[t.status], "level": t.level,
        "level_label": LEVEL_LABELS[t.level], "community_id": t.community_id,
        "community": named["community"].get(t.community_id), "estate": named["estate"].get(t.estate_id),
        "description": mask(t.description), "phone_masked": t.phone_masked, "created_at": t.created_at,
        "sign_due_at": t.sign_due_at, "resolve_due_at": t.resolve_due_at, "waiting": t.waiting_since is not None,
        "overdue": is_overdue(t, now), "assignee": t.assignee_label, "rating": t.rating,
        "reopened": t.reopened, "escalations": t.escalations,
        "duplicate_of_id": t.duplicate_of_id, "resident_reachable": t.resident_erased_at is None,
    }


async def detail(session: AsyncSession, t: Ticket, actor: rules.Actor, now: datetime, settings) -> dict:
    named = await names(session, [t])
    similar = sorted(((rules.similarity(t.description, o.description), o)
                      for o in await repo.similar_open(session, t)), key=lambda p: -p[0])[:5]
    linked = await repo.linked(session, t.id)
    events = await repo.events(session, t.id)
    allowed = [a for a in service.STAFF_ACTIONS if service.allowed(t, a, actor)]
    return {
        **summary(t, now, named),
        "caller_name": t.caller_name, "building": t.building, "claimed_at": t.claimed_at,
        "photos": t.photos or [], "media": media.listing(list(await media_repo.of_ticket(session, t.id)), t.id),
        "location": t.location, "resolution": t.resolution,
        "reject_reason": t.reject_reason, "rating_words": t.rating_words,
        "public_summary": t.public_summary, "public_summary_by": t.public_summary_by,
        "public_summary_at": t.public_summary_at, "resident_erased_at": t.resident_erased_at,
        "may_publish": publication.refusal(actor, t.level, actor.sees(t.community_id)) is None,
        "partner_reported": t.partner_done_at is not None, "phone_shared": t.phone_shared_at is not None,
        "events": [{"at": e.at, "kind": e.kind, "label": rules.ACTION_LABELS.get(e.kind, e.kind),
                    "actor": e.actor_label, "level": e.level, "public": e.public, "text": e.text}
                   for e in events],
        "mediations": [{"parties": m.parties, "agreement": m.agreement, "mediated_on": m.mediated_on.isoformat(),
                        "committee": m.committee, "created_by": m.created_by}
                       for m in await repo.mediations(session, t.id)],
        "linked": [o.number for o in linked],
        "similar": [{"id": o.id, "number": o.number, "status": o.status, "description": mask(o.description),
                     "similarity": round(score, 2)} for score, o in similar],
        "allowed_actions": allowed,
        "next_step": "resolve" if t.partner_done_at is not None and "resolve" in allowed else rules.next_step(
            t.status, allowed, rules.replied_since_signed([e.kind for e in events])),
        "canned_replies": canned.replies(t.category, settings),
        "canned_resolutions": canned.resolutions(t.category, settings),
    }


async def assignable_staff(session: AsyncSession, t: Ticket) -> list[Staff]:
    community = await session.get(Community, t.community_id)
    street = await session.get(Street, community.street_id)
    node = {"community": Staff.community_id == t.community_id, "street": Staff.street_id == street.id,
            "district": Staff.district_id == street.district_id}[t.level]
    stmt = select(Staff).where(Staff.level == StaffLevel(t.level), node, Staff.active.is_(True)).order_by(Staff.id)
    return list((await session.execute(stmt)).scalars())


async def params_for(session: AsyncSession, action: str, fields: dict) -> dict:
    """`service.perform` keyword arguments from submitted fields (form or JSON)."""
    text = str(fields.get("text") or "").strip()
    if action in ("reply", "note", "ask", "resolve", "chase", "partner_done"):
        if not text and fields.get("canned"):
            text = str(fields["canned"]).strip()
        return {"text": text}
    if action in ("escalate", "reject", "close", "send_back"):
        return {"reason": str(fields.get("reason") or text).strip()}
    if action == "return":
        return {"rule": str(fields.get("rule") or text).strip()}
    if action == "assign":
        partner = str(fields.get("partner") or "").strip()
        if partner == "dept":
            partner = "dept:" + str(fields.get("dept") or "").strip()
        staff_id = fields.get("staff_id")
        try:
            staff_id = int(staff_id) if staff_id not in (None, "") else None
        except (TypeError, ValueError):
            raise service.TicketError("工作人员编号有误") from None
        return {"staff_id": staff_id, "partner": partner or None}
    if action == "link":
        primary = await repo.by_number(session, str(fields.get("primary") or ""))
        if primary is None:
            raise service.TicketError("找不到该主工单编号")
        return {"primary": primary}
    if action == "share_phone":
        return {"share": fields.get("share", "")}
    if action == "mediation":
        return {k: str(fields.get(k) or "").strip() for k in ("parties", "agreement", "mediated_on", "committee")}
    return {}
