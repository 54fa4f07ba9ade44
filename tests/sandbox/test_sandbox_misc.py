"""The sandbox's menu and QR code endpoints, injected faults, and the TEMPLATESENDJOBFINISH push."""
from __future__ import annotations

import asyncio
import hashlib

import aiohttp
import xmltodict
from aiohttp import web

from bot.sandbox.window import Window

CUSTOM = "/cgi-bin/message/custom/send"


def button(name="报修", **kw):
    return {"type": "click", "name": name, "key": "K", **kw}


async def test_menu_create_and_get(call):
    assert (await call("/cgi-bin/menu/get"))["errcode"] == 46003
    menu = {"button": [button(), {"name": "更多", "sub_button": [
        button("满意度调查"), {"type": "view", "name": "官网", "url": "https://example.org/"}]}]}
    assert (await call("/cgi-bin/menu/create", menu))["errcode"] == 0
    assert (await call("/cgi-bin/menu/get")) == {"menu": menu}


async def test_menu_rules(call):
    cases = {
        40016: {"button": [button()] * 4},
        40017: {"button": [{"type": "fax", "name": "x"}]},
        40018: {"button": [button("社区服务中心入口")]},  # 8 汉字 = 24 bytes > 16
        40019: {"button": [button(key="K" * 129)]},
        40023: {"button": [{"name": "更多", "sub_button": [button()] * 6}]},
        40025: {"button": [{"name": "更多", "sub_button": [button("很" * 21)]}]},  # 63 bytes > 60
        40026: {"button": [{"name": "更多", "sub_button": [button(key="")]}]},
        40027: {"button": [{"name": "更多", "sub_button": [{"type": "view", "name": "站", "url": "ftp://x"}]}]},
    }
    for errcode, menu in cases.items():
        assert (await call("/cgi-bin/menu/create", menu))["errcode"] == errcode, errcode


