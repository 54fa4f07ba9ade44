"""Residents: search inside the jurisdiction (community, status, building/room/estate), a resident's page, and
undoing a wrong binding. Openids are never shown: staff see the anonymous reference."""
from __future__ import annotations

from aiohttp import web

from handlers.console import queries
from handlers.console.audit import audit
from handlers.console.guard import current, db, require_community, require_staff
from handlers.console.render import Page, flash, page_number, render, see_other
from handlers.console.toolkit import path_id

PAGE_SIZE = 50


def community_param(request: web.Request, name: str = "community") -> int | None:
    """The optional community filter; 403 when it lies outside the caller's jurisdiction."""
    raw = request.query.get(name, "")
    if not raw:
        return None
    try:
        community_id = int(raw)
    except ValueError:
        raise web.HTTPBadRequest(reason="community") from None
    require_community(request, community_id)
    return community_id


def filters(request: web.Request) -> dict:
    status = request.query.get("status", "all")
    return {"community_id": community_param(request),
            "status": status if status in queries.STATUSES else "all",
            "q": request.query.get("q", "").strip()[:64]}


async def search(request: web.Request, size: int = PAGE_SIZE) -> tuple[Page, dict]:
    user, wanted = current(request), filters(request)
    number = page_number(request)
    rows, total = await queries.search_residents(db(request), user.scope, now=user.now, offset=(number - 1) * size,
                                                 limit=size, **wanted)
    if wanted["q"]:
        await audit(db(request), user, "resident.search", wanted["q"], request, community_id=wanted["community_id"])
    return Page(rows, number, size, total), wanted


@require_staff()
async def residents_page(request: web.Request) -> web.Response:
    page, wanted = await search(request)
    choices = await queries.communities(db(request), current(request).scope)
    return render(request, "residents.html", title="居民", page=page, wanted=wanted, choices=choices,
                  statuses=queries.STATUSES)


async def _resident(request: web.Request):
    found = await queries.resident_in_scope(db(request), current(request).scope, path_id(request, "resident_id"))
    if found is None:  # missing and outside the jurisdiction look the same
        raise web.HTTPNotFound()
    return found


@require_staff()
async def resident_page(request: web.Request) -> web.Response:
    resident, community, estate = await _resident(request)
    return render(request, "resident.html", title="居民详情", resident=resident, community=community, estate=estate)


@require_staff()
async def resident_unbind(request: web.Request) -> web.Response:
    resident, community, _ = await _resident(request)
    community_id = resident.community_id
    queries.unbind(resident)
    await audit(db(request), current(request), "resident.unbind", f"居民 {resident.ref[:8]}（{community or '-'}）",
                request, community_id=community_id)
    await flash(request, "已解除该居民的社区绑定，居民可在公众号中重新绑定。")
    raise see_other("/console/residents")


def register(registry) -> None:
    registry.page("GET", "/residents", residents_page)
    registry.page("GET", "/residents/{resident_id}", resident_page)
    registry.page("POST", "/residents/{resident_id}/unbind", resident_unbind)
