"""Fixtures for the sandbox tests: a sandbox app on loopback with a controllable clock and seeded randomness."""
from __future__ import annotations

import random

import pytest

from bot.sandbox import create_sandbox_app
from bot.settings import Settings

APPID = Settings().wechat_appid
SECRET = Settings().wechat_secret
T0 = 1_700_000_000.0


class FakeClock:
    def __init__(self, now: float = T0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_sandbox(aiohttp_client, clock):
    """Start a sandbox (options as create_sandbox_app) and return a test client for it."""

    async def make(**kw):
        kw.setdefault("clock", clock)
        kw.setdefault("rng", random.Random(7))
        return await aiohttp_client(create_sandbox_app(APPID, SECRET, **kw))

    return make


@pytest.fixture
async def sb(make_sandbox):
    return await make_sandbox()


@pytest.fixture
def call(sb):
    """POST/GET a WeChat endpoint of the sandbox with a valid stable token; returns the JSON answer."""

    async def do(path: str, body: dict | None = None, **params):
        if "access_token" not in params:
            resp = await sb.post("/cgi-bin/stable_token", json={"grant_type": "client_credential", "appid": APPID,
                                                                "secret": SECRET})
            params["access_token"] = (await resp.json())["access_token"]
        if body is None:
            resp = await sb.get(path, params=params)
        else:
            resp = await sb.post(path, json=body, params=params)
        assert resp.status == 200
        return await resp.json()

    return do


@pytest.fixture
def interact(sb):
    """Tell the sandbox a user interacted (message / click / subscribe / scan / unsubscribe)."""

    async def do(openid: str, kind: str, at: float | None = None) -> dict:
        body = {"openid": openid, "kind": kind}
        if at is not None:
            body["at"] = at
        resp = await sb.post("/sandbox/interactions", json=body)
        assert resp.status == 200, await resp.text()
        return await resp.json()

    return do
