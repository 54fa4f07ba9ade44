"""The sandbox as one object stored on the aiohttp app: state, faults, callback pusher and request counters."""
from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Coroutine

from aiohttp import web

from bot.sandbox.callback import CallbackPusher
from bot.sandbox.faults import FaultBook
from bot.sandbox.state import SandboxState


@dataclass
class Sandbox:
    state: SandboxState
    faults: FaultBook
    pusher: CallbackPusher
    requests: Counter = field(default_factory=Counter)
    tasks: set = field(default_factory=set)

    def track(self, coro: Coroutine) -> asyncio.Task:
        """Run a request's work as a task kept until done (its exception is read, not lost)."""
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled():
            task.exception()

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*list(self.tasks), return_exceptions=True)
        await self.pusher.close()

    def reset(self) -> None:
        self.state.reset()
        self.faults.clear()
        self.requests.clear()

    def stats(self) -> dict:
        return {**self.state.stats(), "requests": dict(self.requests), "faults_fired": self.faults.fired_total,
                "faults_active": len(self.faults.faults), "callbacks": dict(self.pusher.results)}


SANDBOX = web.AppKey("sandbox", Sandbox)
