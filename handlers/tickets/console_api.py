"""JSON API for tickets (Bearer token; documented in openapi.yaml):

    GET  /api/v1/tickets                               filters: status, level, category, community, overdue, q
    GET  /api/v1/tickets/stats                         figures for ?since=&until=&community= (format=csv: CSV)
    GET  /api/v1/tickets/{ticket_id}                   detail: timeline, mediation records, similar, allowed actions
    POST /api/v1/tickets/{ticket_id}/actions/{action}  sign, assign, reply, note, ask, resolve, escalate, return,
                                                       reject, close, link, mediation, chase
    POST /api/v1/tickets/{ticket_id}/public-summary    {"summary": "..."}: the text Open311 publishes ("" withdraws)
"""
from __future__ import annotations

from aiohttp import web

from handlers.console.api import json_error, json_response, read_json
from handlers.console.audit import audit
from handlers.console.guard import current, db, require_staff
from handlers.console.state import state_of
from handlers.console.toolkit import paging
from handlers.tickets import publication, service, stats
from handlers.tickets.console_common import actor_of, detail, names, params_for, summary, ticket_of
from handlers.tickets.console_pages import filters, listing_stmt, report_for, stats_csv
from storage.repositories import tickets as repo


@require_staff()
async def api_list(request: web.Request) -> web.Response:
    page = paging(request)
    session, user = db(request), current(request)
    stmt = listing_stmt(request, filters(request))
    total = (await session.execute(repo.count_of(stmt))).scalar_one()
    rows = list((await session.execute(stmt.limit(page.limit).offset(page.offset))).scalars())
    named = await names(session, rows)
    return json_response({"total": total, "tickets": [summary(t, user.now, named) for t in rows]})


@require_staff()
async def api_one(request: web.Request) -> web.Response:
    ticket = await ticket_of(request)
    settings = state_of(request).services.settings
    return json_response(await detail(db(request), ticket, actor_of(request), current(request).now, settings))


@require_staff()
async def api_action(request: web.Request) -> web.Response:
    ticket, user, session = await ticket_of(request), current(request), db(request)
    action = request.match_info["action"]
    if action not in service.STAFF_ACTIONS:
        return json_error(404, "未知的操作")
    body = await read_json(request)
    params = await params_for(session, action, body)
    said = await service.perform(session, state_of(request).services, ticket, action, actor_of(request),
                                 user.now, **params)
    await audit(session, user, f"ticket.{action}", ticket.number, request, community_id=ticket.community_id)
    settings = state_of(request).services.settings
    return json_response({"message": said,
                          "ticket": await detail(session, ticket, actor_of(request), user.now, settings)})


@require_staff()
async def api_public_summary(request: web.Request) -> web.Response:
    ticket, user, session = await ticket_of(request), current(request), db(request)
    body = await read_json(request)
    summary = body.get("summary", "") if isinstance(body, dict) else None
    if not isinstance(summary, str):
        return json_error(400, "summary 应为字符串（空字符串表示撤回）")
    try:
        said = await publication.set_summary(session, ticket, summary, actor_of(request), user.now)
    except service.TicketError as exc:
        return json_error(exc.status, exc.message)
    await audit(session, user, "ticket.public_summary", ticket.number, request, community_id=ticket.community_id)
    settings = state_of(request).services.settings
    return json_response({"message": said,
                          "ticket": await detail(session, ticket, actor_of(request), user.now, settings)})


@require_staff()
async def api_stats(request: web.Request) -> web.StreamResponse:
    try:
        rep, since, until, community = await report_for(request)
    except web.HTTPBadRequest as exc:
        return json_error(400, exc.reason)
    except web.HTTPForbidden:
        return json_error(403, "该社区不在您的辖区内")
    if request.query.get("format") == "csv":
        return stats_csv(stats.report_csv(rep), since, until)
    return json_response({"since": since.isoformat(), "until": until.isoformat(), "community_id": community,
                          **stats.report_json(rep)})
