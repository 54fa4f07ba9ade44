"""承办工单: the console of a partner organisation's account (staff.partner, issue 18). It sees only the tickets
交办 to its organisation and takes there what it can do in the chat (handlers/staff/commands.py), through the same
ticket service and rules (`rules.BY_PARTNER`):

    GET  /console/partner/tickets                               open first, by deadline; then the finished ones
    GET  /console/partner/tickets/{ticket_id}                   one ticket: facts, what the partner may read of the
                                                                timeline, the actions, evidence upload
    POST /console/partner/tickets/{ticket_id}/actions/{action}  partner_sign / ask / reply / partner_done
    POST /console/partner/tickets/{ticket_id}/media             evidence (the staff's upload, `store_upload`)
    GET  /console/partner/tickets/{ticket_id}/media/{media_id}  a kept file of the ticket
    GET  /api/v1/partner/tickets, GET /api/v1/partner/tickets/{ticket_id},
    POST /api/v1/partner/tickets/{ticket_id}/actions/{action}   the same as JSON

Every route is `partner_allowed` and refuses (403) an account that is not a partner's. A ticket not 交办 to the
caller's organisation (another partner's, taken back, or moved up a level) answers 404, exactly as a ticket that
does not exist. The resident's phone is masked unless the community shares it (`service.partner_phone`); their
name is never shown. Every action is audited.
"""
from __future__ import annotations

from aiohttp import web
from sqlalchemy import case, select

from handlers.console.api import json_error, json_response, read_json
from handlers.console.audit import audit
from handlers.console.guard import current, db, max_body, partner_allowed, require_staff
from handlers.console.render import Form, flash, render, see_other
from handlers.console.state import state_of
from handlers.console.toolkit import path_id
from handlers.privacy.redact import mask
from handlers.tickets import media, rules, service
from handlers.tickets.console_common import is_overdue, names, params_for
from handlers.tickets.console_media import UPLOAD_CAP, store_upload
from handlers.tickets.operations import PARTNER_ACTIONS
from handlers.tickets.rules import CATEGORIES, OPEN, STAFF_STATUS_LABELS
from storage.models import Staff
from storage.repositories import media as media_repo
from storage.repositories import tickets as repo
from storage.ticket_models import Ticket

LIST_LIMIT = 200
# what a partner reads of the timeline from its hand-over on: the community's words to the resident and to it,
# the resident's supplements, and its own steps (its notes and uploads only when made by its own accounts)
TIMELINE = frozenset({"assign", "reply", "ask", "supplement", "partner_sign", "partner_done", "send_back",
                      "share_phone", "resolve", "close", "rate", "reopen"})
OWN_ONLY = frozenset({"note", "media_added"})
ACTION_WORDS = {"partner_sign": "签收", "ask": "要求补充信息", "reply": "回复居民", "partner_done": "报告办结"}


def partner_of(request: web.Request) -> str:
    """The caller's organisation; 403 for an account that is not a partner organisation's."""
    partner = current(request).staff.partner
    if partner is None:
        raise web.HTTPForbidden()
    return partner


def actor_of(request: web.Request) -> rules.Actor:
    return service.partner_actor(current(request).staff)


async def ticket_of(request: web.Request) -> Ticket:
    """The ticket in the path, only if it is 交办 to the caller's organisation now; else 404 (as if absent)."""
    partner = partner_of(request)
    ticket = await repo.get(db(request), path_id(request, "ticket_id"), lock=request.method == "POST")
    if ticket is None or ticket.assignee_partner != partner:
        raise web.HTTPNotFound()
    return ticket


async def handed(request: web.Request) -> list[Ticket]:
    """The organisation's tickets: open first (by deadline), then the rest (latest first)."""
    partner = partner_of(request)
    still_open = case((Ticket.status.in_(OPEN), 0), else_=1)
    stmt = (select(Ticket).where(Ticket.assignee_partner == partner)
            .order_by(still_open, Ticket.resolve_due_at, Ticket.id.desc()).limit(LIST_LIMIT))
    return list((await db(request).execute(stmt)).scalars())


def row(t: Ticket, now, named: dict) -> dict:
    return {"id": t.id, "number": t.number, "category": t.category, "category_label": CATEGORIES[t.category],
            "status": t.status, "status_label": STAFF_STATUS_LABELS[t.status], "open": t.status in OPEN,
            "community": named["community"].get(t.community_id), "estate": named["estate"].get(t.estate_id),
            "description": mask(t.description), "resolve_due_at": t.resolve_due_at, "overdue": is_overdue(t, now),
            "waiting": t.waiting_since is not None,
            "reported": t.partner_done_at is not None and t.status in OPEN}


async def _own_accounts(request: web.Request, partner: str) -> set[str]:
    stmt = select(Staff.username).where(Staff.partner == partner)
    return {f"staff:{u}" for u in (await db(request).execute(stmt)).scalars()}


