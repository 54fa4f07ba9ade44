"""Credentials: the password policy (12+ characters, not the username, not a common password) wherever a password
is chosen; API tokens that expire, are listed and revocable on 我的账号 and through the API, and die with a
password change or an admin reset (sessions too, except the one that changed it); the sessions of 我的账号 with
退出其他设备 and their absolute lifetime; demo accounts forced to change their published password first, and
refused in production."""
from __future__ import annotations

import argparse
import asyncio
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from handlers.console.cli import add_subcommands
from storage import password_policy
from storage.console_models import ApiToken, AuditEntry, StaffSession
from storage.make_common_passwords import chinese_patterns
from storage.models import Staff
from storage.orgimport import apply_org_plan, parse_org_bytes
from storage.repositories import staff as staff_repo
from storage.repositories.org import load_demo
from tests.console.conftest import NOW, PASSWORD, build_world, csrf_in

NEW = "a-new-and-long-passphrase"


# ---- the password policy ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("password,username,problem", [
    ("12345678", None, "至少 12 位"),
    ("linli-demo", None, "至少 12 位"),
    ("woaini1314", None, "至少 12 位"),
    ("1qaz2wsx3edc", None, "太常见"),
    ("zhangwei1990", None, "太常见"),
    ("WangFang19850101", None, "太常见"),  # compared in lower case
    ("qq1234567890", None, "太常见"),
    ("woaini5201314", None, "太常见"),
    ("tianjin123456", None, "太常见"),
    ("123456789012", None, "太常见"),
    ("youyilu-admin", "YouYiLu-Admin", "不能与用户名相同"),
    ("x" * 129, None, "过长"),
    ("海河边的小区有棵老槐树", None, "至少 12 位"),  # 11 characters
    ("海河边的小区有两棵老槐树", None, None),
    ("a-new-and-long-passphrase", "youyilu", None),
])
def test_password_policy(password, username, problem):
    found = password_policy.problem(password, username)
    assert (found is None) if problem is None else (problem in found), found


def test_the_common_password_list_is_shipped_and_large():
    common = password_policy.common_passwords()
    assert len(common) >= 10_000
    for favourite in ("woaini1314", "qq123456", "5201314", "1qaz2wsx", "zhangwei1990", "123456", "password"):
        assert favourite in common, favourite
    assert chinese_patterns() <= common  # the generated part is all there (see storage/make_common_passwords.py)
    header = password_policy.COMMON_FILE.read_text(encoding="utf-8").splitlines()[:8]
    assert any("GENERATED" in line for line in header) and any("Django" in line for line in header)


async def test_every_way_of_choosing_a_password_applies_the_policy(world, sqlite_url, monkeypatch, capsys):
    csrf = await world.login("admin")
    created = await world.client.post("/console/staff", data={
        "_csrf": csrf, "username": "weakling", "display_name": "弱", "level": "admin", "password": "woaini5201314"})
    assert created.status == 400 and "太常见" in await created.text()
    reset = await world.client.post(f"/console/staff/{world.staff['hexi']}/password",
                                    data={"_csrf": csrf, "password": "12345678"})
    assert reset.status == 400 and "至少 12 位" in await reset.text()
    api = await world.client.post("/api/v1/staff", headers=world.bearer("admin"), json={
        "username": "apiweak", "display_name": "弱", "level": "admin", "password": "apiweak"})
    assert api.status == 422 and "至少 12 位" in (await api.json())["errors"]["password"]
    api = await world.client.post(f"/api/v1/staff/{world.staff['hexi']}/password", headers=world.bearer("admin"),
                                  json={"password": "hexi"})
    assert api.status == 422
    own = await world.client.post("/console/account/password", data={
        "_csrf": csrf, "password_current": PASSWORD, "password_new": "admin", "password_repeat": "admin"})
    assert own.status == 400
    own = await world.client.post("/console/account/password", data={
        "_csrf": csrf, "password_current": PASSWORD, "password_new": PASSWORD, "password_repeat": PASSWORD})
    assert own.status == 400 and "不能与当前密码相同" in await own.text()
    async with world.services.db.transaction() as session:
        with pytest.raises(Exception) as refused:
            await apply_org_plan(session, parse_org_bytes(
                b"staff:\n  - {username: weak, name: X, level: admin, password: qq1234567890}\n", "yaml", "x.yaml"))
    assert "太常见" in str(refused.value)
    monkeypatch.setenv("LINLI_DATABASE_URL", sqlite_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("zhangwei1990\n"))
    from tests.conftest import in_thread

    assert in_thread(_cli, ["staff", "create", "--username", "root", "--name", "管理员", "--level", "admin",
                            "--password-stdin"]) == 1
    assert "太常见" in capsys.readouterr().err


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="linli")
    add_subcommands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


