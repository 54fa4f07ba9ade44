"""The sandbox's token endpoints: credentials, stable-token modes, expiry and revocation."""
from __future__ import annotations

from bot.settings import Settings

APPID, SECRET = Settings().wechat_appid, Settings().wechat_secret


async def stable(sb, force=False, appid=APPID, secret=SECRET) -> dict:
    resp = await sb.post("/cgi-bin/stable_token", json={"grant_type": "client_credential", "appid": appid,
                                                        "secret": secret, "force_refresh": force})
    return await resp.json()


async def menu_get(sb, token: str) -> int:
    resp = await sb.get("/cgi-bin/menu/get", params={"access_token": token})
    return (await resp.json()).get("errcode", 0)


async def test_bad_credentials(sb):
    assert (await stable(sb, appid="wx0000000000000000"))["errcode"] == 40013
    answer = await stable(sb, secret="wrong")
    assert answer["errcode"] == 40125 and "rid:" in answer["errmsg"]
    resp = await sb.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID, "secret": "x"})
    assert (await resp.json())["errcode"] == 40125
    resp = await sb.get("/cgi-bin/token", params={"grant_type": "nope", "appid": APPID, "secret": SECRET})
    assert (await resp.json())["errcode"] == 40002


async def test_stable_normal_mode_returns_same_token(sb, clock):
    first = await stable(sb)
    clock.advance(1000)
    second = await stable(sb)
    assert first["access_token"] == second["access_token"]
    assert first["expires_in"] == 7200 and second["expires_in"] == 6200
    clock.advance(6000)  # 200 s left: inside the 5-minute early refresh
    third = await stable(sb)
    assert third["access_token"] != first["access_token"]
    assert await menu_get(sb, first["access_token"]) == 46003  # old token still valid until its own expiry
    clock.advance(201)
    assert await menu_get(sb, first["access_token"]) == 42001
    assert await menu_get(sb, third["access_token"]) == 46003


async def test_force_refresh_revokes_old_token(sb, clock):
    old = (await stable(sb))["access_token"]
    new = (await stable(sb, force=True))["access_token"]
    assert new != old
    assert await menu_get(sb, old) == 40001
    assert (await stable(sb, force=True))["access_token"] == new  # within 30 s: no refresh
    clock.advance(31)
    assert (await stable(sb, force=True))["access_token"] != new


async def test_missing_unknown_and_revoked_tokens(sb):
    resp = await sb.get("/cgi-bin/menu/get")
    assert (await resp.json())["errcode"] == 41001
    assert await menu_get(sb, "not-a-token") == 40001
    token = (await stable(sb))["access_token"]
    await sb.post("/sandbox/tokens/revoke")
    assert await menu_get(sb, token) == 40001


async def test_classic_token_keeps_previous_for_five_minutes(sb, clock):
    params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    first = (await (await sb.get("/cgi-bin/token", params=params)).json())["access_token"]
    second = (await (await sb.get("/cgi-bin/token", params=params)).json())["access_token"]
    assert first != second
    assert await menu_get(sb, first) == 46003
    clock.advance(301)
    assert await menu_get(sb, first) == 42001
    assert await menu_get(sb, second) == 46003
