"""What the console pages and the JSON API both need: the request's view (kind, period, area inside the
jurisdiction, configuration), the board of that view, one subject's page data (card, sources, trend,
publications), the JSON shapes, and turning our errors into a Chinese answer with the right status.
"""
from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot.errors import DomainError
from handlers.console.audit import audit
from handlers.console.guard import current, db
from handlers.console.security import SAFE_METHODS
from handlers.console.state import state_of
from handlers.console.toolkit import path_id
from handlers.scorecards import access, publish, queries, service
from handlers.scorecards.access import Area, BadRequest
from handlers.scorecards.config import ScorecardConfig, ScorecardConfigError, config_of
from handlers.scorecards.figures import FLAG_LABELS, Card, EstateCard, component_dict, part_dict
from handlers.scorecards.periods import Period


class Problem(DomainError):
    """An answer other than success, with a Chinese message: 400 bad parameter, 403 outside the jurisdiction,
    404 nothing in view, 422 refused input, 503 bad configuration (the console's middleware renders it)."""

    def __init__(self, status: int, message: str):
        super().__init__(message, status)


@dataclass(frozen=True)
class View:
    kind: str
    period: Period
    area: Area
    config: ScorecardConfig

    def query(self, **extra) -> str:
        from urllib.parse import urlencode

        values = {"kind": self.kind, "period": self.period.key, **({"area": self.area.key} if self.area.key else {})}
        return urlencode({**values, **extra})


def config_for(request: web.Request) -> ScorecardConfig:
    try:
        return config_of(state_of(request).services)
    except ScorecardConfigError as exc:
        raise Problem(503, f"评分配置有误，请管理员检查：{exc}") from None


async def view_of(request: web.Request, fields: dict | None = None, kind: str | None = None) -> View:
    """The view from the query string (or submitted `fields`); Problem when unusable."""
    q = fields if fields is not None else request.query
    user = current(request)
    try:
        chosen = access.kind_of(kind or q.get("kind"))
        period = access.period_of(q.get("period"), user.now)
        area = await access.area_of(db(request), user.scope, q.get("area"))
    except BadRequest as exc:
        raise Problem(400, str(exc)) from None
    except PermissionError:
        raise Problem(403, "所选范围不在您的辖区内") from None
    return View(chosen, period, area, config_for(request))


def store_for(request: web.Request):
    """How a page keeps the totals of settled campaigns it had to aggregate: console reads run in a read-only
    transaction, so a GET writes them in a short transaction of its own. A POST already holds the write
    transaction (and, on SQLite, the write lock): it aggregates live and stores nothing."""
    if request.method not in SAFE_METHODS:
        return None
    services = state_of(request).services

    async def store(rows: list[dict]) -> None:
        async with services.db.transaction() as writer:
            await queries.store_totals(writer, rows)

    return store


async def audit_read(request: web.Request, action: str, target: str) -> None:
    """Audit an export: a GET reads in a read-only transaction, so its entry is written in one of its own."""
    if request.method not in SAFE_METHODS:
        await audit(db(request), current(request), action, target, request)
        return
    async with state_of(request).services.db.transaction() as writer:
        await audit(writer, current(request), action, target, request)


async def board_of(request: web.Request, view: View, *, with_previous: bool = True, detail: bool = False
                   ) -> service.Board:
    return await service.build(db(request), view.kind, view.period, view.area.communities, view.config,
                               current(request).now, with_previous=with_previous, detail=detail,
                               store=store_for(request))


def subject_id_of(request: web.Request) -> int:
    return path_id(request, "subject_id")


async def subject_page(request: web.Request, view: View, subject_id: int, *, ticket_limit: int | None = 300
                       ) -> dict:
    """Everything one subject's page shows; Problem(404) when it has nothing inside the view."""
    session, now = db(request), current(request).now
    board = await board_of(request, view, detail=True)
    card = board.card(subject_id)
    if card is None:
        raise Problem(404, "该单位在您的辖区内没有在管的小区或相关数据")
    sources = await service.sources(session, board, card, view.area.communities, view.config, now, ticket_limit)
    points = await service.trend(session, view.kind, subject_id, view.period, view.area.communities, view.config,
                                 now, card, store_for(request))
    pubs = await publish.listing(session, view.area.communities, kind=view.kind, subject_id=subject_id, limit=20)
    return {"board": board, "card": card, "sources": sources, "trend": points, "publications": pubs}


def estate_json(row: EstateCard) -> dict:
    return {"estate_id": row.estate_id, "estate": row.estate, "community": row.community, "score": row.score,
            "flags": row.flags, **part_dict(row.part)}


def card_json(card: Card, estates: bool = True) -> dict:
    out = {"subject_id": card.subject_id, "code": card.subject_code, "name": card.subject_name, "rank": card.rank,
           "ranked_of": card.ranked_of, "score": card.score, "previous_score": card.previous_score,
           "change": card.change, "flags": card.flags, "flag_labels": [FLAG_LABELS[f] for f in card.flags],
           "components": [component_dict(c) for c in card.components], **part_dict(card.overall),
           "partner_handling": card.partner.as_dict(),
           "own_disclosure": card.own_disclosure.as_dict() if card.kind == "property" else None}
    if estates:
        out["estates"] = [estate_json(r) for r in card.estates]
    return out


def view_json(view: View) -> dict:
    return {"kind": view.kind, "period": view.period.key, "period_label": view.period.label,
            "area": view.area.key, "area_label": view.area.label}


def publication_json(pub) -> dict:
    return {"id": pub.id, "kind": pub.kind, "subject_id": pub.subject_id, "subject_name": pub.subject_name,
            "period": pub.period, "area": pub.area_label, "groups": list(pub.fields),
            "published_by": pub.published_by, "published_at": pub.published_at, "withdrawn_at": pub.withdrawn_at,
            "withdrawn_by": pub.withdrawn_by}