# ---- API tokens -------------------------------------------------------------------------------------------------


async def _me(world, token: str) -> int:
    return (await world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).status


async def test_tokens_expire_after_the_configured_days(aiohttp_client, db_url):
    world = await build_world(aiohttp_client, db_url, api_token_days=30)
    csrf = await world.login("admin")
    page = await (await world.client.post(f"/console/staff/{world.staff['youyilu']}/tokens",
                                          data={"_csrf": csrf, "label": "对接"})).text()
    token = page.split('id="new-token">')[1].split("<")[0]
    made = await world.client.post(f"/api/v1/staff/{world.staff['hexi']}/tokens", headers=world.bearer("admin"),
                                   json={"label": "接口"})
    assert (await made.json())["expires_at"].startswith((NOW + timedelta(days=30)).date().isoformat())
    assert await _me(world, token) == 200
    world.clock.state["now"] += timedelta(days=30)
    assert await _me(world, token) == 401
    world.client.session.cookie_jar.clear()
    await world.login("admin")
    detail = await (await world.client.get(f"/console/staff/{world.staff['youyilu']}")).text()
    assert "已过期" in detail


async def test_own_tokens_are_listed_and_revoked_on_the_account_page_and_the_api(world):
    async with world.services.db.transaction() as session:
        second, raw2 = await staff_repo.create_api_token(session, world.staff["hexi"], "报表", NOW)
        third, raw3 = await staff_repo.create_api_token(session, world.staff["hexi"], "备用", NOW)
        others, _ = await staff_repo.create_api_token(session, world.staff["youyilu"], "别人的", NOW)
    listed = await (await world.client.get("/api/v1/me/tokens", headers=world.bearer("hexi"))).json()
    assert [t["label"] for t in listed["items"]] == ["备用", "报表", "test"]
    assert [t["current"] for t in listed["items"]] == [False, False, True]
    assert all(t["status"] == "active" and t["expires_at"] for t in listed["items"])
    revoked = await world.client.post(f"/api/v1/me/tokens/{second.id}/revoke", headers=world.bearer("hexi"))
    assert revoked.status == 200 and (await revoked.json())["status"] == "revoked"
    assert await _me(world, raw2) == 401
    # someone else's token, or one already revoked: 404, nothing changes
    assert (await world.client.post(f"/api/v1/me/tokens/{others.id}/revoke", headers=world.bearer("hexi"))
            ).status == 404
    assert (await world.client.post(f"/api/v1/me/tokens/{second.id}/revoke", headers=world.bearer("hexi"))
            ).status == 404
    csrf = await world.login("hexi")
    page = await (await world.client.get("/console/account")).text()
    assert third.prefix in page and second.prefix in page and "已吊销" in page and "我的 API 令牌" in page
    assert (await world.client.post(f"/console/account/tokens/{others.id}/revoke", data={"_csrf": csrf})
            ).status == 404
    done = await world.client.post(f"/console/account/tokens/{third.id}/revoke", data={"_csrf": csrf})
    assert done.status == 200 and "令牌已吊销" in await done.text()
    assert await _me(world, raw3) == 401
    assert (await world.client.get("/api/v1/me", headers=world.bearer("youyilu"))).status == 200
    async with world.services.db.transaction() as session:
        assert (await session.get(ApiToken, others.id)).revoked_at is None


async def test_own_password_change_revokes_tokens_and_ends_other_sessions(world, aiohttp_client):
    other = await aiohttp_client(world.client.server)
    await world.login("yijing", client=other)
    csrf = await world.login("yijing")
    resp = await world.client.post("/console/account/password", allow_redirects=False, data={
        "_csrf": csrf, "password_current": PASSWORD, "password_new": NEW, "password_repeat": NEW})
    assert resp.status == 303
    assert await _me(world, world.tokens["yijing"]) == 401  # the token died with the old password
    assert await _me(world, world.tokens["youyilu"]) == 200  # nobody else's
    assert (await other.get("/console/", allow_redirects=False)).status == 303
    assert (await world.client.get("/console/", allow_redirects=False)).status == 200


