"""Hot reload in every running server: watch the knowledge-base generation in the database and swap in the
new knowledge base (validated first; a bad one keeps the old) when `linli kb reload` or the console bumps it."""
from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.context import Services
from knowledge import KnowledgeBaseError
from storage.repositories import policy_qa as repo

log = logging.getLogger("linli.policy_qa.reload")
POLL_SECONDS = 10.0


class ReloadWatcher:
    def __init__(self, services: Services, poll: float = POLL_SECONDS):
        self.services, self.poll = services, poll
        self.seen: int | None = None

    async def check(self) -> bool:
        """Reload when the generation moved (or, at start, when a custom directory is configured)."""
        async with self.services.db.reading() as session:
            generation, directory = await repo.generation(session)
        previous, self.seen = self.seen, generation
        if previous is None and directory is None:  # at start the bundled knowledge base is already loaded
            return False
        if previous is not None and generation == previous:
            return False
        holder = self.services.knowledge
        try:
            await asyncio.get_running_loop().run_in_executor(None, holder.reload, directory)
        except KnowledgeBaseError as exc:
            log.error("knowledge base reload failed, keeping the current one: %d problems", len(exc.problems))
            return False
        log.info("knowledge base reloaded (generation %d, %s, %d entries)", generation, directory or "bundled", len(holder.current))
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Check now and every `poll` seconds until `stop` is set; stopping waits for a check in progress,
        so no connection is abandoned mid-transaction."""
        while not stop.is_set():
            try:
                await self.check()
            except Exception:  # database away: try again next round
                log.exception("checking the knowledge base generation failed")
            try:
                await asyncio.wait_for(stop.wait(), self.poll)
            except asyncio.TimeoutError:
                pass


def background(services: Services):
    async def ctx(app: web.Application):
        stop = asyncio.Event()
        task = asyncio.create_task(ReloadWatcher(services).run(stop), name="kb-reload-watcher")
        yield
        stop.set()
        await asyncio.gather(task, return_exceptions=True)

    return ctx
