"""End-to-end fixtures (imported by tests/conftest.py): the sandbox and linli, each a real aiohttp server on
loopback, and a `Bot` that talks to linli as WeChat does."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import update

from bot.app import build_services, create_app
from bot.context import Services
from bot.sandbox.server import create_sandbox_app
from bot.settings import Settings
from bot.simulator import Response, WeChatSimulator
from knowledge import KnowledgeBase, KnowledgeHolder
from storage.models import Staff
from storage.passwords import hash_password
from storage.repositories.org import load_demo

# Every staff account of a test world gets this password (`ready_staff`): the demo accounts' own password is
# published, so they must change it at first login (tests/console/test_credentials.py covers that).
TEST_PASSWORD = "test-world-Passw0rd"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OLD_AES_KEY = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg"
BASE = Settings()


@functools.lru_cache(maxsize=1)
def test_password_hash() -> str:
    return hash_password(TEST_PASSWORD)


@functools.lru_cache(maxsize=1)
def bundled_knowledge() -> KnowledgeBase:
    """The bundled knowledge base, loaded once per test process (~0.3 s each time): a KnowledgeBase is immutable
    and safe to share; every bot gets its own holder, so a test that reloads swaps only its own."""
    return KnowledgeBase.load()


async def ready_staff(session) -> None:
    """Make every staff account an ordinary one for tests: TEST_PASSWORD, no forced password change."""
    await session.execute(update(Staff).values(password_hash=test_password_hash(), must_change_password=False))


@pytest.fixture
async def sandbox(aiohttp_server):
    app = create_sandbox_app(appid=BASE.wechat_appid, secret=BASE.wechat_secret, token=BASE.wechat_token)
    return await aiohttp_server(app)


@pytest.fixture
def settings(db_url, sandbox) -> Settings:
    return BASE.with_(database_url=db_url, wechat_api_base=str(sandbox.make_url("")).rstrip("/"), http_timeout=2.0)


@dataclass
class Bot:
    """A running linli plus WeChat's side of the conversation."""

    sim: WeChatSimulator
    services: Services
    server: object

    async def say(self, openid: str, text: str) -> str | None:
        response = await self.sim.text(openid, text)
        assert response.status == 200, response.body
        return response.text

    async def dialog(self, openid: str, turns: list[tuple[str, str]]) -> None:
        """Zulip-style transcript: each (what the resident says, a fragment the reply must contain)."""
        for said, expected in turns:
            reply = await self.say(openid, said)
            assert reply is not None and expected in reply, f"{said!r} → {reply!r} (expected {expected!r})"


@pytest.fixture
async def start_bot(aiohttp_server, sandbox):
    """Start linli with the given settings (and optional clock); returns a Bot."""
    started = []

    async def start(settings: Settings, *, aes_key: str | None = None, clock=None, demo: bool = True, **kw) -> Bot:
        services = build_services(settings, clock=clock, knowledge=KnowledgeHolder(bundled_knowledge()))
        if demo:
            async with services.db.transaction() as session:
                await load_demo(session)
                await ready_staff(session)
        app = create_app(settings, services=services, **kw)
        server = await aiohttp_server(app)
        sim = WeChatSimulator(
            str(server.make_url("/wechat")), settings.wechat_token, settings.wechat_appid,
            aes_key, sandbox_url=str(sandbox.make_url("")),
        )
        started.append(sim)
        return Bot(sim, services, server)

    yield start
    for sim in started:
        await sim.close()


@pytest.fixture
async def bot(start_bot, settings) -> Bot:
    return await start_bot(settings)


def fixed_clock(moment: datetime):
    state = {"now": moment}

    def clock() -> datetime:
        return state["now"]

    clock.state = state  # type: ignore[attr-defined]
    return clock


__all__ = ["AES_KEY", "OLD_AES_KEY", "Bot", "Response", "fixed_clock"]
