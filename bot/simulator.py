"""WeChat's side of the webhook: builds, signs (and in safe mode encrypts) messages exactly as WeChat does,
posts them to a running linli, and reads the reply. Used by `linli chat`, the tests and the benchmarks.

When a sandbox URL is given it also tells the sandbox about each interaction, as real WeChat would know it,
so the customer-service window opens there.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from itertools import count
from typing import Any

import aiohttp
import xmltodict
from wechatpy.crypto import WeChatCrypto

from bot.protocol import signature

_msg_ids = count(int(time.time() * 1000) % 10**12 * 1000)
ORIGINAL_ID = "gh_5a1d0c0ffee0"


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


# a stand-in photo (a JPEG header and padding) for the sandbox's media store: `media/get` serves it as image/jpeg
SAMPLE_PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(512) + b"\xff\xd9"


def message_xml(openid: str, msg_type: str, fields: dict[str, Any], *, create_time: int | None = None,
                msg_id: int | None = None, account: str = ORIGINAL_ID) -> str:
    """The plaintext XML WeChat posts for a message (`msg_id` is added for non-events)."""
    parts = [
        f"<ToUserName>{_cdata(account)}</ToUserName>",
        f"<FromUserName>{_cdata(openid)}</FromUserName>",
        f"<CreateTime>{create_time or int(time.time())}</CreateTime>",
        f"<MsgType>{_cdata(msg_type)}</MsgType>",
    ]
    for name, value in fields.items():
        parts.append(f"<{name}>{value if isinstance(value, int) else _cdata(str(value))}</{name}>")
    if msg_type != "event":
        parts.append(f"<MsgId>{msg_id if msg_id is not None else next(_msg_ids)}</MsgId>")
    return "<xml>" + "".join(parts) + "</xml>"


def text_xml(openid: str, content: str, **kw) -> str:
    return message_xml(openid, "text", {"Content": content}, **kw)


def event_xml(openid: str, event: str, key: str | None = None, **kw) -> str:
    fields: dict[str, Any] = {"Event": event}
    if key is not None:
        fields["EventKey"] = key
    return message_xml(openid, "event", fields, **kw)


class SandboxUnavailable(ConnectionError):
    """The WeChat sandbox (which stands in for WeChat's servers) is not running at `url`."""

    def __init__(self, url: str):
        super().__init__(url)
        self.url = url


@dataclass
class Response:
    status: int
    body: str
    text: str | None  # the reply's Content when it is a text reply
    msg_type: str | None


class WeChatSimulator:
    def __init__(self, url: str, token: str, appid: str, aes_key: str | None = None, *,
                 sandbox_url: str | None = None, session: aiohttp.ClientSession | None = None):
        self.url, self.token, self.appid = url, token, appid
        self.crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None
        self.sandbox_url = sandbox_url.rstrip("/") if sandbox_url else None
        self._session = session
        self._own = session is None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        if self._own and self._session is not None:
            await self._session.close()

    def sign(self, xml: str, *, timestamp: int | None = None, nonce: str | None = None) -> tuple[dict, str]:
        """Query parameters and body for `xml`, in plaintext or safe mode."""
        ts, nonce = str(timestamp or int(time.time())), nonce or secrets.token_hex(5)
        query = {"signature": signature(self.token, ts, nonce), "timestamp": ts, "nonce": nonce}
        if self.crypto is None:
            return query, xml
        envelope = xmltodict.parse(self.crypto.encrypt_message(xml, nonce, ts))["xml"]
        encrypted = envelope["Encrypt"]
        query.update(encrypt_type="aes", msg_signature=signature(self.token, ts, nonce, encrypted))
        body = f"<xml><ToUserName>{_cdata(ORIGINAL_ID)}</ToUserName><Encrypt>{_cdata(encrypted)}</Encrypt></xml>"
        return query, body

    async def post(self, xml: str, **kw) -> Response:
        query, body = self.sign(xml, **kw)
        async with self.session.post(self.url, params=query, data=body.encode()) as resp:
            raw = await resp.text()
            return self.read_reply(resp.status, raw, query)

    def read_reply(self, status: int, raw: str, query: dict) -> Response:
        if status != 200 or not raw.startswith("<xml"):
            return Response(status, raw, None, None)
        plain = raw
        if self.crypto is not None:
            doc = xmltodict.parse(raw)["xml"]
            plain = self.crypto.decrypt_message(raw, doc["MsgSignature"], doc["TimeStamp"], doc["Nonce"])
        fields = xmltodict.parse(plain)["xml"]
        return Response(status, plain, fields.get("Content"), fields.get("MsgType"))

    async def _interaction(self, openid: str, kind: str) -> None:
        """Tell the sandbox the resident interacted (it opens WeChat's 48-hour window for pushes)."""
        if self.sandbox_url:
            try:
                async with self.session.post(f"{self.sandbox_url}/sandbox/interactions",
                                             json={"openid": openid, "kind": kind}) as resp:
                    await resp.read()
            except aiohttp.ClientConnectionError as exc:
                raise SandboxUnavailable(self.sandbox_url) from exc

    async def text(self, openid: str, content: str) -> Response:
        await self._interaction(openid, "message")
        return await self.post(text_xml(openid, content))

    async def event(self, openid: str, event: str, key: str | None = None) -> Response:
        kind = {"subscribe": "subscribe", "SCAN": "scan", "CLICK": "click", "unsubscribe": "unsubscribe"}.get(event)
        if kind:
            await self._interaction(openid, kind)
        return await self.post(event_xml(openid, event, key))

    async def image(self, openid: str, pic_url: str = "http://example.invalid/p.jpg") -> Response:
        """A photo. With a sandbox, the photo is first put there (as WeChat keeps a resident's photo), so linli
        can download and keep it with `media/get`; otherwise its MediaId names nothing."""
        await self._interaction(openid, "message")
        media_id = secrets.token_hex(8)
        if self.sandbox_url:
            async with self.session.post(f"{self.sandbox_url}/sandbox/media?type=image", data=SAMPLE_PHOTO,
                                         headers={"Content-Type": "image/jpeg"}) as resp:
                media_id = str((await resp.json()).get("media_id") or media_id)
        return await self.post(message_xml(openid, "image", {"PicUrl": pic_url, "MediaId": media_id}))

    async def voice(self, openid: str, recognition: str = "") -> Response:
        """A voice message; WeChat adds its speech recognition (`Recognition`) when the account enabled it."""
        await self._interaction(openid, "message")
        fields = {"MediaId": secrets.token_hex(8), "Format": "amr"}
        if recognition:
            fields["Recognition"] = recognition
        return await self.post(message_xml(openid, "voice", fields))

    async def location(self, openid: str, lat: float = 39.1256, lng: float = 117.1901, label: str = "",
                       scale: int = 15) -> Response:
        """A location message (the resident shared a place on the map)."""
        await self._interaction(openid, "message")
        return await self.post(message_xml(openid, "location", {
            "Location_X": f"{lat:.6f}", "Location_Y": f"{lng:.6f}", "Scale": scale, "Label": label}))

    async def pushed(self, openid: str, after: int = 0) -> list[dict]:
        """Messages linli pushed to `openid` through the sandbox since delivery id `after`."""
        if not self.sandbox_url:
            return []
        async with self.session.get(f"{self.sandbox_url}/sandbox/messages",
                                    params={"openid": openid, "after": str(after)}) as resp:
            data = await resp.json()
        return data.get("messages", data) if isinstance(data, dict) else data
