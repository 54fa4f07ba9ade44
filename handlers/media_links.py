"""Stored files shown to people: the deployment's media store (`store_of`), the checked response
(`file_response`), and signed, expiring links to one stored file for one resident (HMAC-SHA256 over the row id,
the expiry and the resident's ref; URL-safe). The links are shared by the resident's own ticket media
(`/m/<token>`, handlers/tickets), the attachments of an owners' motion (`/m/a/<token>`, handlers/owners) and the
staff's view of an owner's evidence photo (made for one staff account): each use has its own `purpose`, so a
token made for one can never open another. `wechat_client` is the client that downloads residents' media.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from datetime import datetime

from aiohttp import web

from storage.media_store import MediaMissing, MediaStore, store_for

TICKET_MEDIA = "media"


def store_of(services) -> MediaStore:
    """The deployment's media store (storage/media_store.py), made once per process from the settings."""
    store = services.extras.get("media_store")
    if store is None:
        store = services.extras["media_store"] = store_for(services.settings)
    return store


def wechat_client(services):
    """The WeChat client that downloads residents' media with `media/get`: the bot's own, or (in the delivery
    worker, which has none) one made once per process on the database's access tokens."""
    if services.wechat is not None:
        return services.wechat
    client = services.extras.get("media_wechat")
    if client is None:
        from bot.outbound import WeChatClient

        client = services.extras["media_wechat"] = WeChatClient.with_database_tokens(services.settings,
                                                                                     services.db.sessions)
    return client


def _link_key(settings, purpose: str) -> bytes:
    if purpose == TICKET_MEDIA:  # the key of the links already sent to residents
        return hashlib.sha256(b"linli-media-link\0" + settings.household_secret).digest()
    return hashlib.sha256(b"linli-media-link:" + purpose.encode() + b"\0" + settings.household_secret).digest()


def link_token(settings, row_id: int, resident_ref: str, expires: datetime, purpose: str = TICKET_MEDIA) -> str:
    """A token naming one stored row for one resident until `expires`."""
    body = struct.pack(">QI", row_id, int(expires.timestamp())) + resident_ref.encode()[:32]
    mac = hmac.new(_link_key(settings, purpose), body, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(body + mac).decode().rstrip("=")


def read_token(settings, token: str, now: datetime, purpose: str = TICKET_MEDIA) -> tuple[int, str] | None:
    """(row id, resident ref) of a valid, unexpired token of this purpose; None otherwise."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return None
    if len(raw) < 12 + 16 or len(raw) > 12 + 32 + 16:
        return None
    body, mac = raw[:-16], raw[-16:]
    if not hmac.compare_digest(mac, hmac.new(_link_key(settings, purpose), body, hashlib.sha256).digest()[:16]):
        return None
    row_id, expires = struct.unpack(">QI", body[:12])
    if expires < now.timestamp():
        return None
    return row_id, body[12:].decode(errors="replace")


def file_response(data: bytes, content_type: str, filename: str, *, inline: bool) -> web.Response:
    """A stored file as sent to a browser: its stored type, no sniffing, private, sandboxed, named (ASCII)."""
    return web.Response(body=data, headers={
        "Content-Type": content_type, "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{filename}"',
        "Cache-Control": "private, no-store", "Content-Security-Policy": "default-src 'none'; sandbox"})


async def stored_file_response(services, key: str, size: int, content_type: str, filename: str, *,
                               inline: bool) -> web.Response:
    """The file kept under `key`, sent with `file_response`; 404 when the store no longer has it or it is not the
    size recorded with it (never half a file, never another one)."""
    try:
        data = await store_of(services).get(key)
    except MediaMissing:
        raise web.HTTPNotFound(text="附件文件已不存在") from None
    if len(data) != size:
        raise web.HTTPNotFound(text="附件文件与记录不符")
    return file_response(data, content_type, filename, inline=inline)
