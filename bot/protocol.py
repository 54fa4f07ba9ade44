"""The only module that touches wechatpy: signatures, safe-mode crypto, parsing and reply rendering.

Everything here is a pure function of its inputs (plus the clock for timestamps and the nonce generator),
so the wire format is tested without a server.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Mapping, Sequence
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.events import EVENT_TYPES
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.messages import MESSAGE_TYPES, UnknownMessage
from wechatpy.replies import TextReply

from bot.types import InboundMessage, Reply

CDATA_END = "]]>"
MODES = ("plain", "compat", "safe")
# What WeChat sends: a 10-digit Unix time, a numeric nonce, a SHA-1 hex signature, 28-character openids. The
# bounds are generous, but anything else is refused before it is parsed (a 400-digit timestamp overflowed the
# clock arithmetic) or stored (a 5,000-character openid became a resident).
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_NONCE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SIGNATURE = re.compile(r"[0-9a-fA-F]{40}")
_OPENID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ENCRYPTED = re.compile(r"[A-Za-z0-9+/]+={0,2}")
MAX_XML_DEPTH = 16  # WeChat's messages nest at most five levels (<xml><SendPicsInfo><PicList><item>…); refuse far deeper
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
    # bytes: compare_digest refuses str with non-ASCII characters (a TypeError, once a 500 on GET /wechat)
    return hmac.compare_digest(signature(token, timestamp, nonce).encode(), (sig or "").encode("utf-8", "replace"))


def check_query(query: Mapping[str, str]) -> None:
    """The signing parameters' shape, checked before anything is computed from them. Raises ProtocolError(403)."""
    if not _TIMESTAMP.fullmatch(query.get("timestamp", "")):
        raise ProtocolError(403, "timestamp missing or not a number")
    if not _NONCE.fullmatch(query.get("nonce", "")):
        raise ProtocolError(403, "nonce missing or malformed")
    if not _SIGNATURE.fullmatch(query.get("signature", "")):
        raise ProtocolError(403, "bad signature")


def check_timestamp(timestamp: str, window: int, now: float | None = None) -> None:
    if not isinstance(timestamp, str) or not _TIMESTAMP.fullmatch(timestamp):
        raise ProtocolError(403, "timestamp missing or not a number")
    ts = int(timestamp)
    if abs((time.time() if now is None else now) - ts) > window:
        raise ProtocolError(403, "timestamp outside the accepted window")


@dataclass(frozen=True)
class Envelope:
    """What is needed to answer: the parsed message and the crypto (if any) that opened it."""

    message: InboundMessage
    crypto: WeChatCrypto | None


def encrypt_mode(mode: str, aes_key: str | None) -> str:
    """The effective WECHAT_ENCRYPT_MODE: as configured, else `safe` when an AES key is set, `plain` otherwise."""
    return mode or ("safe" if aes_key else "plain")


