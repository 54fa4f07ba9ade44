"""Issue 15: the webhook's encrypt modes, its replay cache, and the malformed requests that used to be 500s.

Messages are built, signed and (in safe mode) encrypted by the simulator exactly as WeChat does; an attacker's
requests are the same requests with one part changed.
"""
from __future__ import annotations

import asyncio
import time

import pytest
import xmltodict
from sqlalchemy import func, select

from bot.protocol import signature
from bot.settings import SettingsError, parse
from bot.simulator import Response, text_xml
from storage.models import Conversation, Resident, WebhookNonce
from tests.bot.test_webhook import echo_router
from tests.support import AES_KEY


async def _post(sim, query, body: str | bytes, *, plaintext: bool = False):
    async with sim.session.post(sim.url, params=query, data=body if isinstance(body, bytes) else body.encode()) as r:
        if plaintext:  # the reply to a plaintext request is plaintext whatever the simulator's key
            raw = await r.text()
            return Response(r.status, raw, xmltodict.parse(raw)["xml"]["Content"] if r.status == 200 else None, None)
        return sim.read_reply(r.status, await r.text(), query)


async def _residents(bot, openid):
    async with bot.services.db.transaction() as session:
        return await session.scalar(select(func.count()).select_from(Resident).where(Resident.openid == openid))


def _plain_signed(sim, xml: str, ts: int | None = None, nonce: str = "4242424242"):
    """A plaintext request signed with the token, as an attacker who knows it (or captured a signature) sends."""
    ts_text = str(ts or int(time.time()))
    return {"signature": signature(sim.token, ts_text, nonce), "timestamp": ts_text, "nonce": nonce}, xml


# ---- encrypt modes -----------------------------------------------------------------------------------------------


async def test_safe_mode_refuses_a_plaintext_message(start_bot, settings):
    """With an AES key the default is safe mode: a correctly signed plaintext POST is 403 and has no effect."""
    bot = await start_bot(settings.with_(wechat_aes_key=AES_KEY), aes_key=AES_KEY, routers=[echo_router()])
    query, body = _plain_signed(bot.sim, text_xml("o_forged", "我的信息"))
    refused = await _post(bot.sim, query, body)
    assert refused.status == 403 and "safe mode" in refused.body
    assert await _residents(bot, "o_forged") == 0
    # a request marked encrypt_type=aes but carrying only plaintext fields is refused too
    marked = {**query, "encrypt_type": "aes", "msg_signature": "0" * 40}
    assert (await _post(bot.sim, marked, body)).status in (400, 403)
    assert await _residents(bot, "o_forged") == 0
    genuine = await bot.sim.text("o_real", "你好")  # WeChat's encrypted message still works
    assert genuine.status == 200 and genuine.text == "你说：你好（第1次）"


async def test_compat_mode_accepts_both_and_plain_mode_reads_plaintext(start_bot, settings):
    compat = await start_bot(settings.with_(wechat_aes_key=AES_KEY, wechat_encrypt_mode="compat"), aes_key=AES_KEY,
                             routers=[echo_router()])
    assert (await compat.sim.text("o_c1", "加密")).text == "你说：加密（第1次）"
    query, body = _plain_signed(compat.sim, text_xml("o_c2", "明文"))
    assert (await _post(compat.sim, query, body, plaintext=True)).text == "你说：明文（第1次）"
    plain = await start_bot(settings.with_(wechat_aes_key=AES_KEY, wechat_encrypt_mode="plain"),
                            routers=[echo_router()], demo=False)
    assert (await plain.sim.text("o_p1", "明文模式")).text == "你说：明文模式（第1次）"


def test_the_mode_setting_is_declared_and_checked():
    assert parse({}).encrypt_mode == "plain"
    assert parse({"WECHAT_AES_KEY": AES_KEY}).encrypt_mode == "safe"
    assert parse({"WECHAT_AES_KEY": AES_KEY, "WECHAT_ENCRYPT_MODE": "COMPAT"}).encrypt_mode == "compat"
    with pytest.raises(SettingsError, match="WECHAT_AES_KEY"):
        parse({"WECHAT_ENCRYPT_MODE": "safe"})
    with pytest.raises(SettingsError, match="WECHAT_ENCRYPT_MODE"):
        parse({"WECHAT_ENCRYPT_MODE": "aes"})


