"""The console's app-lifetime state (one object under the `CONSOLE` app key) and a small TTL cache.

The cache is single-flight: when many staff open the dashboard at once, one of them computes a panel and the
others wait for that result instead of running the same query a hundred times.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import jinja2
from aiohttp import web

from bot.context import Services
from handlers.console.registry import ConsoleRegistry

SCOPE_SECONDS = 60.0  # how long a jurisdiction's community ids are reused (the org tree rarely changes)


class TTLCache:
    def __init__(self, max_entries: int = 4096):
        self._values: dict[Any, tuple[float, Any]] = {}
        self._locks: dict[Any, asyncio.Lock] = {}
        self.max_entries = max_entries

    async def get_or_compute(self, key: Any, seconds: float, compute: Callable[[], Awaitable[Any]]) -> Any:
        if seconds <= 0:
            return await compute()
        hit = self._fresh(key)
        if hit is not None:
            return hit[0]
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            hit = self._fresh(key)
            if hit is not None:
                return hit[0]
            value = await compute()
            if len(self._values) >= self.max_entries:
                self._values.clear()
            self._values[key] = (time.monotonic() + seconds, value)
            return value

    def _fresh(self, key: Any) -> tuple[Any] | None:
        entry = self._values.get(key)
        if entry is not None and entry[0] > time.monotonic():
            return (entry[1],)
        return None

    def clear(self) -> None:
        self._values.clear()


@dataclass
class ConsoleState:
    services: Services
    registry: ConsoleRegistry
    templates: jinja2.Environment
    secure_cookies: bool
    trust_proxy: bool
    panels: TTLCache = field(default_factory=TTLCache)
    scopes: TTLCache = field(default_factory=TTLCache)
    openapi: dict = field(default_factory=dict)

    def forget_org(self) -> None:
        """Drop cached jurisdictions and panels after the organisation tree changed."""
        self.scopes.clear()
        self.panels.clear()


CONSOLE = web.AppKey("linli.console", ConsoleState)


def state_of(request: web.Request) -> ConsoleState:
    return request.config_dict[CONSOLE]
