"""The web glue every console page and API route shares, written once.

- `path_id(request, name)`: the integer id in the path; a malformed or out-of-range id is a 404 (an id that
  cannot exist), never a 500 (`²`, `٣`, 0 and 2^31 and above are all refused the same way).
- `visible(request, name, load, community=…)`: the object named by the path, loaded by `load(session, id)`;
  404 when it does not exist or lies outside the caller's jurisdiction (an id tells nothing either way).
- `paging(request)`: `limit`/`offset` for API lists (`page` for pages: `render.page_number`), bounded.
- `query_choice(request, name, choices)`: a filter value from the query string, or None when absent/unknown.

Request bodies and parameters of the API are validated against the route's OpenAPI schema before the handler
runs (`handlers/console/validation.py`), and services raise `bot.errors.DomainError`, which the console's
middleware turns into the response: handlers are left with the work itself.
"""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Collection, Iterable, TypeVar

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import BadRequest
from handlers.console.authz import can_see_community
from handlers.console.guard import current, db

T = TypeVar("T")
ID = re.compile(r"[0-9]{1,10}")  # ASCII digits only
MAX_ID = 2**31 - 1  # the rows addressed by path are INTEGER keys: a larger id names nothing (PostgreSQL refuses it)
MAX_OFFSET = 10**9

Loader = Callable[[AsyncSession, int], Awaitable["T | None"]]
CommunityOf = Callable[[Any], "int | None | Iterable[int | None] | Awaitable[Iterable[int | None]]"]


def path_id(request: web.Request, name: str) -> int:
    """The id in path segment `name`; 404 unless it is ASCII digits naming an INTEGER key (1 to 2^31 − 1)."""
    raw = request.match_info.get(name, "")
    if not ID.fullmatch(raw) or not 0 < int(raw) <= MAX_ID:
        raise web.HTTPNotFound()
    return int(raw)


async def visible(request: web.Request, name: str, load: Loader, *, community: CommunityOf | None = None):
    """The object whose id is in path segment `name`, or 404 when it is absent or outside the jurisdiction.

    `community(obj)` gives the community the object belongs to (or several: visible when the caller sees any of
    them; may be a coroutine); None means the loader already applied the jurisdiction."""
    found = await load(db(request), path_id(request, name))
    if found is None:
        raise web.HTTPNotFound()
    if community is not None:
        where = community(found)
        if inspect.isawaitable(where):
            where = await where
        places = where if isinstance(where, Collection) and not isinstance(where, (str, bytes)) else [where]
        if not any(can_see_community(current(request).scope, c) for c in places):
            raise web.HTTPNotFound()
    return found


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int


def paging(request: web.Request, *, default: int = 50, maximum: int = 200) -> Paging:
    """`limit` (1–maximum, default `default`) and `offset` (≥ 0) from the query; 400 when not integers."""
    try:
        limit = int(request.query.get("limit", default))
        offset = int(request.query.get("offset", 0))
    except ValueError:
        raise BadRequest("limit 和 offset 应为整数") from None
    if not 0 <= offset <= MAX_OFFSET:
        raise BadRequest(f"offset 应在 0–{MAX_OFFSET} 之间")
    return Paging(min(maximum, max(1, limit)), offset)


def query_choice(request: web.Request, name: str, choices: Collection[str]) -> str | None:
    """The query parameter `name` when it is one of `choices`, else None (an unknown filter shows everything)."""
    value = request.query.get(name)
    return value if value in choices else None