# ---- replay --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_a_signed_pair_is_accepted_once(start_bot, settings, mode):
    aes = AES_KEY if mode == "safe" else None
    bot = await start_bot(settings.with_(wechat_aes_key=aes), aes_key=aes, routers=[echo_router()])
    ts, nonce = int(time.time()), "1122334455"
    query, body = bot.sim.sign(text_xml("o_victim", "第一条", msg_id=5001), timestamp=ts, nonce=nonce)
    assert (await _post(bot.sim, query, body)).text == "你说：第一条（第1次）"
    # the captured signature with another body (another resident, another message): refused, no effect
    forged_query, forged = bot.sim.sign(text_xml("o_attacker", "冒充", msg_id=5002), timestamp=ts, nonce=nonce)
    if mode == "plain":
        assert forged_query == query  # the plaintext signature does not cover the body
    refused = await _post(bot.sim, forged_query, forged)
    assert refused.status == 403 and "already used" in refused.body
    assert await _residents(bot, "o_attacker") == 0
    # the very same request again is WeChat's retry: answered from the dedupe record, no second effect
    again = await _post(bot.sim, query, body)
    assert again.status == 200 and again.text == "你说：第一条（第1次）"
    async with bot.services.db.transaction() as session:
        assert (await session.get(Conversation, "o_victim")).data["n"] == 1


async def test_the_replay_cache_is_shared_by_workers(start_bot, settings):
    first = await start_bot(settings, routers=[echo_router()])
    second = await start_bot(settings, routers=[echo_router()], demo=False)
    ts, nonce = int(time.time()), "9988776655"
    query, body = first.sim.sign(text_xml("o_w1", "甲", msg_id=5101), timestamp=ts, nonce=nonce)
    _, other = first.sim.sign(text_xml("o_w2", "乙", msg_id=5102), timestamp=ts, nonce=nonce)
    answers = await asyncio.gather(_post(first.sim, query, body), _post(second.sim, query, other))
    assert sorted(a.status for a in answers) == [200, 403]
    assert await _residents(first, "o_w1") + await _residents(first, "o_w2") == 1
    async with first.services.db.transaction() as session:
        stored = await session.get(WebhookNonce, f"{ts}:{nonce}")
    assert stored is not None and stored.expires_at.timestamp() > ts + settings.timestamp_window


async def test_a_pair_stays_claimed_when_the_first_message_failed(start_bot, settings):
    """The claim is written in the message's transaction; a handler error rolls that back, so the pair is claimed
    again on its own: it cannot be reused with another body after an error reply either."""
    from bot.router import Router

    router = Router("boom")

    @router.text()
    async def boom(ctx):
        raise RuntimeError("a handler bug")

    bot = await start_bot(settings, routers=[router])
    ts, nonce = int(time.time()), "5566778899"
    query, body = bot.sim.sign(text_xml("o_err", "第一条", msg_id=5201), timestamp=ts, nonce=nonce)
    assert (await _post(bot.sim, query, body)).status == 200  # the polite error reply
    _, forged = bot.sim.sign(text_xml("o_err2", "冒充", msg_id=5202), timestamp=ts, nonce=nonce)
    assert (await _post(bot.sim, query, forged)).status == 403
    assert await _residents(bot, "o_err2") == 0


async def test_timestamps_outside_the_window_are_refused(start_bot, settings):
    bot = await start_bot(settings, routers=[echo_router()])
    for skew in (-settings.timestamp_window - 5, settings.timestamp_window + 5):
        query, body = bot.sim.sign(text_xml("o_clock", "时间"), timestamp=int(time.time()) + skew)
        assert (await _post(bot.sim, query, body)).status == 403
    assert await _residents(bot, "o_clock") == 0


# ---- malformed requests: clear 4xx answers, never 500 --------------------------------------------------------------


