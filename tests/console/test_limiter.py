"""The login limiter: atomic on both engines (30 parallel guesses, at most the free failures are checked), a wait
that doubles per account and per client up to a cap, the owner's own browser never slowed by an attacker's
failures, and X-Forwarded-For believed only from LINLI_TRUSTED_PROXIES (the deprecated
LINLI_CONSOLE_TRUST_PROXY=1 meaning loopback only)."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from ipaddress import ip_network

import pytest
from sqlalchemy import select

from bot.forwarded import client_address, throttle_key
from bot.settings import parse
from handlers.console import throttle
from storage.console_models import AuditEntry
from tests.console.conftest import PASSWORD, build_world, csrf_in

LOOPBACK = (ip_network("127.0.0.1/32"),)


async def _actions(world) -> list[tuple[str, str | None]]:
    async with world.services.db.transaction() as session:
        return [(e.action, e.ip) for e in (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()]


class Login:
    """Login attempts as one browser (its own cookies), optionally through the proxy (X-Forwarded-For)."""

    def __init__(self, world, client=None):
        self.world, self.client = world, client or world.client

    async def __call__(self, username: str, password: str, forwarded: str | None = None):
        page = await self.client.get("/console/login")
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        resp = await self.client.post("/console/login", headers=headers, allow_redirects=False, data={
            "username": username, "password": password, "_csrf": csrf_in(await page.text())})
        await resp.read()
        # logged out again at once; the browser keeps its device cookie
        self.client.session.cookie_jar.clear(lambda c: c.key in ("linli_session", "linli_login"))
        return resp


async def test_thirty_parallel_guesses_check_at_most_the_free_five(world):
    """The issue's finding: on PostgreSQL 20 of 30 parallel guesses were checked where 5 are allowed."""
    page = await world.client.get("/console/login")
    nonce = csrf_in(await page.text())

    async def guess(n: int) -> int:
        resp = await world.client.post("/console/login", allow_redirects=False, data={
            "username": "hexi", "password": f"guess-number-{n}", "_csrf": nonce})
        await resp.read()
        return resp.status

    statuses = await asyncio.gather(*(guess(n) for n in range(30)))
    checked = [a for a, _ in await _actions(world) if a == "login.failed"]
    assert len(checked) == throttle.ACCOUNT.free == 5
    assert sorted(statuses) == [401] * 5 + [429] * 25


async def test_the_wait_doubles_up_to_a_cap_and_never_locks_the_owner_out(world):
    login = Login(world)
    for _ in range(5):
        assert (await login("hexi", "wrong-password")).status == 401
    waits = []
    for _ in range(6):
        refused = await login("hexi", "wrong-password")
        assert refused.status == 429 and "分钟后再试" in await refused.text()
        seconds = int(refused.headers["Retry-After"])
        waits.append(seconds)
        world.clock.state["now"] += timedelta(seconds=seconds)
        assert (await login("hexi", "wrong-password")).status == 401  # one more check once the wait is over
    assert waits == [60, 120, 240, 480, 900, 900]  # 1, 2, 4, 8 minutes, then the 15-minute cap
    assert (await login("hexi", PASSWORD)).status == 429
    world.clock.state["now"] += timedelta(minutes=15)
    assert (await login("hexi", PASSWORD)).status == 303  # the owner, after the longest wait
    assert (await login("hexi", "wrong-password")).status == 401  # and the count starts afresh


