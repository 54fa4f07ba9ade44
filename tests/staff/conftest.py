"""Staff-in-the-loop fixtures: the whole linli (every feature: chat and console on one server) against the
sandbox, the demo organisation, a fixed clock on a working day (Thursday 2026-11-26, 10:00 Beijing time), and a
console client that logs in as a staff member."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.sandbox.hub import SANDBOX
from storage.models import Staff
from storage.repositories import staff_link as repo
from tests.support import TEST_PASSWORD, fixed_clock

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)  # Thursday 10:00 in Beijing
CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


@dataclass
class Loop:
    bot: object
    sandbox: object
    clock: object
    aiohttp_client: object

    @property
    def services(self):
        return self.bot.services

    def advance(self, **delta) -> None:
        self.clock.state["now"] = self.clock.state["now"] + timedelta(**delta)

    async def console(self, username: str):
        """A browser logged in to the console as `username`; returns (client, csrf)."""
        client = await self.aiohttp_client(self.bot.server)
        page = await client.get("/console/login")
        nonce = CSRF.search(await page.text()).group(1)
        resp = await client.post("/console/login", data={"username": username, "password": TEST_PASSWORD,
                                                         "_csrf": nonce}, allow_redirects=False)
        assert resp.status == 303, await resp.text()
        home = await client.get("/console/account/wechat")
        assert home.status == 200
        return client, CSRF.search(await home.text()).group(1)

    async def bearer(self, username: str) -> dict[str, str]:
        from storage.repositories import staff as staff_repo
        async with self.services.db.transaction() as session:
            staff = (await session.execute(select(Staff).where(Staff.username == username))).scalar_one()
            _, raw = await staff_repo.create_api_token(session, staff.id, "test", self.clock.state["now"])
        return {"Authorization": f"Bearer {raw}"}

    async def staff(self, username: str) -> Staff:
        async with self.services.db.transaction() as session:
            return (await session.execute(select(Staff).where(Staff.username == username))).scalar_one()

    async def link(self, username: str, openid: str) -> None:
        """Link directly (the linking itself is tested through chat and console in test_linking)."""
        await self.bot.say(openid, "你好")  # a follower row, as any WeChat user who wrote to the account
        async with self.services.db.transaction() as session:
            staff = (await session.execute(select(Staff).where(Staff.username == username))).scalar_one()
            await repo.link(session, staff, openid, self.clock.state["now"])

    def last_qr_scene(self) -> str:
        scenes = self.sandbox.app[SANDBOX].state.qr_scenes
        return list(scenes.values())[-1]["scene"]


@pytest.fixture
def clock():
    return fixed_clock(NOW)


@pytest.fixture
async def loop(start_bot, settings, sandbox, clock, aiohttp_client) -> Loop:
    bot = await start_bot(settings, clock=clock)
    return Loop(bot, sandbox, clock, aiohttp_client)