async def test_malformed_webhook_requests_are_refused_cleanly(start_bot, settings):
    bot = await start_bot(settings.with_(wechat_aes_key=AES_KEY), aes_key=AES_KEY, routers=[echo_router()])
    sim = bot.sim
    query, body = sim.sign(text_xml("o_shape", "你好"))
    huge = {**query, "timestamp": "9" * 400}
    assert (await _post(sim, huge, body)).status == 403
    assert (await _post(sim, {**query, "nonce": "x" * 500}, body)).status == 403
    assert (await _post(sim, {**query, "signature": "ab"}, body)).status == 403
    ts, nonce = query["timestamp"], query["nonce"]
    for encrypted in ("", "a", "QUJD", "!!!!", "A" * 24, "A" * 43):
        envelope = f"<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        signed = {**query, "encrypt_type": "aes", "msg_signature": signature(sim.token, ts, nonce, encrypted)}
        answer = await _post(sim, signed, envelope)
        assert answer.status == 400, (encrypted, answer.body)
        assert "Error" not in answer.body  # no exception class names in replies
    nested = "<xml>" + "<a>" * 4_000 + "</a>" * 4_000 + "</xml>"  # RecursionError in xmltodict before
    assert (await _post(sim, {**query, "encrypt_type": "aes", "msg_signature": "0" * 40}, nested)).status == 400


async def test_implausible_openids_never_become_residents(start_bot, settings):
    bot = await start_bot(settings, routers=[echo_router()])
    for openid in ("o" * 5000, "o_tab\tx", "o_nl\u0001x", "o 空格", "'; drop"):
        answer = await bot.sim.post(text_xml(openid, "你好"))
        assert answer.status == 400, openid[:20]
    async with bot.services.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Resident)
                                    .where(func.length(Resident.openid) > 64)) == 0
    nested = text_xml("o_deep", "<a>" * 3000)  # CDATA: text, not nesting; accepted
    assert (await bot.sim.post(nested)).status == 200
    deep = text_xml("o_deep", "x").replace("<Content>", "<Content>" + "<a>" * 3000 + "</a>" * 3000)
    assert (await bot.sim.post(deep)).status == 400


def test_xmltodict_is_pinned_to_the_reviewed_range():
    """wechatpy pulls xmltodict in unpinned; linli pins it (pyproject.toml) and runs the pinned version."""
    import tomllib
    from importlib.metadata import version
    from pathlib import Path

    from packaging.requirements import Requirement

    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    pins = [Requirement(r) for r in project["project"]["dependencies"] if r.startswith("xmltodict")]
    assert len(pins) == 1 and pins[0].specifier, "xmltodict must be pinned to a reviewed range"
    spec = pins[0].specifier
    assert any(s.operator == "<" for s in spec) and any(s.operator == ">=" for s in spec)
    assert version("xmltodict") in spec
    with pytest.raises(Exception):  # the parser linli relies on refuses entity declarations
        xmltodict.parse('<!DOCTYPE x [<!ENTITY a "b">]><xml>&a;</xml>', disable_entities=True)


async def test_the_500s_the_fuzzer_found_are_clean_refusals(bot):
    """GET /wechat with a non-ASCII signature (hmac.compare_digest raised TypeError) and a login form that is not
    UTF-8 (aiohttp's request.post() raised UnicodeDecodeError) were 500s."""
    sim = bot.sim
    async with sim.session.get(sim.url, params={"signature": "签名", "timestamp": "1", "nonce": "1",
                                                "echostr": "x"}) as resp:
        assert resp.status == 403
    async with sim.session.get(sim.url, params={"signature": "a" * 40, "timestamp": "9" * 400, "nonce": "1"}) as resp:
        assert resp.status == 403
    async with sim.session.post(bot.server.make_url("/console/login"), data=b"username=\xff\xfe&password=\x80",
                                headers={"Content-Type": "application/x-www-form-urlencoded"}) as resp:
        assert resp.status == 400 and "请求有误" in await resp.text()
    async with sim.session.get(bot.server.make_url("/console/static/" + "9" * 400)) as resp:
        assert resp.status == 404  # ENAMETOOLONG from the file system was a 500