async def test_an_attackers_failures_never_slow_the_owners_own_browser(world, aiohttp_client):
    owner = Login(world, await aiohttp_client(world.client.server))
    attacker = Login(world, await aiohttp_client(world.client.server))
    assert (await owner("yijing", PASSWORD)).status == 303  # this browser now has a device cookie
    assert any(c.key == "linli_device" and c["path"] == "/console/login" for c in owner.client.session.cookie_jar)
    for _ in range(5):
        assert (await attacker("yijing", "guessing-away")).status == 401
    assert (await attacker("yijing", PASSWORD)).status == 429  # the account waits for unknown browsers
    assert (await owner("yijing", PASSWORD)).status == 303  # but not for its owner's browser
    stolen = [c for c in owner.client.session.cookie_jar if c.key == "linli_device"][0].value
    attacker.client.session.cookie_jar.update_cookies({"linli_device": stolen},
                                                      attacker.client.make_url("/console/login"))
    assert (await attacker("hexi", "guessing-away")).status == 401  # a device cookie of another account: no help
    for _ in range(5):  # the owner's browser has its own count: mistyped five times, it waits too
        assert (await owner("yijing", "typo-typo-typo")).status == 401
    assert (await owner("yijing", PASSWORD)).status == 429


async def test_one_client_is_slowed_over_all_accounts(world):
    login = Login(world)
    for n in range(throttle.CLIENT.free):
        assert (await login(f"nobody{n}", "wrong-password")).status == 401
    assert (await login("admin", PASSWORD)).status == 429  # this client must wait, whatever account
    world.clock.state["now"] += timedelta(minutes=1)
    assert (await login("admin", PASSWORD)).status == 303


async def test_forwarded_for_is_believed_only_from_trusted_proxies(aiohttp_client, sqlite_url):
    # the test client connects from 127.0.0.1; the proxy is somewhere else: a rotating header changes nothing
    world = await build_world(aiohttp_client, sqlite_url, trusted_proxies=(ip_network("10.9.9.9/32"),))
    login = Login(world)
    for n in range(throttle.CLIENT.free):
        assert (await login(f"nobody{n}", "wrong-password", forwarded=f"198.51.100.{n}")).status == 401
    assert (await login("admin", PASSWORD, forwarded="203.0.113.200")).status == 429
    assert {ip for _, ip in await _actions(world)} == {"127.0.0.1"}


async def test_behind_the_proxy_each_client_counts_on_its_own(aiohttp_client, sqlite_url):
    # behind nginx every request comes from the proxy's address: the clients are told apart by the header
    world = await build_world(aiohttp_client, sqlite_url, trusted_proxies=LOOPBACK)
    login = Login(world)
    for n in range(throttle.CLIENT.free):
        assert (await login(f"nobody{n}", "wrong-password", forwarded="198.51.100.7")).status == 401
    assert (await login("admin", PASSWORD, forwarded="198.51.100.7")).status == 429  # the guessing client
    assert (await login("admin", PASSWORD, forwarded="198.51.100.8")).status == 303  # everyone else
    # a client-written header in front of the proxy's own entry is not believed
    assert (await login("admin", PASSWORD, forwarded="203.0.113.1, 198.51.100.7")).status == 429
    ips = {ip for _, ip in await _actions(world)}
    assert ips == {"198.51.100.7", "198.51.100.8"}


async def test_deprecated_trust_proxy_flag_means_loopback_proxies(aiohttp_client, sqlite_url, caplog):
    settings = parse({"LINLI_CONSOLE_TRUST_PROXY": "1"})
    assert settings.trusted_proxies == () and settings.proxy_networks == (ip_network("127.0.0.0/8"),
                                                                          ip_network("::1/128"))
    assert parse({"LINLI_CONSOLE_TRUST_PROXY": "1", "LINLI_TRUSTED_PROXIES": "10.0.0.5"}).proxy_networks == (
        ip_network("10.0.0.5/32"),)
    with caplog.at_level(logging.WARNING, logger="linli.console"):
        world = await build_world(aiohttp_client, sqlite_url, console_trust_proxy=True)
    assert any("LINLI_CONSOLE_TRUST_PROXY is deprecated" in r.message for r in caplog.records)
    resp = await Login(world)("admin", PASSWORD, forwarded="198.51.100.9")
    assert resp.status == 303 and ("login", "198.51.100.9") in await _actions(world)