async def test_qrcode(sb, call):
    body = {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": "estate:12"}}}
    first = await call("/cgi-bin/qrcode/create", body)
    assert set(first) == {"ticket", "url"} and first["url"].startswith("http://weixin.qq.com/q/")
    assert (await call("/cgi-bin/qrcode/create", body))["ticket"] == first["ticket"]
    temporary = await call("/cgi-bin/qrcode/create", {"action_name": "QR_STR_SCENE", "expire_seconds": 600,
                                                      "action_info": {"scene": {"scene_str": "x"}}})
    assert temporary["expire_seconds"] == 600
    bad = {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": "x" * 65}}}
    assert (await call("/cgi-bin/qrcode/create", bad))["errcode"] == 40053
    resp = await sb.get("/cgi-bin/showqrcode", params={"ticket": first["ticket"]})
    assert resp.status == 200 and resp.content_type == "image/svg+xml"


async def test_fault_errcode_with_count(sb, call):
    await sb.post("/sandbox/faults", json={"endpoint": "menu/get", "errcode": -1, "count": 2})
    codes = [(await call("/cgi-bin/menu/get"))["errcode"] for _ in range(3)]
    assert codes == [-1, -1, 46003]
    assert (await (await sb.get("/sandbox/faults")).json())["faults"] == []
    assert (await (await sb.get("/sandbox/stats")).json())["faults_fired"] == 2


async def test_fault_probability_and_clear(sb, call):
    await sb.post("/sandbox/faults", json={"endpoint": "menu/get", "errcode": 45009, "probability": 0.5})
    codes = [(await call("/cgi-bin/menu/get"))["errcode"] for _ in range(40)]
    assert 5 < codes.count(45009) < 35 and 46003 in codes
    resp = await sb.delete("/sandbox/faults")
    assert (await resp.json())["removed"] == 1
    assert (await call("/cgi-bin/menu/get"))["errcode"] == 46003


async def test_fault_drop_and_latency(sb, call):
    token_answer = await (await sb.post("/cgi-bin/stable_token", json={
        "grant_type": "client_credential", "appid": "wx5a1d0c0ffee0b0b0", "secret": "linli-sandbox-secret"})).json()
    params = {"access_token": token_answer["access_token"]}
    await sb.post("/sandbox/faults", json={"endpoint": "/cgi-bin/menu/get", "drop": True, "count": 1})
    try:
        await sb.get("/cgi-bin/menu/get", params=params)
        raise AssertionError("the connection should have been dropped")
    except aiohttp.ServerDisconnectedError:
        pass
    await sb.post("/sandbox/faults", json={"endpoint": "menu/get", "latency": 0.2, "count": 1})
    started = asyncio.get_running_loop().time()
    assert (await (await sb.get("/cgi-bin/menu/get", params=params)).json())["errcode"] == 46003
    assert asyncio.get_running_loop().time() - started >= 0.2


async def test_fault_validation(sb):
    for body in ({"endpoint": "menu/get"}, {"errcode": -1, "probability": 2}, {"errcode": -1, "colour": "red"}):
        resp = await sb.post("/sandbox/faults", json=body)
        assert resp.status == 400, body


async def _webhook(aiohttp_server):
    """A stand-in for linli's /wechat that records what it is sent."""
    received: list[tuple[dict, str]] = []

    async def wechat_webhook(request: web.Request) -> web.Response:
        received.append((dict(request.query), await request.text()))
        return web.Response(text="success")

    hook_app = web.Application()
    hook_app.router.add_post("/wechat", wechat_webhook)
    return received, await aiohttp_server(hook_app)


async def test_template_job_finish_is_pushed_signed(aiohttp_server, make_sandbox):
    received, hook = await _webhook(aiohttp_server)
    sb = await make_sandbox(callback_url=str(hook.make_url("/wechat")), token="TOKEN123")
    token = (await (await sb.post("/cgi-bin/stable_token", json={
        "grant_type": "client_credential", "appid": "wx5a1d0c0ffee0b0b0", "secret": "linli-sandbox-secret"})).json())
    await sb.post("/sandbox/users", json={"openid": "o_zoe"})
    answer = await (await sb.post("/cgi-bin/message/template/send", params={"access_token": token["access_token"]},
                                  json={"touser": "o_zoe", "template_id": "T", "data": {}})).json()
    for _ in range(50):
        if received:
            break
        await asyncio.sleep(0.01)
    query, body = received[0]
    expected = hashlib.sha1("".join(sorted(["TOKEN123", query["timestamp"], query["nonce"]])).encode()).hexdigest()
    assert query["signature"] == expected and query["openid"] == "o_zoe"
    event = xmltodict.parse(body)["xml"]
    assert event["Event"] == "TEMPLATESENDJOBFINISH" and event["Status"] == "success"
    assert int(event["MsgID"]) == answer["msgid"] and event["FromUserName"] == "o_zoe"


async def test_template_job_finish_is_encrypted_for_a_safe_mode_account(aiohttp_server, make_sandbox):
    """With the account's AES key the push is encrypted as WeChat does in safe mode: linli's codec in safe mode
    (which refuses plaintext) opens it."""
    from bot.protocol import Codec
    from tests.sandbox.conftest import APPID
    from tests.support import AES_KEY

    received, hook = await _webhook(aiohttp_server)
    sb = await make_sandbox(callback_url=str(hook.make_url("/wechat")), token="TOKEN123", aes_key=AES_KEY)
    token = (await (await sb.post("/cgi-bin/stable_token", json={
        "grant_type": "client_credential", "appid": APPID, "secret": "linli-sandbox-secret"})).json())
    await sb.post("/sandbox/users", json={"openid": "o_zoe"})
    await sb.post("/cgi-bin/message/template/send", params={"access_token": token["access_token"]},
                  json={"touser": "o_zoe", "template_id": "T", "data": {}})
    for _ in range(50):
        if received:
            break
        await asyncio.sleep(0.01)
    query, body = received[0]
    assert query["encrypt_type"] == "aes" and "<Encrypt>" in body and "TEMPLATESENDJOBFINISH" not in body
    envelope = Codec("TOKEN123", APPID, [AES_KEY], "safe").open(body.encode(), query)
    assert envelope.message.event == "templatesendjobfinish" and envelope.message.openid == "o_zoe"


def test_window_prefers_the_grant_closing_first():
    window = Window()
    window.interact("message", 0)
    window.interact("click", 100)
    for _ in range(3):
        window.consume(110)  # uses the 1-minute grant first
    assert window.grants["event"].used == 3 and window.grants["message"].used == 0
    for _ in range(5):
        window.consume(120)
    assert window.describe(120)["message"]["used"] == 5