@pytest.mark.parametrize("how", ["console", "api", "cli", "org import"])
async def test_an_admin_reset_revokes_tokens_and_ends_sessions(aiohttp_client, sqlite_url, monkeypatch, how):
    world = await build_world(aiohttp_client, sqlite_url)
    other = await aiohttp_client(world.client.server)
    await world.login("hexi", client=other)
    if how == "console":
        csrf = await world.login("admin")
        resp = await world.client.post(f"/console/staff/{world.staff['hexi']}/password", allow_redirects=False,
                                       data={"_csrf": csrf, "password": NEW})
        assert resp.status == 303
    elif how == "api":
        resp = await world.client.post(f"/api/v1/staff/{world.staff['hexi']}/password",
                                       headers=world.bearer("admin"), json={"password": NEW})
        assert resp.status == 200
    elif how == "cli":
        monkeypatch.setenv("LINLI_DATABASE_URL", sqlite_url)
        monkeypatch.setattr("sys.stdin", io.StringIO(NEW + "\n"))
        from tests.conftest import in_thread

        assert in_thread(_cli, ["staff", "password", "hexi", "--password-stdin"]) == 0
    else:
        async with world.services.db.transaction() as session:
            await apply_org_plan(session, parse_org_bytes(
                f"staff:\n  - {{username: hexi, name: 河西区, level: district, node: HX, password: {NEW}}}\n"
                .encode(), "yaml", "reset.yaml"))
    assert await _me(world, world.tokens["hexi"]) == 401
    assert (await other.get("/console/", allow_redirects=False)).status == 303
    assert await _me(world, world.tokens["youyilu"]) == 200
    world.client.session.cookie_jar.clear()
    await world.login("hexi", NEW)


# ---- sessions ---------------------------------------------------------------------------------------------------


async def test_account_page_lists_sessions_and_logs_out_the_others(world, aiohttp_client):
    phone = await aiohttp_client(world.client.server)
    await world.login("hexi", client=phone)
    csrf = await world.login("hexi")
    page = await (await world.client.get("/console/account")).text()
    assert "登录的设备" in page and page.count("<tr><td>") >= 2 and "当前设备" in page and "退出其他设备" in page
    resp = await world.client.post("/console/account/sessions/logout-others", data={"_csrf": csrf})
    assert resp.status == 200 and "已退出其他设备上的 1 个登录" in await resp.text()
    assert (await phone.get("/console/", allow_redirects=False)).status == 303
    assert (await world.client.get("/console/", allow_redirects=False)).status == 200
    async with world.services.db.transaction() as session:
        assert len((await session.execute(select(StaffSession))).all()) == 1
        assert "account.sessions" in (await session.execute(select(AuditEntry.action))).scalars().all()


async def test_a_session_ends_after_twelve_hours_however_busy(world):
    await world.login("yijing")
    for _ in range(11):
        world.clock.state["now"] += timedelta(hours=1)
        assert (await world.client.get("/console/", allow_redirects=False)).status == 200
    world.clock.state["now"] += timedelta(minutes=59)
    assert (await world.client.get("/console/", allow_redirects=False)).status == 200
    world.clock.state["now"] += timedelta(minutes=1)
    assert (await world.client.get("/console/", allow_redirects=False)).status == 303


async def test_at_most_ten_sessions_per_account(world, aiohttp_client):
    first = await aiohttp_client(world.client.server)
    await world.login("yijing", client=first)
    for _ in range(staff_repo.MAX_SESSIONS):
        world.clock.state["now"] += timedelta(seconds=1)
        browser = await aiohttp_client(world.client.server)
        await world.login("yijing", client=browser)
    assert (await first.get("/console/", allow_redirects=False)).status == 303  # the oldest one ended
    async with world.services.db.transaction() as session:
        assert len((await session.execute(select(StaffSession))).all()) == staff_repo.MAX_SESSIONS


# ---- demo accounts ----------------------------------------------------------------------------------------------


async def _demo_again(world) -> None:
    """The demo data loaded as `linli org demo` does (the test world gave every account its own password)."""
    async with world.services.db.transaction() as session:
        await load_demo(session)


async def _login_status(world, username: str, password: str):
    page = await world.client.get("/console/login")
    resp = await world.client.post("/console/login", allow_redirects=False, data={
        "username": username, "password": password, "_csrf": csrf_in(await page.text())})
    return resp


