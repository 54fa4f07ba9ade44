"""WeChatClient against the sandbox: deliveries, token refresh, retries, timeouts, drops, typed errors."""
from __future__ import annotations

import asyncio
import logging

import pytest

from bot.outbound import (
    DailyQuotaExceeded,
    InvalidCredential,
    InvalidOpenID,
    NotFollowing,
    ResponseQuotaExceeded,
    RetryPolicy,
    SystemBusy,
    UserRefused,
    WeChatClient,
    WeChatError,
    WeChatUnavailable,
    WindowExpired,
)

CUSTOM = "/cgi-bin/message/custom/send"


async def delivered(control, openid: str | None = None) -> list[dict]:
    params = {"openid": openid} if openid else {}
    return (await (await control.get("/sandbox/messages", params=params)).json())["messages"]


async def test_send_text_is_delivered(client, control, interact):
    await interact("o_alice")
    await client.send_text("o_alice", "您的投诉已受理")
    [message] = await delivered(control, "o_alice")
    assert message["kind"] == "custom" and message["payload"]["text"]["content"] == "您的投诉已受理"


async def test_token_is_fetched_once_and_reused(client, interact, stats):
    await interact("o_alice")
    for _ in range(3):
        await client.send_text("o_alice", "hi")
    assert (await stats())["requests"]["/cgi-bin/stable_token"] == 1


async def test_40001_refreshes_once_then_retries(client, interact, fault, stats, control):
    await interact("o_alice")
    await client.send_text("o_alice", "warm-up")
    await fault(endpoint="message/custom/send", errcode=40001, count=1)
    await client.send_text("o_alice", "after refresh")
    s = await stats()
    assert s["tokens_issued"] == {"stable": 2, "stable_force": 1, "token": 0}
    assert s["requests"][CUSTOM] == 3
    assert len(await delivered(control)) == 2


async def test_revoked_token_is_replaced(client, interact, control):
    await interact("o_alice")
    await client.send_text("o_alice", "one")
    await control.post("/sandbox/tokens/revoke")
    await client.send_text("o_alice", "two")
    assert [m["payload"]["text"]["content"] for m in await delivered(control)] == ["one", "two"]


async def test_persistent_token_error_refreshes_only_once(client, interact, fault, stats):
    await interact("o_alice")
    await fault(endpoint="message/custom/send", errcode=42001)
    with pytest.raises(InvalidCredential) as info:
        await client.send_text("o_alice", "x")
    assert info.value.errcode == 42001
    s = await stats()
    assert s["requests"][CUSTOM] == 2 and s["tokens_issued"]["stable_force"] == 1


async def test_system_busy_is_retried_then_succeeds(client, interact, fault, stats, control):
    await interact("o_alice")
    await fault(endpoint="message/custom/send", errcode=-1, count=2)
    await client.send_text("o_alice", "eventually")
    assert (await stats())["requests"][CUSTOM] == 3
    assert len(await delivered(control)) == 1


async def test_system_busy_gives_up_after_attempts(client, interact, fault, stats):
    await interact("o_alice")
    await fault(endpoint="message/custom/send", errcode=-1)
    with pytest.raises(SystemBusy) as info:
        await client.send_text("o_alice", "never")
    assert isinstance(info.value, WeChatUnavailable) and info.value.errcode == -1
    assert (await stats())["requests"][CUSTOM] == 3


async def test_backoff_grows_and_is_capped(settings, interact, fault):
    await interact("o_alice")
    await fault(endpoint="message/custom/send", errcode=-1, count=3)
    policy = RetryPolicy(attempts=4, base_delay=0.05, max_delay=0.1, jitter=0.0)
    async with WeChatClient(settings, retry=policy) as client:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await client.send_text("o_alice", "slowly")
        assert 0.25 <= loop.time() - started < 1.5  # 0.05 + 0.1 + 0.1 (capped)
    assert [policy.delay(n, None) for n in (1, 2, 3)] == [0.05, 0.1, 0.1]


async def test_timeout_is_retried(client, interact, fault, control):
    await interact("o_alice")
    await fault(endpoint="message/custom/send", latency=0.5, count=1)
    await client.send_text("o_alice", "second try")
    await asyncio.sleep(0.5)  # the slow first request is still processed by "WeChat"
    assert len(await delivered(control)) == 2  # 客服 messages have no dedupe key: a retry may double up


async def test_timeouts_give_up_as_unavailable(client, interact, fault):
    await interact("o_alice")
    await fault(endpoint="message/custom/send", latency=0.4)
    with pytest.raises(WeChatUnavailable, match="超时"):
        await client.send_text("o_alice", "x")


async def test_template_retry_after_timeout_does_not_send_twice(client, interact, fault, control):
    await interact("o_alice", "subscribe")
    await fault(endpoint="message/template/send", latency=0.5, count=1)
    msgid = await client.send_template("o_alice", "TPL", {"thing1": "维修"}, url="https://example.org/t/1")
    await asyncio.sleep(0.5)
    [message] = await delivered(control)
    assert message["msgid"] == msgid and message["payload"]["data"] == {"thing1": {"value": "维修"}}


