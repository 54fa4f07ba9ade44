"""Property-based fuzzing of the webhook and of every route reachable without login: no request may get a 5xx.

The webhook runs in compatible mode (plaintext and AES both accepted), so one server exercises both paths. Each
drawn request starts from what WeChat sends and changes some of it: the signing parameters (valid, junk, a
400-digit timestamp), the encryption (a genuine envelope, a short or empty `Encrypt`, a wrong msg_signature), and
the message (hostile openids, pathological text, unknown types, deep or broken XML, random bytes). Requests are
signed with the right token unless the draw says otherwise, so they reach the parser and the dispatcher rather
than stopping at the signature. The public routes (/n/<id>, Open311, the login page, static files, the URL
verification) get junk path segments and query values.

The budget is `LINLI_FUZZ_EXAMPLES` per test (default 12, a few seconds in CI); `LINLI_FUZZ_EXAMPLES=2000` for a
longer run.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
from dataclasses import dataclass

import aiohttp
import pytest
import xmltodict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wechatpy.crypto import WeChatCrypto

from bot.app import build_services, create_app
from bot.protocol import signature
from bot.simulator import ORIGINAL_ID, message_xml
from storage.repositories.org import load_demo
from tests.support import AES_KEY, BASE

EXAMPLES = int(os.environ.get("LINLI_FUZZ_EXAMPLES", "12"))
WEBHOOK_EXAMPLES = EXAMPLES * 5  # the webhook is the unauthenticated surface that matters most


@dataclass
class Live:
    base: str
    loop: asyncio.AbstractEventLoop
    http: aiohttp.ClientSession
    token: str
    crypto: WeChatCrypto

    def call(self, method: str, path: str, *, query: dict | None = None, body: bytes | None = None,
             headers: dict | None = None) -> tuple[int, str]:
        async def send():
            async with self.http.request(method, self.base + path, params=query, data=body, headers=headers,
                                         allow_redirects=False) as resp:
                return resp.status, (await resp.text(errors="replace"))[:300]

        return asyncio.run_coroutine_threadsafe(send(), self.loop).result(timeout=60)


@pytest.fixture(scope="module")
def live(tmp_path_factory, sqlite_template):
    """linli (every feature, the bundled knowledge base, compatible mode) on a SQLite copy, in a thread."""
    path = tmp_path_factory.mktemp("webhook-fuzz") / "fuzz.db"
    shutil.copy(sqlite_template, path)
    config = BASE.with_(database_url=f"sqlite+aiosqlite:///{path}", wechat_api_base="http://127.0.0.1:9",
                        wechat_aes_key=AES_KEY, wechat_encrypt_mode="compat", reply_budget=2.0, http_timeout=0.2)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start():
        services = build_services(config)
        async with services.db.transaction() as session:
            await load_demo(session)
        runner = aiohttp.web.AppRunner(create_app(config, services=services))
        await runner.setup()
        site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return runner, f"http://127.0.0.1:{port}", aiohttp.ClientSession()

    runner, base, http = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=120)
    yield Live(base, loop, http, config.wechat_token, WeChatCrypto(config.wechat_token, AES_KEY, config.wechat_appid))

    async def stop():
        await http.close()
        await runner.cleanup()

    asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=60)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)


JUNK = st.one_of(st.text(max_size=40), st.sampled_from(
    ["", "9" * 400, "-1", "1e309", "0", "²", "%00", "\u202e", "x" * 5000, "0001-01-01", "9999-12-31T23:59:59-23:59",
     str(2**64), "../../etc/passwd", "<script>", "null", "[]"]))
OPENIDS = st.one_of(st.sampled_from(["o_fuzz_a", "o_fuzz_b", "oABCdef_123-xyz0123456789abcd"]),
                    st.text(max_size=80), st.sampled_from(["o" * 5000, "o\tx", "o\u0001x", "o 空格", "'; drop --"]))
CONTENT = st.one_of(
    st.text(max_size=200),
    st.sampled_from(["绑定", "投诉", "帮助", "我的信息", "删除我的信息", "确认删除", "取消", "转人工", "1", "物业费怎么交",
                     "公示", "]]></Content><MsgType>image</MsgType>", "[" * 20_000, "x" * 20_000, ">" * 1200,
                     "物业费" * 3000, "\ud7ff\ue000\uffff"]),
)
KINDS = st.sampled_from(["text", "event", "image", "voice", "location", "link", "unknownkind", ""])
EVENTS = st.sampled_from(["subscribe", "unsubscribe", "CLICK", "VIEW", "SCAN", "LOCATION", "TEMPLATESENDJOBFINISH",
                          "", "weird"])


def _xml_text(value: str) -> str:
    return value.replace("]]>", "]]]]><![CDATA[>")


@st.composite
def plaintext_messages(draw) -> str:
    kind = draw(KINDS)
    openid = draw(OPENIDS)
    fields: dict = {}
    if kind == "text":
        fields["Content"] = _xml_text(draw(CONTENT))
    elif kind == "event":
        fields["Event"] = draw(EVENTS)
        if draw(st.booleans()):
            fields["EventKey"] = _xml_text(draw(st.one_of(st.text(max_size=30), st.sampled_from(
                ["qrscene_HX-YYL-YJ", "qrscene_", "BIND", "ASK", "9" * 100]))))
    elif kind == "location":
        fields.update(Location_X=draw(JUNK), Location_Y="117.2", Scale="15", Label="天津")
    elif kind:
        fields.update(MediaId=draw(st.text(max_size=20)), PicUrl=draw(st.sampled_from(
            ["http://example.invalid/p.jpg", "javascript:alert(1)", ""])))
    try:
        xml = message_xml(_xml_text(openid), kind, fields, create_time=draw(st.sampled_from([None, 1, 2**40])),
                          msg_id=draw(st.integers(0, 2**70)))
    except ValueError:
        xml = "<xml></xml>"
    return draw(st.one_of(
        st.just(xml),
        st.just(xml[: len(xml) // 2]),  # truncated
        st.just(xml.replace("<xml>", "<xml>" + "<a>" * 3000, 1).replace("</xml>", "</a>" * 3000 + "</xml>")),
        st.just('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + xml.replace("<MsgType>", "<X>&a;</X>"
                                                                                       "<MsgType>", 1)),
        st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    ))


def _sign(live: Live, draw, plain: str) -> tuple[dict, bytes]:
    now = int(time.time())
    ts = draw(st.one_of(st.just(str(now)), st.just(str(now - 10)), JUNK), label="timestamp")
    nonce = draw(st.one_of(st.integers(0, 10**10).map(str), JUNK), label="nonce")
    query = {"timestamp": ts, "nonce": nonce}
    query["signature"] = draw(st.one_of(st.just(signature(live.token, ts, nonce)), JUNK), label="signature")
    if not draw(st.booleans(), label="encrypted"):
        return query, plain.encode("utf-8", "surrogatepass")
    try:
        encrypted = xmltodict.parse(live.crypto.encrypt_message(plain, nonce, ts))["xml"]["Encrypt"]
    except Exception:  # wechatpy itself cannot encrypt this (not text): send junk in its place
        encrypted = "QUJD"
    encrypted = draw(st.one_of(st.just(encrypted), st.just(""), st.just(encrypted[:20]), st.just(encrypted[:-4]),
                               st.text(max_size=60)), label="Encrypt")
    query["encrypt_type"] = draw(st.sampled_from(["aes", "AES", "raw", ""]), label="encrypt_type")
    query["msg_signature"] = draw(st.one_of(st.just(signature(live.token, ts, nonce, encrypted)), JUNK),
                                  label="msg_signature")
    body = f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName><Encrypt><![CDATA[{_xml_text(encrypted)}]]>" \
           "</Encrypt></xml>"
    return query, body.encode("utf-8", "surrogatepass")


def _sendable(query: dict) -> bool:
    return not any("\x00" in v or any(0xD800 <= ord(c) <= 0xDFFF for c in v) for v in query.values())


def test_the_webhook_never_answers_5xx(live):
    @settings(max_examples=WEBHOOK_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data):
        plain = data.draw(plaintext_messages(), label="message")
        query, body = _sign(live, data.draw, plain)
        if not _sendable(query):
            return
        try:
            status, text = live.call("POST", "/wechat", query=query, body=body)
        except (UnicodeEncodeError, ValueError):
            return  # the client itself cannot send it: nothing reached linli
        assert status < 500, f"POST /wechat {query} {body[:200]!r} → {status} {text}"

    run()


PUBLIC = [
    ("GET", "/wechat", ["signature", "timestamp", "nonce", "echostr"]),
    ("GET", "/n/{id}", ["v", "version", "lang"]),
    ("GET", "/open311/v2/services.json", ["api_key", "jurisdiction_id"]),
    ("GET", "/open311/v2/requests.json", ["api_key", "start_date", "end_date", "status", "service_code",
                                          "service_request_id", "jurisdiction_id"]),
    ("GET", "/open311/v2/requests/{id}.json", ["api_key", "jurisdiction_id"]),
    ("GET", "/console/login", ["next", "error"]),
    ("POST", "/console/login", ["next"]),
    ("GET", "/console/static/{id}", []),
    ("GET", "/console", []),
    ("GET", "/console/reports/report.css", []),
    ("GET", "/console/scorecards/print.css", []),
    ("GET", "/healthz", []),
    ("GET", "/metrics", []),
]
SEGMENTS = st.one_of(JUNK, st.sampled_from(["JF20261126-0001", "jf20261126-0001", "a" * 22, "console.css",
                                            "%2e%2e%2f", "x.json", "1"]))


@pytest.mark.parametrize("method,path,names", PUBLIC, ids=[f"{m} {p}" for m, p, _ in PUBLIC])
def test_no_public_route_answers_5xx(live, method, path, names):
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data):
        url = path.replace("{id}", data.draw(SEGMENTS, label="segment")) if "{id}" in path else path
        query = {name: data.draw(JUNK, label=name) for name in names if data.draw(st.booleans(), label=name)}
        if data.draw(st.booleans(), label="unknown parameter"):
            query[data.draw(st.text(min_size=1, max_size=10), label="name")] = data.draw(JUNK, label="value")
        body = None
        headers = {"X-Request-Id": data.draw(JUNK, label="request id")}
        if method == "POST":
            body = data.draw(st.one_of(st.binary(max_size=300), st.sampled_from([
                b"username=admin&password=x&csrf=y", b"username=" + b"a" * 5000, b"%ff%fe=1", b"a=\xff"])),
                label="form")
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if not _sendable(query) or not _sendable(headers):
            return
        try:
            status, text = live.call(method, url, query=query, body=body, headers=headers)
        except (UnicodeEncodeError, ValueError, aiohttp.InvalidURL, aiohttp.ClientError):
            return  # the client itself cannot send it (a control character in a header or the path)
        assert status < 500, f"{method} {url} {query} {body!r:.200} → {status} {text}"

    run()