async def test_demo_accounts_must_change_the_published_password_before_anything_else(world):
    await _demo_again(world)
    async with world.services.db.transaction() as session:
        flags = dict((await session.execute(select(Staff.username, Staff.must_change_password))).all())
    assert flags["admin"] and flags["yijing"] and not flags["nankai"]  # the demo file's accounts only
    async with world.services.db.transaction() as session:  # an admin-made token on a demo account
        _, token = await staff_repo.create_api_token(session, world.staff["admin"], "demo", NOW)
    resp = await _login_status(world, "admin", "linli-demo")
    assert resp.status == 303
    for url in ("/console/", "/console/residents", "/console/staff", "/console/account"):
        moved = await world.client.get(url, allow_redirects=False)
        assert (moved.status, moved.headers.get("Location")) == (303, "/console/account/password"), url
    page = await (await world.client.get("/console/account/password")).text()
    assert "公开的初始密码" in page and 'class="main"' not in page  # no menu until it is done
    csrf = csrf_in(page)
    refused = await world.client.post(f"/console/residents/{world.resident['YJ']}/unbind", data={"_csrf": csrf})
    assert refused.status == 403 and "须先修改初始密码" in await refused.text()
    api = await world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status == 403 and "修改初始密码" in (await api.json())["message"]
    weak = await world.client.post("/console/account/password", data={
        "_csrf": csrf, "password_current": "linli-demo", "password_new": "linli-demo", "password_repeat":
        "linli-demo"})
    assert weak.status == 400
    done = await world.client.post("/console/account/password", allow_redirects=False, data={
        "_csrf": csrf, "password_current": "linli-demo", "password_new": NEW, "password_repeat": NEW})
    assert done.status == 303
    assert (await world.client.get("/console/", allow_redirects=False)).status == 200
    async with world.services.db.transaction() as session:
        assert not (await session.get(Staff, world.staff["admin"])).must_change_password
    # the others still must; logging out works meanwhile
    world.client.session.cookie_jar.clear()
    assert (await _login_status(world, "yijing", "linli-demo")).status == 303
    page = await (await world.client.get("/console/account/password")).text()
    out = await world.client.post("/console/logout", data={"_csrf": csrf_in(page)}, allow_redirects=False)
    assert out.status == 303 and out.headers["Location"] == "/console/login"


async def test_the_demo_password_is_forced_to_change_even_without_the_mark(world):
    """A database loaded before accounts were marked: logging in with the published password marks it."""
    await _demo_again(world)
    async with world.services.db.transaction() as session:
        (await session.get(Staff, world.staff["hexi"])).must_change_password = False
    assert (await _login_status(world, "hexi", "linli-demo")).status == 303
    moved = await world.client.get("/console/", allow_redirects=False)
    assert moved.headers["Location"] == "/console/account/password"


async def test_demo_accounts_cannot_log_in_in_production(aiohttp_client, db_url):
    world = await build_world(aiohttp_client, db_url, env="production")
    await _demo_again(world)
    resp = await _login_status(world, "admin", "linli-demo")
    body = await resp.text()
    assert resp.status == 403 and "公开的演示密码" in body and "linli_session" not in resp.cookies
    assert (await _login_status(world, "nankai", PASSWORD)).status == 303  # real accounts do
    async with world.services.db.transaction() as session:
        actions = (await session.execute(select(AuditEntry.action))).scalars().all()
    assert "login.demo" in actions


def test_linli_org_demo_refuses_production(sqlite_url, monkeypatch, capsys):
    from bot.cli import main
    from tests.conftest import in_thread

    monkeypatch.setenv("LINLI_DATABASE_URL", sqlite_url)
    monkeypatch.delenv("LINLI_WECHAT_API_BASE", raising=False)  # the real WeChat API: production
    monkeypatch.delenv("LINLI_ENV", raising=False)
    assert in_thread(main, ["org", "demo"]) == 1
    err = capsys.readouterr().err
    assert "生产环境" in err and "不能载入演示数据" in err
    monkeypatch.setenv("LINLI_WECHAT_API_BASE", "http://127.0.0.1:8081")
    monkeypatch.setenv("LINLI_ENV", "production")
    assert in_thread(main, ["org", "demo"]) == 1
    monkeypatch.setenv("LINLI_ENV", "development")
    assert in_thread(main, ["org", "demo"]) == 0
    assert "首次登录时须先修改密码" in capsys.readouterr().out

    async def flags():
        from storage.db import Database

        db = Database(sqlite_url)
        try:
            async with db.transaction() as session:
                return set((await session.execute(select(Staff.must_change_password))).scalars())
        finally:
            await db.dispose()

    assert asyncio.run(flags()) == {True}