async def test_dropped_connection_is_retried(client, interact, fault, control):
    await interact("o_alice")
    await fault(endpoint="message/custom/send", drop=True, count=2)
    await client.send_text("o_alice", "made it")
    assert len(await delivered(control)) == 1


async def test_dropped_connections_give_up(client, interact, fault):
    await interact("o_alice")
    await fault(endpoint="message/custom/send", drop=True)
    with pytest.raises(WeChatUnavailable, match="连接失败"):
        await client.send_text("o_alice", "x")


async def test_unreachable_host(settings):
    async with WeChatClient(settings.with_(wechat_api_base="http://127.0.0.1:9"),
                            retry=RetryPolicy(attempts=2, base_delay=0.01)) as client:
        with pytest.raises(WeChatUnavailable):
            await client.fetch_stable_token()


async def test_window_errors(client, interact):
    with pytest.raises(InvalidOpenID):
        await client.send_text("o_stranger", "x")
    await interact("o_bob", "subscribe")  # follow: 3 within a minute
    for _ in range(3):
        await client.send_text("o_bob", "ok")
    with pytest.raises(ResponseQuotaExceeded) as info:
        await client.send_text("o_bob", "one too many")
    assert info.value.errcode == 45047
    await interact("o_carol", "message")
    for _ in range(5):
        await client.send_text("o_carol", "ok")
    with pytest.raises(ResponseQuotaExceeded):
        await client.send_text("o_carol", "sixth")
    await interact("o_dave", "unsubscribe")
    with pytest.raises(NotFollowing):
        await client.send_text("o_dave", "x")


async def test_window_expired(client, control):
    await control.post("/sandbox/users", json={"openid": "o_quiet"})
    with pytest.raises(WindowExpired) as info:
        await client.send_text("o_quiet", "x")
    assert info.value.errcode == 45015 and "45015" in str(info.value)


async def test_template_quota_and_unfollowed(client, interact):
    await interact("o_erin", "subscribe")
    for _ in range(3):
        assert await client.send_template("o_erin", "TPL", {"thing1": "x"}) > 0
    with pytest.raises(DailyQuotaExceeded):
        await client.send_template("o_erin", "TPL", {"thing1": "x"})


async def test_template_to_unfollowed_and_bad_openid(client, interact):
    await interact("o_frank", "unsubscribe")
    with pytest.raises(NotFollowing):
        await client.send_template("o_frank", "TPL", {"thing1": "x"})
    with pytest.raises(InvalidOpenID):
        await client.send_template("o_nobody", "TPL", {"thing1": "x"})


async def test_subscribe_notice(client, control, interact):
    await interact("o_gina", "subscribe")
    await client.send_subscribe("o_gina", "SUB", {"thing1": "新公示"}, page="https://example.org/n/1")
    [message] = await delivered(control)
    assert message["kind"] == "subscribe" and message["payload"]["page"] == "https://example.org/n/1"
    await control.post("/sandbox/users", json={"openid": "o_gina", "refused_templates": ["SUB"]})
    with pytest.raises(UserRefused):
        await client.send_subscribe("o_gina", "SUB", {"thing1": "x"})


async def test_other_errcodes_are_generic(client, fault):
    await fault(endpoint="menu/get", errcode=48001, errmsg="api unauthorized")
    with pytest.raises(WeChatError) as info:
        await client.get_menu()
    assert type(info.value) is WeChatError and info.value.errcode == 48001


async def test_user_info(client, interact):
    await interact("o_hank", "subscribe")
    info = await client.user_info("o_hank")
    assert info["subscribe"] == 1 and info["openid"] == "o_hank"
    await interact("o_hank", "unsubscribe")
    assert (await client.user_info("o_hank"))["subscribe"] == 0


async def test_qrcode(client):
    answer = await client.create_qrcode("estate:42")
    assert answer["ticket"] and answer["url"]
    url = client.qrcode_url(answer["ticket"])
    session = client._http()
    async with session.get(url) as resp:
        assert resp.status == 200
    with pytest.raises(ValueError):
        await client.create_qrcode("")
    official = WeChatClient(client.settings.with_(wechat_api_base="https://api.weixin.qq.com"))
    assert official.qrcode_url("a/b+c").startswith("https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=a%2Fb%2Bc")


async def test_bad_secret_and_no_secrets_in_messages(settings, fault, interact, caplog):
    caplog.set_level(logging.DEBUG)
    async with WeChatClient(settings.with_(wechat_secret="wrong-secret-value")) as bad:
        with pytest.raises(WeChatError) as info:
            await bad.fetch_stable_token()
    assert info.value.errcode == 40125 and "wrong-secret-value" not in str(info.value)
    async with WeChatClient(settings, retry=RetryPolicy(attempts=2, base_delay=0.01)) as client:
        token = await client.tokens.get()
        await interact("o_ivy")
        await fault(endpoint="message/custom/send", errcode=-1, errmsg=f"busy access_token={token}")
        with pytest.raises(SystemBusy) as info:
            await client.send_text("o_ivy", "x")
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("linli"))
    assert ours and token not in ours and token not in str(info.value)
    assert "access_token=***" in str(info.value)
