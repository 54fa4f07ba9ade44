"""Fixtures for the outbound client and token store tests: the real sandbox on loopback, a client pointed at it
with fast retries, and worker-like session factories over the shared `db_url` database."""
from __future__ import annotations

import random

import pytest

from bot.outbound import RetryPolicy, WeChatClient
from bot.sandbox import create_sandbox_app
from bot.settings import Settings
from storage.db import create_engine, session_factory

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02, jitter=0.5)


@pytest.fixture
async def sandbox(aiohttp_server):
    s = Settings()
    return await aiohttp_server(create_sandbox_app(s.wechat_appid, s.wechat_secret, rng=random.Random(3),
                                                   template_quota=3))


@pytest.fixture
async def control(aiohttp_client, sandbox):
    """A test client for the sandbox's control API (`/sandbox/...`)."""
    return await aiohttp_client(sandbox)


@pytest.fixture
def settings(sandbox) -> Settings:
    return Settings(wechat_api_base=str(sandbox.make_url("/")).rstrip("/"), http_timeout=0.3)


@pytest.fixture
async def client(settings):
    wechat = WeChatClient(settings, retry=FAST)
    yield wechat
    await wechat.close()


@pytest.fixture
def fault(control):
    async def add(**spec) -> None:
        resp = await control.post("/sandbox/faults", json=spec)
        assert resp.status == 200, await resp.text()

    return add


@pytest.fixture
def interact(control):
    async def do(openid: str, kind: str = "message") -> None:
        resp = await control.post("/sandbox/interactions", json={"openid": openid, "kind": kind})
        assert resp.status == 200, await resp.text()

    return do


@pytest.fixture
def stats(control):
    async def get() -> dict:
        return await (await control.get("/sandbox/stats")).json()

    return get


@pytest.fixture
async def make_sessions(db_url):
    """Session factories on separate engines over one database (the shared `db_url` fixture: SQLite and
    PostgreSQL); each stands for a worker process."""
    engines = []

    def make():
        engine = create_engine(db_url)
        engines.append(engine)
        return session_factory(engine)

    yield make
    for engine in engines:
        await engine.dispose()
