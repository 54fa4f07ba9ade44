"""The only module that touches wechatpy: signatures, safe-mode crypto, parsing and reply rendering.

Everything here is a pure function of its inputs (plus the clock for timestamps and the nonce generator),
so the wire format is tested without a server.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any, Mapping
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy.events import EVENT_TYPES
from wechatpy.messages import MESSAGE_TYPES, UnknownMessage
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply

from bot.types import InboundMessage, Reply

CDATA_END = "]]>"
_SAFE_CDATA_END = "]]]]><![CDATA[>"  # closes and reopens CDATA: the reader sees "]]>" as text


class ProtocolError(Exception):
    """A request WeChat would never send. `status` is the HTTP answer (403 or 400)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def signature(token: str, *parts: str) -> str:
    return hashlib.sha1("".join(sorted([token, *parts])).encode()).hexdigest()


def check_signature(token: str, sig: str, timestamp: str, nonce: str) -> bool:
    return hmac.compare_digest(signature(token, timestamp, nonce), sig or "")


def check_timestamp(timestamp: str, window: int, now: float | None = None) -> None:
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        raise ProtocolError(403, "timestamp missing or not a number") from None
    if abs((time.time() if now is None else now) - ts) > window:
        raise ProtocolError(403, "timestamp outside the accepted window")


@dataclass(frozen=True)
class Envelope:
    """What is needed to answer: the parsed message and the crypto (if any) that opened it."""

    message: InboundMessage
    crypto: WeChatCrypto | None


class Codec:
    """Opens inbound bodies and renders replies for one account's token, AppID and AES keys."""

    def __init__(self, token: str, appid: str, aes_keys: list[str]):
        self.token = token
        self.appid = appid
        self._cryptos = [WeChatCrypto(token, key, appid) for key in aes_keys if key]

    def open(self, body: bytes, query: Mapping[str, str]) -> Envelope:
        """Verify and parse a POST body. Raises ProtocolError(403|400)."""
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        if not check_signature(self.token, query.get("signature", ""), timestamp, nonce):
            raise ProtocolError(403, "bad signature")
        text = _decode(body)
        if query.get("encrypt_type", "raw").lower() != "aes":
            return Envelope(parse(text), None)
        if not self._cryptos:
            # Compatible mode configured on the platform while we hold no key: read the plaintext copy.
            return Envelope(parse(text), None)
        msg_signature = query.get("msg_signature", "")
        crypto, plain = self._decrypt(text, msg_signature, timestamp, nonce)
        return Envelope(parse(plain), crypto)

    def _decrypt(self, text: str, msg_signature: str, timestamp: str, nonce: str) -> tuple[WeChatCrypto, str]:
        _check_xml_shape(text)
        last: Exception | None = None
        for crypto in self._cryptos:  # current key first, then the previous one (rotation)
            try:
                return crypto, crypto.decrypt_message(text, msg_signature, timestamp, nonce)
            except InvalidSignatureException:
                raise ProtocolError(403, "bad msg_signature") from None
            except (InvalidAppIdException, ValueError, UnicodeDecodeError, KeyError, TypeError) as exc:
                last = exc
        raise ProtocolError(400, f"cannot decrypt with any configured key ({type(last).__name__})")

    def render(self, reply: Reply, message: InboundMessage, crypto: WeChatCrypto | None) -> str:
        """Render `reply` as the passive-reply body (`success` when there is nothing to say)."""
        if reply.silent or not reply.text:
            return "success"
        xml = TextReply(source=message.account, target=message.openid, content=escape_cdata(reply.text)).render()
        if crypto is None:
            return xml
        return crypto.encrypt_message(xml, secrets.token_hex(8), str(int(time.time())))


def escape_cdata(text: str) -> str:
    """Make text safe inside a CDATA section (wechatpy wraps fields without escaping `]]>`)."""
    return text.replace(CDATA_END, _SAFE_CDATA_END)


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(400, "body is not UTF-8") from None


def _check_xml_shape(text: str) -> dict[str, Any]:
    try:
        doc = xmltodict.parse(text, disable_entities=True)
    except (ExpatError, ValueError) as exc:
        raise ProtocolError(400, f"malformed XML: {type(exc).__name__}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("xml"), dict):
        raise ProtocolError(400, "XML root must be <xml>")
    return doc["xml"]


def parse(text: str) -> InboundMessage:
    """Parse a plaintext WeChat message into an InboundMessage. Raises ProtocolError(400)."""
    fields = _check_xml_shape(text)
    if not isinstance(fields.get("FromUserName"), str) or not isinstance(fields.get("MsgType"), str):
        raise ProtocolError(400, "FromUserName and MsgType are required")
    try:
        parsed = _typed(dict(fields))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ProtocolError(400, f"unparseable message: {type(exc).__name__}") from None
    return _to_inbound(parsed, fields)


def _typed(fields: dict[str, Any]) -> Any:
    """wechatpy's typed message for already-parsed fields (what `wechatpy.parse_message` does after parsing
    the XML, which we have done once already with entities disabled)."""
    msg_type = fields["MsgType"].lower()
    if msg_type != "event":
        return MESSAGE_TYPES.get(msg_type, UnknownMessage)(fields)
    event = str(fields.get("Event") or "").lower()
    key = fields.get("EventKey")
    if event == "subscribe" and isinstance(key, str) and key.startswith("qrscene_"):
        event, fields["Event"], fields["EventKey"] = "subscribe_scan", "subscribe_scan", key[len("qrscene_"):]
    return EVENT_TYPES.get(event, UnknownMessage)(fields)


def _to_inbound(parsed: Any, fields: dict[str, Any]) -> InboundMessage:
    kind = parsed.type if parsed.type != "unknown" else "unknown"
    msg_type = str(fields.get("MsgType", "")).lower()
    if msg_type == "event":
        kind = "event"
    event = str(getattr(parsed, "event", "") or fields.get("Event") or "").lower() if kind == "event" else ""
    event_key = _text(fields.get("EventKey"))
    if event == "subscribe_scan":
        event_key = getattr(parsed, "scene_id", event_key) or ""
    return InboundMessage(
        kind=kind,
        openid=_text(fields.get("FromUserName")),
        account=_text(fields.get("ToUserName")),
        create_time=_text(fields.get("CreateTime")),
        msg_id=_text(fields.get("MsgId") or fields.get("MsgID") or "0"),
        event=event,
        event_key=event_key,
        content=_text(fields.get("Content")) if kind == "text" else "",
        media_id=_text(fields.get("MediaId")),
        pic_url=_text(fields.get("PicUrl")),
        raw=fields,
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))
