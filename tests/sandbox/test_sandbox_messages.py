"""The sandbox's message endpoints: the 客服 window and its quotas, template quota, 订阅通知, user info."""
from __future__ import annotations

CUSTOM = "/cgi-bin/message/custom/send"
TEMPLATE = "/cgi-bin/message/template/send"
BIZSEND = "/cgi-bin/message/subscribe/bizsend"


def text(openid: str, content: str = "您好") -> dict:
    return {"touser": openid, "msgtype": "text", "text": {"content": content}}


def template(openid: str, **extra) -> dict:
    return {"touser": openid, "template_id": "TPL_TICKET", "data": {"thing1": {"value": "维修"}}, **extra}


async def sends(call, openid: str, n: int) -> list[int]:
    return [(await call(CUSTOM, text(openid)))["errcode"] for _ in range(n)]


async def test_unknown_openid_is_40003(call):
    assert (await call(CUSTOM, text("o_nobody")))["errcode"] == 40003
    assert (await call(TEMPLATE, template("o_nobody")))["errcode"] == 40003
    assert (await call("/cgi-bin/user/info", openid="o_nobody"))["errcode"] == 40003


async def test_no_interaction_means_window_closed(sb, call):
    await sb.post("/sandbox/users", json={"openid": "o_quiet"})
    assert (await call(CUSTOM, text("o_quiet")))["errcode"] == 45015


async def test_message_opens_five_within_48_hours(call, interact, clock):
    await interact("o_alice", "message")
    assert await sends(call, "o_alice", 6) == [0, 0, 0, 0, 0, 45047]
    await interact("o_alice", "message")  # a new message renews the grant
    assert await sends(call, "o_alice", 1) == [0]
    clock.advance(48 * 3600)
    assert await sends(call, "o_alice", 1) == [45015]


async def test_click_opens_three_within_a_minute(call, interact, clock):
    for kind in ("click", "subscribe", "scan"):
        clock.advance(61)
        await interact("o_bob", kind)
        assert await sends(call, "o_bob", 4) == [0, 0, 0, 45047], kind
    clock.advance(60)
    assert await sends(call, "o_bob", 1) == [45015]


async def test_interaction_time_can_be_given(call, interact, clock):
    await interact("o_carol", "message", at=clock.now - 49 * 3600)
    assert await sends(call, "o_carol", 1) == [45015]


async def test_unfollowed_user_is_43004(call, interact):
    await interact("o_dave", "message")
    await interact("o_dave", "unsubscribe")
    assert await sends(call, "o_dave", 1) == [43004]
    assert (await call(TEMPLATE, template("o_dave")))["errcode"] == 43004
    assert await call("/cgi-bin/user/info", openid="o_dave") == {"subscribe": 0, "openid": "o_dave"}


async def test_deliveries_are_recorded(sb, call, interact):
    await interact("o_erin", "message")
    await interact("o_frank", "message")
    await call(CUSTOM, text("o_erin", "第一条"))
    await call(CUSTOM, text("o_frank", "给 frank"))
    await call(CUSTOM, text("o_erin", "第二条"))
    messages = (await (await sb.get("/sandbox/messages", params={"openid": "o_erin"})).json())["messages"]
    assert [m["payload"]["text"]["content"] for m in messages] == ["第一条", "第二条"]
    assert {m["kind"] for m in messages} == {"custom"}
    later = (await (await sb.get("/sandbox/messages", params={"after": messages[0]["id"]})).json())["messages"]
    assert [m["openid"] for m in later] == ["o_frank", "o_erin"]


async def test_bad_custom_payloads(call, interact):
    await interact("o_gina", "message")
    assert (await call(CUSTOM, {"touser": "o_gina", "msgtype": "fax", "fax": {}}))["errcode"] == 40008
    assert (await call(CUSTOM, text("o_gina", "  ")))["errcode"] == 44004


async def test_template_daily_quota(make_sandbox, clock):
    sb = await make_sandbox(template_quota=2)

    async def send() -> dict:
        token = await (await sb.post("/cgi-bin/stable_token", json={
            "grant_type": "client_credential", "appid": "wx5a1d0c0ffee0b0b0", "secret": "linli-sandbox-secret"})).json()
        resp = await sb.post(TEMPLATE, json=template("o_hank"), params={"access_token": token["access_token"]})
        return await resp.json()

    await sb.post("/sandbox/users", json={"openid": "o_hank"})
    assert [(await send())["errcode"] for _ in range(3)] == [0, 0, 45009]
    clock.advance(86400)  # the next (Beijing) day
    answer = await send()
    assert answer["errcode"] == 0 and answer["msgid"] > 0


async def test_template_needs_no_window_and_dedupes_client_msg_id(sb, call):
    await sb.post("/sandbox/users", json={"openid": "o_ivy"})
    first = await call(TEMPLATE, template("o_ivy", client_msg_id="k1"))
    again = await call(TEMPLATE, template("o_ivy", client_msg_id="k1"))
    other = await call(TEMPLATE, template("o_ivy", client_msg_id="k2"))
    assert first["errcode"] == 0 and again["msgid"] == first["msgid"] != other["msgid"]
    messages = (await (await sb.get("/sandbox/messages", params={"kind": "template"})).json())["messages"]
    assert len(messages) == 2
    assert (await call(TEMPLATE, {"touser": "o_ivy", "data": {}}))["errcode"] == 40037


async def test_subscribe_notice(sb, call, interact):
    await interact("o_jack", "unsubscribe")  # non-followers still get 订阅通知 (in 服务通知)
    body = {"touser": "o_jack", "template_id": "SUB_1", "data": {"thing1": {"value": "公示"}}}
    assert (await call(BIZSEND, body))["errcode"] == 0
    await sb.post("/sandbox/users", json={"openid": "o_jack", "refused_templates": ["SUB_1"]})
    assert (await call(BIZSEND, body))["errcode"] == 43101
    stats = await (await sb.get("/sandbox/stats")).json()
    assert stats["deliveries"]["subscribe"] == 1


async def test_user_info_of_follower(call, interact, clock):
    await interact("o_kim", "subscribe")
    info = await call("/cgi-bin/user/info", openid="o_kim")
    assert info["subscribe"] == 1 and info["openid"] == "o_kim" and info["subscribe_time"] == int(clock.now)


async def test_control_api_rejects_bad_input(sb):
    resp = await sb.post("/sandbox/interactions", json={"openid": "o_x", "kind": "dance"})
    assert resp.status == 400 and "kind" in (await resp.json())["error"]
    resp = await sb.post("/sandbox/interactions", json={"openid": "bad openid!", "kind": "message"})
    assert resp.status == 400
    resp = await sb.post("/sandbox/interactions", data=b"not json")
    assert resp.status == 400


async def test_reset_and_clock(sb, call, interact):
    await interact("o_lee", "message")
    await call(CUSTOM, text("o_lee"))
    resp = await sb.post("/sandbox/clock", json={"advance": 3600})
    assert (await resp.json())["offset"] == 3600
    await sb.post("/sandbox/reset")
    stats = await (await sb.get("/sandbox/stats")).json()
    assert stats["users"] == 0 and stats["deliveries"]["custom"] == 0 and stats["requests"] == {}
    assert (await call(CUSTOM, text("o_lee")))["errcode"] == 40003