def test_bad_proxy_settings_stop_the_start_with_a_chinese_message():
    from bot.settings import SettingsError

    with pytest.raises(SettingsError) as err:
        parse({"LINLI_TRUSTED_PROXIES": "10.0.0.0/8, nginx", "LINLI_CONSOLE_TRUST_PROXY": "maybe"})
    text = str(err.value)
    assert "LINLI_TRUSTED_PROXIES" in text and "“nginx”不是 IP 地址或网段" in text
    assert "LINLI_CONSOLE_TRUST_PROXY" in text


T0 = datetime(2026, 11, 20, tzinfo=timezone.utc)


@pytest.mark.parametrize("failures,wait", [(0, 0), (4, 0), (5, 60), (6, 120), (7, 240), (8, 480), (9, 900),
                                           (40, 900), (10 ** 6, 900)])
def test_account_wait_table(failures, wait):
    assert throttle.wait_after(throttle.ACCOUNT, failures) == timedelta(seconds=wait)


def test_counting_forgetting_and_refunds():
    policy = throttle.ACCOUNT
    state = throttle.State()
    for n in range(5):
        state = throttle.count_attempt(state, policy, T0)
    assert state.failures == 5 and throttle.blocked_until(state, T0) == T0 + timedelta(minutes=1)
    assert throttle.blocked_until(state, T0 + timedelta(minutes=1)) is None
    assert throttle.refund(state, policy).blocked_until is None  # the fifth turned out right: no wait
    client = throttle.succeeded("client:10.0.0.1", state, throttle.CLIENT)
    assert client.failures == 4  # a client's guesses are not washed away by one good login
    assert throttle.succeeded("account:hexi", state, policy) == throttle.State()
    assert throttle.current(state, policy, T0 + timedelta(hours=23)) == state
    assert throttle.current(state, policy, T0 + timedelta(hours=24)) == throttle.State()  # forgotten


@pytest.mark.parametrize("remote,header,trusted,expected", [
    ("198.51.100.1", ["1.2.3.4"], [], "198.51.100.1"),  # nothing trusted: the peer
    ("198.51.100.1", ["1.2.3.4"], ["10.0.0.0/8"], "198.51.100.1"),  # the peer is not our proxy
    ("10.0.0.2", ["1.2.3.4"], ["10.0.0.0/8"], "1.2.3.4"),  # our proxy says who it saw
    ("10.0.0.2", ["6.6.6.6, 1.2.3.4"], ["10.0.0.0/8"], "1.2.3.4"),  # the client's own entry is ignored
    ("10.0.0.2", ["6.6.6.6, 1.2.3.4, 10.0.0.3"], ["10.0.0.0/8"], "1.2.3.4"),  # two proxies of ours
    ("10.0.0.2", ["6.6.6.6", "1.2.3.4"], ["10.0.0.0/8"], "1.2.3.4"),  # the header twice: read as one list
    ("10.0.0.2", ["not-an-ip, 1.2.3.4"], ["10.0.0.0/8"], "1.2.3.4"),
    ("10.0.0.2", ["1.2.3.4, not-an-ip"], ["10.0.0.0/8"], "10.0.0.2"),  # garbage where the proxy writes
    ("10.0.0.2", [], ["10.0.0.0/8"], "10.0.0.2"),  # no header
    ("::ffff:10.0.0.2", ["[2001:db8::7]:443"], ["10.0.0.0/8"], "2001:db8::7"),
    ("10.0.0.2", ["203.0.113.9:51234"], ["10.0.0.0/8"], "203.0.113.9"),
])
def test_client_address_table(remote, header, trusted, expected):
    assert client_address(remote, header, [ip_network(t) for t in trusted]) == expected


def test_an_ipv6_client_is_its_slash_64():
    assert throttle_key("2001:db8:1:2:aaaa::1") == throttle_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert throttle_key("198.51.100.7") == "198.51.100.7"
