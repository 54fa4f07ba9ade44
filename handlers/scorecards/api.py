"""JSON API under /api/v1/scorecards (Bearer tokens), documented in openapi.yaml beside this file.

    GET    /scorecards?kind=&period=&area=[&format=csv]      ranked cards of the jurisdiction (or the CSV export)
    GET    /scorecards/{kind}/{subject_id}?period=&area=     one card with its sources, trend and publications
    POST   /scorecards/{kind}/{subject_id}/publish           {"period", "area", "groups": [...]} (street and above)
    GET    /scorecards/publications                          publications covering the jurisdiction
    POST   /scorecards/publications/{publication_id}/withdraw
    GET    /scorecards/disclosure-rules                      which disclosures each estate owes
    POST   /scorecards/disclosure-rules                      {"estates": [codes or ids], "category", "frequency",
                                                              "due_day", "effective_from"} (street and above)
    DELETE /scorecards/disclosure-rules/{rule_id}
Errors: {"error", "message"} — 400 bad parameter, 403 outside the jurisdiction or level, 404 nothing in view,
409 already withdrawn, 422 refused input, 503 bad configuration.
"""
from __future__ import annotations

from aiohttp import web

from handlers.console.api import json_error, json_response, read_json
from handlers.console.authz import visible_communities
from handlers.console.guard import current, db, require_staff
from handlers.console.toolkit import path_id
from handlers.scorecards import export, obligations, publish
from handlers.scorecards.console import csv_response, delete_rule, publish_subject, save_rules, withdraw_publication
from handlers.scorecards.disclosures import STATUS_LABELS
from handlers.scorecards.views import (
    Problem,
    audit_read,
    board_of,
    card_json,
    publication_json,
    subject_id_of,
    subject_page,
    view_json,
    view_of,
)


@require_staff()
async def api_board(request: web.Request) -> web.StreamResponse:
    view = await view_of(request)
    board = await board_of(request, view, detail=request.query.get("format") == "csv" or
                           request.query.get("estates") == "1")
    if request.query.get("format") == "csv":
        await audit_read(request, "scorecard.export", f"{view.area.label} {view.period.key} {view.kind}")
        return csv_response(export.board_csv(board), f"scorecards-{view.kind}-{view.period.key}.csv")
    return json_response({**view_json(view), "weights": view.config.weights_for(view.kind),
                          "cards": [card_json(c, estates=request.query.get("estates") == "1")
                                    for c in board.cards]})


def _kind(request: web.Request) -> str:
    kind = request.match_info["kind"]
    if kind not in ("property", "developer"):
        raise Problem(404, "没有这种评议对象")
    return kind


@require_staff()
async def api_subject(request: web.Request) -> web.Response:
    view = await view_of(request, kind=_kind(request))
    data = await subject_page(request, view, subject_id_of(request))
    src = data["sources"]
    names = {e.id: e.name for e in data["board"].estates.values()}
    return json_response({
        **view_json(view), "card": card_json(data["card"]),
        "sources": {
            "campaigns": [{"campaign_id": s.campaign.id, "title": s.campaign.title, "closed_at": s.campaign.closed_at,
                           "estate_id": s.estate_id, "estate": names.get(s.estate_id), "respondents": s.respondents,
                           "eligible": s.eligible, **s.scores.as_dict()} for s in src.campaigns],
            "tickets_total": src.tickets_total,
            "tickets": [{"id": t.id, "number": t.number, "estate_id": t.estate_id, "category": t.category,
                         "status": t.status, "level": t.level, "created_at": t.created_at, "rating": t.rating,
                         "counts": marks} for t, marks in src.tickets],
            "disclosures": [{"estate_id": o.instance.rule.estate_id, "estate": names.get(o.instance.rule.estate_id),
                             "category": o.instance.rule.category, "window_start": o.instance.window_start.isoformat(),
                             "due_day": o.instance.due_day.isoformat(), "status": o.status,
                             "status_label": STATUS_LABELS[o.status], "notice_id": o.notice_id,
                             "published_at": o.published_at} for o in src.disclosures]},
        "trend": [{"period": p.key, "score": c.score if c else None,
                   "survey_rate": c.overall.survey.rate if c else None,
                   "tickets": c.overall.tickets.figures.received if c else 0} for p, c in data["trend"]],
        "publications": [publication_json(p) for p in data["publications"]]})


@require_staff()
async def api_publish(request: web.Request) -> web.Response:
    body = await read_json(request)
    groups = body.get("groups")
    if not isinstance(groups, list):
        return json_error(422, "groups 应为列表，例如 [\"composite\", \"survey\"]")
    pub = await publish_subject(request, {k: body.get(k) for k in ("period", "area")}, [str(g) for g in groups])
    return json_response(publication_json(pub), 201)


@require_staff()
async def api_publications(request: web.Request) -> web.Response:
    scope = current(request).scope
    pubs = await publish.listing(db(request), None if scope.is_admin else visible_communities(scope), limit=200)
    return json_response({"publications": [publication_json(p) for p in pubs]})


@require_staff()
async def api_withdraw(request: web.Request) -> web.Response:
    return json_response(publication_json(await withdraw_publication(request)))


def _communities(request: web.Request):
    scope = current(request).scope
    return None if scope.is_admin else visible_communities(scope)


@require_staff()
async def api_rules(request: web.Request) -> web.Response:
    rows = await obligations.listing(db(request), _communities(request))
    return json_response({"rules": [r.as_dict() for r in rows]})


@require_staff()
async def api_rules_save(request: web.Request) -> web.Response:
    body = await read_json(request)
    refs = body.get("estates")
    if not isinstance(refs, list):
        return json_error(422, "estates 应为小区编码或编号的列表")
    count = await save_rules(request, refs, body)
    rows = await obligations.listing(db(request), _communities(request))
    return json_response({"saved": count, "rules": [r.as_dict() for r in rows]})


@require_staff()
async def api_rule_delete(request: web.Request) -> web.Response:
    await delete_rule(request)
    return json_response({"deleted": path_id(request, "rule_id")})


ROUTES = [("GET", "/scorecards", api_board), ("GET", "/scorecards/publications", api_publications),
          ("POST", "/scorecards/publications/{publication_id}/withdraw", api_withdraw),
          ("GET", "/scorecards/disclosure-rules", api_rules), ("POST", "/scorecards/disclosure-rules", api_rules_save),
          ("DELETE", "/scorecards/disclosure-rules/{rule_id}", api_rule_delete),
          ("GET", "/scorecards/{kind}/{subject_id}", api_subject),
          ("POST", "/scorecards/{kind}/{subject_id}/publish", api_publish)]
