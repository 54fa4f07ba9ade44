"""Login, sessions, cookies, CSRF, logout, the login limiter, passwords and the audit trail of it all."""
from __future__ import annotations

import hashlib
from datetime import timedelta
from ipaddress import ip_network
from urllib.parse import unquote

from sqlalchemy import select

from storage.console_models import AuditEntry, StaffSession
from storage.models import Staff
from tests.console.conftest import PASSWORD, build_world, csrf_in


async def test_login_sets_a_hardened_cookie_and_stores_only_its_hash(world):
    page = await world.client.get("/console/login")
    assert page.status == 200 and "登录" in await page.text()
    nonce = csrf_in(await page.text())
    resp = await world.client.post("/console/login", data={"username": "yijing", "password": PASSWORD,
                                                           "_csrf": nonce}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/console/"
    cookie = resp.cookies["linli_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/console"
    assert not cookie["secure"]  # plain http public URL in tests
    assert len(cookie.value) >= 43  # 256 bits, url-safe base64
    async with world.services.db.transaction() as session:
        stored = (await session.execute(select(StaffSession.token_hash))).scalars().all()
    assert stored == [hashlib.sha256(cookie.value.encode()).hexdigest()]
    assert cookie.value not in stored


async def test_secure_cookie_when_the_public_url_is_https(aiohttp_client, sqlite_url):
    world = await build_world(aiohttp_client, sqlite_url, public_url="https://linli.example.cn")
    page = await world.client.get("/console/login")
    assert page.cookies["linli_login"]["secure"]
    nonce = csrf_in(await page.text())
    resp = await world.client.post("/console/login", data={"username": "admin", "password": PASSWORD,
                                                           "_csrf": nonce}, allow_redirects=False,
                                   headers={"Cookie": f"linli_login={nonce}"})  # http test client: sent by hand
    assert resp.cookies["linli_session"]["secure"]


async def test_pages_need_login_and_redirect_back(world):
    resp = await world.client.get("/console/residents?status=bound", allow_redirects=False)
    assert resp.status == 303
    location = resp.headers["Location"]
    assert location.startswith("/console/login?next=")
    assert unquote(location.partition("next=")[2]) == "/console/residents?status=bound"
    assert (await world.client.get("/console", allow_redirects=False)).headers["Location"] == "/console/"


async def test_wrong_password_and_unknown_user_get_the_same_answer(world):
    answers = []
    for username, password in (("yijing", "wrong-password"), ("nobody", "wrong-password")):
        page = await world.client.get("/console/login")
        resp = await world.client.post("/console/login", data={"username": username, "password": password,
                                                               "_csrf": csrf_in(await page.text())})
        text = await resp.text()
        answers.append((resp.status, text.replace(username, "U").replace(csrf_in(text), "NONCE")))
    assert answers[0] == answers[1] and answers[0][0] == 401
    assert "用户名或密码错误" in answers[0][1]


async def test_login_form_needs_its_csrf_nonce(world):
    await world.client.get("/console/login")
    resp = await world.client.post("/console/login", data={"username": "admin", "password": PASSWORD,
                                                           "_csrf": "forged"}, allow_redirects=False)
    assert resp.status == 403 and "linli_session" not in resp.cookies


async def test_limiter_slows_the_account_then_lets_the_owner_in(aiohttp_client, sqlite_url):
    # the limiter itself: tests/console/test_limiter.py
    world = await build_world(aiohttp_client, sqlite_url, trusted_proxies=(ip_network("127.0.0.1/32"),))

    async def attempt(password: str, ip: str, username: str = "hexi") -> int:
        page = await world.client.get("/console/login")
        resp = await world.client.post("/console/login", headers={"X-Forwarded-For": ip}, allow_redirects=False,
                                       data={"username": username, "password": password,
                                             "_csrf": csrf_in(await page.text())})
        world.client.session.cookie_jar.clear()
        return resp.status

    for _ in range(5):
        assert await attempt("bad-password", "10.0.0.1") == 401
    assert await attempt(PASSWORD, "10.0.0.1") == 429  # must wait, even with the right password
    assert await attempt(PASSWORD, "10.0.0.2") == 429  # the account waits, from anywhere (no device cookie)
    assert await attempt(PASSWORD, "10.0.0.1", "youyilu") == 303  # other accounts from that client do not
    world.clock.state["now"] += timedelta(minutes=1)
    assert await attempt(PASSWORD, "10.0.0.2") == 303
    async with world.services.db.transaction() as session:
        actions = [e.action for e in (await session.execute(select(AuditEntry))).scalars()]
    assert actions.count("login.failed") == 5 and actions.count("login.locked") == 2 and actions.count("login") == 2


async def test_unsafe_requests_need_the_session_csrf_token(world):
    csrf = await world.login("yijing")
    target = f"/console/residents/{world.resident['YJ']}/unbind"
    assert (await world.client.post(target, data={}, allow_redirects=False)).status == 403
    assert (await world.client.post(target, data={"_csrf": "0" * 64}, allow_redirects=False)).status == 403
    assert (await world.client.post(target, headers={"X-CSRF-Token": csrf.upper()}, allow_redirects=False)
            ).status == 403
    resp = await world.client.post(target, data={"_csrf": csrf}, allow_redirects=False)
    assert resp.status == 303


async def test_csrf_token_of_another_session_is_refused(world, aiohttp_client):
    other_csrf = await world.login("admin")
    world.client.session.cookie_jar.clear()
    await world.login("yijing")
    resp = await world.client.post(f"/console/residents/{world.resident['YJ']}/unbind",
                                   data={"_csrf": other_csrf}, allow_redirects=False)
    assert resp.status == 403


async def test_logout_ends_the_session(world):
    csrf = await world.login("yijing")
    cookie = world.client.session.cookie_jar.filter_cookies(world.client.make_url("/console/"))["linli_session"]
    resp = await world.client.post("/console/logout", data={"_csrf": csrf}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/console/login"
    world.client.session.cookie_jar.update_cookies({"linli_session": cookie.value},
                                                   world.client.make_url("/console/"))
    assert (await world.client.get("/console/", allow_redirects=False)).status == 303


async def test_idle_and_absolute_expiry(world):
    await world.login("yijing")
    world.clock.state["now"] += timedelta(hours=1)
    assert (await world.client.get("/console/", allow_redirects=False)).status == 200
    world.clock.state["now"] += timedelta(hours=2, minutes=1)  # idle for more than 2 h
    assert (await world.client.get("/console/", allow_redirects=False)).status == 303


async def test_change_own_password_keeps_this_session_only(world, aiohttp_client):
    other = await aiohttp_client(world.client.server)
    await world.login("youyilu", client=other)
    csrf = await world.login("youyilu")
    resp = await world.client.post("/console/account/password", data={
        "_csrf": csrf, "password_current": "nope-nope", "password_new": "short", "password_repeat": "x"})
    text = await resp.text()
    assert resp.status == 400 and "当前密码不正确" in text and "至少 12 位" in text
    resp = await world.client.post("/console/account/password", allow_redirects=False, data={
        "_csrf": csrf, "password_current": PASSWORD, "password_new": "new-secret-for-youyilu",
        "password_repeat": "new-secret-for-youyilu"})
    assert resp.status == 303 and resp.headers["Location"] == "/console/account"
    page = await world.client.get("/console/account", allow_redirects=False)
    assert page.status == 200 and "密码已修改" in await page.text()  # this browser stays logged in
    assert (await other.get("/console/", allow_redirects=False)).status == 303  # the other one is out
    world.client.session.cookie_jar.clear()
    await world.login("youyilu", "new-secret-for-youyilu")


async def test_security_headers_on_pages(world):
    await world.login("hexi")
    resp = await world.client.get("/console/")
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff" and resp.headers["Cache-Control"] == "no-store"


async def test_inactive_account_cannot_log_in(world):
    async with world.services.db.transaction() as session:
        (await session.get(Staff, world.staff["yijing"])).active = False
    page = await world.client.get("/console/login")
    resp = await world.client.post("/console/login", data={"username": "yijing", "password": PASSWORD,
                                                           "_csrf": csrf_in(await page.text())})
    assert resp.status == 401