async def partner_detail(request: web.Request, t: Ticket) -> dict:
    """What the partner may read of the ticket."""
    session, user, partner = db(request), current(request), partner_of(request)
    actor = actor_of(request)
    own = await _own_accounts(request, partner)
    events = list(await repo.events(session, t.id))
    start = max((i for i, e in enumerate(events) if e.kind == "assign"), default=0)  # its hand-over
    shown = [e for e in events[start:] if e.kind in TIMELINE or (e.kind in OWN_ONLY and e.actor in own)]
    kept = [m for m in await media_repo.of_ticket(session, t.id)
            if m.source in media_repo.RESIDENT_SOURCES or m.added_by in own]
    items = media.listing(kept, t.id)
    for item in items:
        item["url"] = item["url"] and f"/console/partner/tickets/{t.id}/media/{item['id']}"
    allowed = [a for a in PARTNER_ACTIONS if service.allowed(t, a, actor)]
    return {
        **row(t, user.now, await names(session, [t])),
        "phone": service.partner_phone(t), "phone_shared": t.phone_shared_at is not None
        and t.resident_erased_at is None, "resident_reachable": t.resident_erased_at is None,
        "sign_due_at": t.sign_due_at, "created_at": t.created_at, "assignee": t.assignee_label,
        "location": t.location, "resolution": t.resolution, "media": items,
        "may_upload": service.allowed(t, "note", actor), "allowed_actions": allowed,
        "events": [{"at": e.at, "kind": e.kind, "label": rules.ACTION_LABELS.get(e.kind, e.kind),
                    "actor": e.actor_label, "public": e.public, "text": e.text} for e in shown],
    }


async def _act(request: web.Request, ticket: Ticket, action: str, fields: dict) -> str:
    if action not in PARTNER_ACTIONS:
        raise service.TicketError("未知的操作", 404)
    user, session = current(request), db(request)
    params = await params_for(session, action, fields)
    said = await service.perform(session, state_of(request).services, ticket, action, actor_of(request), user.now,
                                 **params)
    await audit(session, user, f"ticket.{action}", ticket.number, request, community_id=ticket.community_id)
    return said


# ---- pages ---------------------------------------------------------------------------------------------------

@partner_allowed
@require_staff()
async def list_page(request: web.Request) -> web.Response:
    user, tickets = current(request), await handed(request)
    named = await names(db(request), tickets)
    rows = [row(t, user.now, named) for t in tickets]
    return render(request, "tickets/partner_list.html", title="承办工单", rows=rows,
                  open_count=sum(1 for r in rows if r["open"]))


@partner_allowed
@require_staff()
async def detail_page(request: web.Request) -> web.Response:
    ticket = await ticket_of(request)
    return render(request, "tickets/partner_detail.html", title=f"工单 {ticket.number}",
                  t=await partner_detail(request, ticket), words=ACTION_WORDS)


@partner_allowed
@require_staff()
async def action_post(request: web.Request) -> web.Response:
    ticket = await ticket_of(request)
    fields = (await Form.read(request)).values
    back = f"/console/partner/tickets/{ticket.id}"
    try:
        said = await _act(request, ticket, request.match_info["action"], fields)
    except service.TicketError as exc:
        if exc.status in (403, 404):
            raise web.HTTPForbidden() if exc.status == 403 else web.HTTPNotFound() from None
        await flash(request, exc.message, "error")
        raise see_other(back) from None
    await flash(request, said)
    raise see_other(back)


@max_body(UPLOAD_CAP)
@partner_allowed
@require_staff()
async def media_upload(request: web.Request) -> web.Response:
    """Evidence of the work (a photo of the repaired lamp), kept like the staff's uploads."""
    ticket = await ticket_of(request)
    actor = actor_of(request)
    if not service.allowed(ticket, "note", actor):
        raise web.HTTPForbidden()
    await audit(db(request), current(request), "ticket.media", ticket.number, request,
                community_id=ticket.community_id)
    await store_upload(request, ticket, actor.label, f"/console/partner/tickets/{ticket.id}")


@partner_allowed
@require_staff()
async def media_file(request: web.Request) -> web.StreamResponse:
    ticket = await ticket_of(request)
    item = await media_repo.get(db(request), ticket.id, path_id(request, "media_id"))
    own = await _own_accounts(request, partner_of(request))
    if item is None or not (item.source in media_repo.RESIDENT_SOURCES or item.added_by in own):
        raise web.HTTPNotFound()
    return await media.serve(state_of(request).services, item, download=request.query.get("download") == "1")


# ---- API -----------------------------------------------------------------------------------------------------

@partner_allowed
@require_staff()
async def api_list(request: web.Request) -> web.Response:
    user, tickets = current(request), await handed(request)
    named = await names(db(request), tickets)
    return json_response({"total": len(tickets), "tickets": [row(t, user.now, named) for t in tickets]})


@partner_allowed
@require_staff()
async def api_one(request: web.Request) -> web.Response:
    return json_response(await partner_detail(request, await ticket_of(request)))


@partner_allowed
@require_staff()
async def api_action(request: web.Request) -> web.Response:
    ticket = await ticket_of(request)
    action = request.match_info["action"]
    if action not in PARTNER_ACTIONS:
        return json_error(404, "未知的操作")
    said = await _act(request, ticket, action, await read_json(request))
    return json_response({"message": said, "ticket": await partner_detail(request, ticket)})