class Codec:
    """Opens inbound bodies and renders replies for one account's token, AppID, AES keys and encrypt mode.

    Modes (WECHAT_ENCRYPT_MODE), as on the platform's 服务器配置:
      plain   明文模式: the body is read as plaintext (an `Encrypt` field is ignored), replies are plaintext;
      compat  兼容模式: a request marked `encrypt_type=aes` is decrypted and answered encrypted, others plaintext;
      safe    安全模式: only encrypted requests; a plaintext one is refused with 403 (it would let anyone who knows
              the token, or holds one captured signature, speak for any resident).
    """

    def __init__(self, token: str, appid: str, aes_keys: Sequence[str | None], mode: str = ""):
        self.token = token
        self.appid = appid
        self._cryptos = [WeChatCrypto(token, key, appid) for key in aes_keys if key]
        self.mode = encrypt_mode(mode, aes_keys[0] if aes_keys else None)
        if self.mode not in MODES:
            raise ValueError(f"unknown encrypt mode {mode!r}")
        if self.mode != "plain" and not self._cryptos:
            raise ValueError(f"encrypt mode {self.mode} needs an AES key")

    def open(self, body: bytes, query: Mapping[str, str]) -> Envelope:
        """Verify and parse a POST body. Raises ProtocolError(403|400)."""
        check_query(query)
        timestamp, nonce = query["timestamp"], query["nonce"]
        if not check_signature(self.token, query["signature"], timestamp, nonce):
            raise ProtocolError(403, "bad signature")
        text = _decode(body)
        encrypted = query.get("encrypt_type", "raw").lower() == "aes"
        if self.mode == "plain" or (self.mode == "compat" and not encrypted):
            return Envelope(parse(text), None)
        if not encrypted:
            raise ProtocolError(403, "plaintext message refused in safe mode")
        msg_signature = query.get("msg_signature", "")
        if not _SIGNATURE.fullmatch(msg_signature):
            raise ProtocolError(403, "bad msg_signature")
        crypto, plain = self._decrypt(text, msg_signature, timestamp, nonce)
        return Envelope(parse(plain), crypto)

    def _decrypt(self, text: str, msg_signature: str, timestamp: str, nonce: str) -> tuple[WeChatCrypto, str]:
        fields = _check_xml_shape(text)
        _check_ciphertext(fields.get("Encrypt"))
        for crypto in self._cryptos:  # current key first, then the previous one (rotation)
            try:
                return crypto, crypto.decrypt_message(text, msg_signature, timestamp, nonce)
            except InvalidSignatureException:
                raise ProtocolError(403, "bad msg_signature") from None
            except Exception:  # wrong key, bad padding, garbled plaintext: try the next key
                continue
        raise ProtocolError(400, "cannot decrypt with any configured key")

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


def _check_ciphertext(value: Any) -> None:
    """WeChat's `Encrypt`: Base64 of AES-CBC blocks holding 16 random bytes, a 4-byte length and the message."""
    if not isinstance(value, str) or len(value) < 44 or len(value) % 4 or not _ENCRYPTED.fullmatch(value):
        raise ProtocolError(400, "Encrypt field missing or malformed")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(400, "Encrypt field missing or malformed") from None
    if len(raw) < 32 or len(raw) % 16:
        raise ProtocolError(400, "Encrypt field missing or malformed")


_SKIPPED = (("<![CDATA[", "]]>"), ("<!--", "-->"), ("<?", "?>"), ("<!", ">"))


def _depth_ok(text: str, limit: int = MAX_XML_DEPTH) -> bool:
    """Whether no element nests deeper than `limit`: one forward scan over the tags (CDATA, comments and
    declarations skipped), linear in the text. xmltodict builds nested dicts recursively, so thousands of levels
    raised RecursionError; anything malformed is left for the parser to refuse."""
    depth, pos, find = 0, 0, text.find
    while True:
        start = find("<", pos)
        if start < 0:
            return True
        if text[start + 1:start + 2] in ("!", "?"):  # CDATA, comment, processing instruction, declaration
            for opener, closer in _SKIPPED:
                if text.startswith(opener, start):
                    end = find(closer, start + len(opener))
                    if end < 0:
                        return True
                    pos = end + len(closer)
                    break
        else:
            end = find(">", start + 1)
            if end < 0:
                return True
            if text[start + 1] == "/":
                depth -= 1
            elif text[end - 1] != "/":
                depth += 1
                if depth > limit:
                    return False
            pos = end + 1


def _check_xml_shape(text: str) -> dict[str, Any]:
    if not _depth_ok(text):
        raise ProtocolError(400, "XML nested too deeply")
    try:
        doc = xmltodict.parse(text, disable_entities=True)
    except (ExpatError, ValueError, RecursionError):
        raise ProtocolError(400, "malformed XML") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("xml"), dict):
        raise ProtocolError(400, "XML root must be <xml>")
    return doc["xml"]


def parse(text: str) -> InboundMessage:
    """Parse a plaintext WeChat message into an InboundMessage. Raises ProtocolError(400)."""
    fields = _check_xml_shape(text)
    if not isinstance(fields.get("FromUserName"), str) or not isinstance(fields.get("MsgType"), str):
        raise ProtocolError(400, "FromUserName and MsgType are required")
    if not _OPENID.fullmatch(fields["FromUserName"]):
        raise ProtocolError(400, "FromUserName is not a plausible openid")
    try:
        parsed = _typed(dict(fields))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ProtocolError(400, "unparseable message") from None
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
