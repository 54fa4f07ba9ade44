"""Value types that flow through the bot: an inbound message and the replies handlers return.

Handlers never see XML: they get an `InboundMessage` and return a `Reply` (or `UNHANDLED`); only
`bot.protocol` turns these into WeChat's wire format.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Final

TEXT_REPLY_MAX_BYTES = 2000  # WeChat cuts passive text replies near 2048 bytes; keep a margin.


@dataclass(frozen=True)
class InboundMessage:
    """One message or event from a resident, as parsed from WeChat's XML."""

    kind: str  # text, image, voice, video, shortvideo, location, link, event, unknown
    openid: str
    account: str
    create_time: str  # the raw CreateTime, part of the event dedupe key
    msg_id: str = "0"
    event: str = ""  # lower-case: subscribe, subscribe_scan, unsubscribe, scan, click, view, ...
    event_key: str = ""  # scene for subscribe_scan/scan, key for click, URL for view
    content: str = ""
    media_id: str = ""
    pic_url: str = ""
    heard: bool = False  # a voice message turned into text (WeChat's Recognition or LINLI_ASR; bot/voice.py)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def dedupe_key(self) -> str:
        """MsgId for messages; FromUserName + CreateTime (+ event) for events, whose MsgId is 0."""
        if self.msg_id and self.msg_id != "0":
            basis = f"m:{self.msg_id}"
        else:
            basis = f"e:{self.openid}:{self.create_time}:{self.event}:{self.event_key}"
        return hashlib.sha256(basis.encode()).hexdigest()[:48]

    @property
    def text(self) -> str:
        return self.content.strip()


@dataclass(frozen=True)
class Reply:
    """Something to say back. `text` may be longer than WeChat allows; rendering splits it."""

    text: str = ""
    silent: bool = False  # answer `success`: nothing to say

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "silent": self.silent}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "Reply":
        if not data:
            return SILENT
        return cls(text=data.get("text", ""), silent=bool(data.get("silent")))


SILENT: Final = Reply(silent=True)


class _Unhandled:
    """Returned by a handler that declines a message, so the dispatcher tries the next one."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNHANDLED"

    def __bool__(self) -> bool:
        return False


UNHANDLED: Final = _Unhandled()


def split_text(text: str, limit: int = TEXT_REPLY_MAX_BYTES) -> list[str]:
    """Split `text` into chunks of at most `limit` UTF-8 bytes, preferring line breaks."""
    chunks: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line.encode()) > limit:
            head = _cut(line, limit)
            if current:
                chunks.append(current)
                current = ""
            chunks.append(head)
            line = line[len(head):]
        if len((current + line).encode()) > limit:
            chunks.append(current)
            current = line
        else:
            current += line
    if current or not chunks:
        chunks.append(current)
    return [c.rstrip("\n") for c in chunks]


def _cut(line: str, limit: int) -> str:
    encoded = line.encode()[:limit]
    return encoded.decode("utf-8", errors="ignore")
