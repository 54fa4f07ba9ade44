"""The console's app-lifetime state (one object under the `CONSOLE` app key) and a small TTL cache.

The cache is single-flight: when many staff open the dashboard at once, one of them computes a panel and the
others wait for that result instead of running the same query a hundred times.

It can also serve stale values while revalidating: a caller that passes `refresh` (a computation that brings
its own database session, so it can outlive the request) gets an expired value at once, until it is
`STALE_FACTOR` lifetimes old (no figure is ever more than twice its cache time old), while the value is
recomputed in the background, one refresh at a time per cache.
`forget(match)` drops the values whose key matches (after the data under them changed); a computation that started
before the forget does not store what it read.
Without this, every jurisdiction's panels expired together and were recomputed inside the requests of
whoever came next: a burst of queries that stalled the event loop (the dashboard's p99).
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterable

import jinja2
from aiohttp import web

from bot.context import Services
from handlers.console.registry import ConsoleRegistry

SCOPE_SECONDS = 60.0  # how long a jurisdiction's community ids are reused (the org tree rarely changes)
STALE_FACTOR = 2  # an expired value may be served, while it is refreshed, until it is this many lifetimes old

log = logging.getLogger("linli.console.cache")


class TTLCache:
    def __init__(self, max_entries: int = 4096, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._values: dict[Any, tuple[float, Any]] = {}
        self._locks: dict[Any, asyncio.Lock] = {}
        self._refreshing: dict[Any, asyncio.Task] = {}
        self._one_refresh_at_a_time = asyncio.Lock()
        self._generation = 0  # bumped by forget/clear: a value computed across a bump is not stored
        self.max_entries = max_entries

    async def get_or_compute(self, key: Any, seconds: float, compute: Callable[[], Awaitable[Any]], *,
                             refresh: Callable[[], Awaitable[Any]] | None = None) -> Any:
        """The cached value of `key`, or `compute()`'s (single-flight) when there is none or it is too old.
        With `refresh`, an expired value younger than STALE_FACTOR lifetimes is returned as it is and
        `refresh()` replaces it in the background."""
        if seconds <= 0:
            return await compute()
        hit = self._fresh(key)
        if hit is not None:
            return hit[0]
        entry = self._values.get(key)
        if refresh is not None and entry is not None and self.clock() < entry[0] + seconds * (STALE_FACTOR - 1):
            self._revalidate(key, seconds, refresh)
            return entry[1]
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            hit = self._fresh(key)
            if hit is not None:
                return hit[0]
            generation = self._generation
            value = await compute()
            self._store(key, seconds, value, generation)
            return value

    def _store(self, key: Any, seconds: float, value: Any, generation: int) -> None:
        if generation != self._generation:  # forgotten while it was computed: it may predate the change
            return
        if len(self._values) >= self.max_entries and key not in self._values:
            self._values.clear()
        self._values[key] = (self.clock() + seconds, value)

    def _revalidate(self, key: Any, seconds: float, refresh: Callable[[], Awaitable[Any]]) -> None:
        if key in self._refreshing:
            return

        async def run() -> None:
            try:
                async with self._one_refresh_at_a_time:
                    if self._fresh(key) is None:  # a request may have recomputed it meanwhile
                        generation = self._generation
                        self._store(key, seconds, await refresh(), generation)
            except asyncio.CancelledError:
                raise
            except Exception:  # the stale value stays; once too old, a request computes it itself
                log.exception("refreshing a cached console value failed (%r)", key)
            finally:
                self._refreshing.pop(key, None)

        self._refreshing[key] = asyncio.get_running_loop().create_task(run(), name=f"console-refresh:{key!r}")

    def _fresh(self, key: Any) -> tuple[Any] | None:
        entry = self._values.get(key)
        if entry is not None and entry[0] > self.clock():
            return (entry[1],)
        return None

    def clear(self) -> None:
        """Forget every value; refreshes under way are cancelled (they may hold what was just invalidated)."""
        self.forget(lambda key: True)

    def forget(self, match: Callable[[Any], bool]) -> None:
        """Forget the values whose key matches; their refreshes under way are cancelled, and computations that
        started before this call do not store what they read."""
        self._generation += 1
        for key in [key for key in self._values if match(key)]:
            del self._values[key]
        for key, task in list(self._refreshing.items()):
            if match(key):
                task.cancel()

    async def close(self) -> None:
        """Cancel refreshes still running (app shutdown)."""
        await asyncio.gather(*self._cancel_refreshes(), return_exceptions=True)

    def _cancel_refreshes(self) -> list[asyncio.Task]:
        tasks = list(self._refreshing.values())
        for task in tasks:
            task.cancel()
        return tasks


@dataclass
class ConsoleState:
    services: Services
    registry: ConsoleRegistry
    templates: jinja2.Environment
    secure_cookies: bool
    trusted_proxies: tuple = ()  # networks whose X-Forwarded-For is believed (bot/forwarded.py)
    panels: TTLCache = field(default_factory=TTLCache)
    scopes: TTLCache = field(default_factory=TTLCache)
    openapi: dict = field(default_factory=dict)

    async def close(self) -> None:
        await self.panels.close()
        await self.scopes.close()

    async def read_cached(self, cache: TTLCache, key: Any, seconds: float, session,
                          compute: Callable[[Any], Awaitable[Any]]) -> Any:
        """`compute(session)` cached in `cache`; once expired it is served while `compute` runs again in the
        background on a read session of its own (the request's will be gone by then)."""
        async def refresh():
            async with self.services.db.reading() as own:
                return await compute(own)

        return await cache.get_or_compute(key, seconds, lambda: compute(session), refresh=refresh)

    def after_actions(self, actions: Iterable[str]) -> None:
        """A request committed these audited actions: drop the panels declared `fresh_after` any of them."""
        stale = {panel.key for panel in self.registry.panels for action in actions
                 if any(action == p or action.startswith(p + ".") for p in panel.fresh_after)}
        if stale:
            self.panels.forget(lambda key: isinstance(key, tuple) and key[0] in stale)

    def forget_org(self) -> None:
        """Drop cached jurisdictions and panels after the organisation tree changed."""
        self.scopes.clear()
        self.panels.clear()


CONSOLE = web.AppKey("linli.console", ConsoleState)


def state_of(request: web.Request) -> ConsoleState:
    return request.config_dict[CONSOLE]
