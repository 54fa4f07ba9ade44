"""The shared access-token store: one fetch across workers, lease handling, invalidation without storms."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.outbound import RetryPolicy, WeChatClient, WeChatError
from bot.tokens import DatabaseTokenStore, MemoryTokenStore, TokenUnavailable
from storage.db import unit_of_work
from storage.models import WeChatToken

APPID = "wx5a1d0c0ffee0b0b0"
FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02)


class Clock:
    def __init__(self):
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


async def token_row(sessions) -> WeChatToken:
    async with unit_of_work(sessions) as session:
        return (await session.execute(select(WeChatToken))).scalar_one()


async def test_two_workers_share_one_fetch(settings, make_sessions, fault, stats):
    await fault(endpoint="stable_token", latency=0.2, count=1)  # the refresher is slow: the other must wait
    clients = [WeChatClient.with_database_tokens(settings, make_sessions(), retry=FAST) for _ in range(2)]
    try:
        tokens = await asyncio.gather(*(c.tokens.get() for c in clients for _ in range(3)))
    finally:
        for c in clients:
            await c.close()
    assert len(set(tokens)) == 1
    assert (await stats())["requests"]["/cgi-bin/stable_token"] == 1


async def test_second_worker_reads_the_stored_token(client, make_sessions, stats):
    a = DatabaseTokenStore(make_sessions(), APPID, client.fetch_stable_token)
    b = DatabaseTokenStore(make_sessions(), APPID, client.fetch_stable_token)
    assert await a.get() == await b.get()
    assert (await stats())["tokens_issued"]["stable"] == 1
    row = await token_row(a.sessions)
    assert row.lease_owner is None and row.lease_until is None and row.version == 2


async def test_invalidate_forces_only_while_bad_token_is_stored(client, make_sessions, stats):
    a = DatabaseTokenStore(make_sessions(), APPID, client.fetch_stable_token)
    b = DatabaseTokenStore(make_sessions(), APPID, client.fetch_stable_token)
    old = await a.get()
    assert await b.get() == old
    new = await a.invalidate(old)
    assert new != old
    assert await b.invalidate(old) == new  # b finds a's replacement: no second force refresh
    assert await a.invalidate("some-older-token") == new
    assert (await stats())["tokens_issued"] == {"stable": 2, "stable_force": 1, "token": 0}


async def test_clients_on_one_db_recover_from_revocation_with_one_refresh(settings, make_sessions, control,
                                                                          interact, stats):
    await interact("o_alice")
    a = WeChatClient.with_database_tokens(settings, make_sessions(), retry=FAST)
    b = WeChatClient.with_database_tokens(settings, make_sessions(), retry=FAST)
    try:
        await a.send_text("o_alice", "1")
        await b.send_text("o_alice", "2")
        await control.post("/sandbox/tokens/revoke")
        await asyncio.gather(a.send_text("o_alice", "3"), b.send_text("o_alice", "4"))
    finally:
        await a.close()
        await b.close()
    assert (await stats())["tokens_issued"]["stable_force"] == 1


async def test_memory_copy_is_used_until_near_expiry(client, make_sessions, stats):
    clock = Clock()
    store = DatabaseTokenStore(make_sessions(), APPID, client.fetch_stable_token, clock=clock)
    first = await store.get()
    clock.now += 7200 - 301
    assert await store.get() == first
    clock.now += 2  # inside the 5-minute margin: read the row, find it stale, fetch in normal mode
    await store.get()
    assert (await stats())["requests"]["/cgi-bin/stable_token"] == 2


async def test_stale_lease_of_a_dead_worker_is_taken_over(client, make_sessions):
    sessions = make_sessions()
    async with unit_of_work(sessions) as session:
        session.add(WeChatToken(appid=APPID, version=5, lease_owner="dead-worker",
                                lease_until=datetime.now(timezone.utc) - timedelta(seconds=1)))
    store = DatabaseTokenStore(sessions, APPID, client.fetch_stable_token)
    assert await store.get()
    row = await token_row(sessions)
    assert row.lease_owner is None and row.version == 7


async def test_waiting_on_a_live_lease_times_out(client, make_sessions):
    sessions = make_sessions()
    async with unit_of_work(sessions) as session:
        session.add(WeChatToken(appid=APPID, version=1, lease_owner="busy-worker",
                                lease_until=datetime.now(timezone.utc) + timedelta(seconds=60)))
    store = DatabaseTokenStore(sessions, APPID, client.fetch_stable_token, wait_seconds=0.2)
    with pytest.raises(TokenUnavailable):
        await store.get()


async def test_failed_fetch_releases_the_lease(settings, make_sessions):
    sessions = make_sessions()
    async with WeChatClient(settings.with_(wechat_secret="wrong"), retry=FAST) as bad:
        store = DatabaseTokenStore(sessions, APPID, bad.fetch_stable_token)
        with pytest.raises(WeChatError) as info:
            await store.get()
    assert info.value.errcode == 40125
    row = await token_row(sessions)
    assert row.lease_owner is None and row.access_token is None


async def test_memory_store():
    calls: list[bool] = []

    async def fetch(force: bool) -> tuple[str, int]:
        calls.append(force)
        return f"T{len(calls)}", 7200

    store = MemoryTokenStore(fetch)
    assert await store.get() == "T1" == await store.get()
    assert await store.invalidate("T1") == "T2"
    assert await store.invalidate("T1") == "T2"
    assert calls == [False, True]

