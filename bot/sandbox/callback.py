"""Pushes `TEMPLATESENDJOBFINISH` events to the account's callback URL after a template send, signed as WeChat
signs pushes (`signature = sha1(sorted([token, timestamp, nonce]))` in the query string) and, given the account's
AES key, encrypts them as in safe mode (`encrypt_type=aes`, `msg_signature`, an `Encrypt` envelope).

Every push runs as a tracked task; results are counted for the stats endpoint and tasks are cancelled at cleanup.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from xml.sax.saxutils import escape

import aiohttp
import xmltodict

log = logging.getLogger("linli.sandbox")


def sign(token: str, timestamp: str, nonce: str) -> str:
    return sign_all(token, timestamp, nonce)


def sign_all(token: str, *parts: str) -> str:
    return hashlib.sha1("".join(sorted([token, *parts])).encode()).hexdigest()


def job_finish_xml(original_id: str, openid: str, created: int, msgid: int, status: str) -> str:
    return (
        "<xml>"
        f"<ToUserName><![CDATA[{escape(original_id)}]]></ToUserName>"
        f"<FromUserName><![CDATA[{escape(openid)}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime>"
        "<MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event>"
        f"<MsgID>{msgid}</MsgID>"
        f"<Status><![CDATA[{escape(status)}]]></Status>"
        "</xml>"
    )


class CallbackPusher:
    def __init__(self, url: str | None, token: str | None, original_id: str, delay: float = 0.0, crypto=None):
        self.url, self.token, self.original_id, self.delay = url, token, original_id, delay
        self.crypto = crypto  # wechatpy WeChatCrypto: push encrypted (safe mode)
        self.tasks: set[asyncio.Task] = set()
        self.results = {"sent": 0, "failed": 0}

    @property
    def enabled(self) -> bool:
        return bool(self.url and self.token)

    def push(self, openid: str, created: int, msgid: int, status: str) -> None:
        if not self.enabled:
            return
        body = job_finish_xml(self.original_id, openid, created, msgid, status)
        task = asyncio.create_task(self._post(openid, str(created), body))
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.results["failed"] += 1
            log.warning("template-message callback push failed: %r", task.exception())

    async def _post(self, openid: str, timestamp: str, body: str) -> None:
        assert self.url and self.token, "pushes are only scheduled when enabled"
        await asyncio.sleep(self.delay)
        nonce = str(secrets.randbelow(10**9))
        params = {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
                  "openid": openid}
        if self.crypto is not None:
            encrypted = xmltodict.parse(self.crypto.encrypt_message(body, nonce, timestamp))["xml"]["Encrypt"]
            params.update(encrypt_type="aes", msg_signature=sign_all(self.token, timestamp, nonce, encrypted))
            body = (f"<xml><ToUserName><![CDATA[{escape(self.original_id)}]]></ToUserName>"
                    f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            async with session.post(self.url, params=params, data=body.encode(),
                                    headers={"Content-Type": "text/xml"}) as resp:
                resp.raise_for_status()
        self.results["sent"] += 1

    async def drain(self) -> None:
        """Wait for pending pushes (tests call this before asserting)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*list(self.tasks), return_exceptions=True)
