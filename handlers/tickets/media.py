"""Media that are kept (issue 19): a complaint's photos, voice and short videos outlive WeChat's three days.

- `enqueue` (in the caller's transaction, beside the ticket or the 补充): one `ticket_media` row per MediaId.
- `sweep` (a job of the deployment's one scheduler, run in the delivery worker every 20 s): downloads each due
  file with `media/get`, checks its type and size, stores it (storage/media_store.py) and records where; a failed
  try is retried after 30 s, 1, 2, 4 … minutes (LINLI_MEDIA_ATTEMPTS in all); WeChat's 40007 (the file is gone)
  and a refused type or size fail at once. A download that fails for good is marked on the ticket: an internal
  timeline entry 「附件下载失败」 and a notice to the level handling it, never a silent loss. The sweep also
  deletes the stored objects of erased media.
- `serve`: the checked response for a stored file (Content-Type from the stored type, Content-Disposition,
  nosniff, private); the console and the resident's signed link (`link_token` / `read_token`) both use it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from handlers.media_links import link_token, store_of, stored_file_response
from handlers.media_links import wechat_client as _wechat
from handlers.tickets import notify
from storage.media_models import TicketMedia
from storage.media_store import new_key
from storage.repositories import media as media_repo
from storage.repositories import tickets as repo

log = logging.getLogger("linli.tickets.media")

# what may be kept and served, by the stored Content-Type: the file extension and the kind it belongs to
ALLOWED: dict[str, tuple[str, str]] = {
    "image/jpeg": ("jpg", "image"), "image/png": ("png", "image"), "image/gif": ("gif", "image"),
    "audio/amr": ("amr", "voice"), "audio/mpeg": ("mp3", "voice"), "audio/speex": ("spx", "voice"),
    "video/mp4": ("mp4", "video"),
}
LIMITS = {"image": 10 * 1024 * 1024, "voice": 2 * 1024 * 1024, "video": 10 * 1024 * 1024}  # WeChat's own
KIND_LABELS = {"image": "照片", "voice": "语音", "video": "视频"}
SOURCE_LABELS = {"complaint": "投诉时居民发送", "supplement": "居民补充", "staff": "工作人员上传"}
STATUS_LABELS = {"pending": "下载中", "stored": "已保存", "failed": "下载失败", "erased": "已随居民信息删除"}
GONE = frozenset({40007})  # WeChat no longer has the file: no retry can help
FIRST_DELAY, MAX_DELAY = 30.0, 3600.0
LEASE = timedelta(minutes=2)  # a claimed download is hidden this long from other sweeps
LINK_HOURS = 72  # a resident's signed link works this long


# ---- pure rules ---------------------------------------------------------------------------------------------

def retry_delay(attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones: 30 s doubling, at most an hour."""
    return min(MAX_DELAY, FIRST_DELAY * 2 ** max(0, attempts - 1))


def refusal(kind: str, content_type: str, size: int) -> str | None:
    """Why a file may not be kept (Chinese), or None: its type must be one we serve, of the kind it came as
    (a voice message that is not audio is refused), within WeChat's size limit for that kind."""
    allowed = ALLOWED.get(content_type)
    if allowed is None:
        return f"文件类型 {content_type[:40] or '未知'} 不能保存"
    if kind in LIMITS and allowed[1] != kind:
        return f"应为{KIND_LABELS[kind]}，收到的是 {content_type}"
    limit = LIMITS[allowed[1]]
    if size <= 0:
        return "文件是空的"
    if size > limit:
        return f"文件超过 {limit // (1024 * 1024)} MB"
    return None


def kind_of(item: dict) -> str:
    kind = item.get("kind") or "image"
    return kind if kind in LIMITS else "image"


# ---- queueing -----------------------------------------------------------------------------------------------

def enqueue(session, ticket_id: int, items: list[dict], source: str, now: datetime) -> int:
    """A `ticket_media` row for each item carrying a MediaId (photos, voice, video of a message); how many."""
    count = 0
    for item in items:
        media_id = str(item.get("media_id") or "")[:128]
        if media_id:
            media_repo.add(session, ticket_id, kind_of(item), source, now, media_id=media_id)
            count += 1
    return count


# ---- the sweep ----------------------------------------------------------------------------------------------

async def sweep(services, now: datetime) -> dict[str, int]:
    counts = {"stored": 0, "retried": 0, "failed": 0, "purged": 0}
    counts["purged"] = await purge(services)
    async with services.db.reading() as session:
        rows = await media_repo.due(session, now)
    for row in rows:
        try:
            outcome = await _download_one(services, row, now)
        except Exception:  # one bad file must not stop the sweep
            log.exception("media download failed for ticket_media %s", row.id)
            continue
        if outcome:
            counts[outcome] += 1
    return counts


@dataclass(frozen=True)
class Fetched:
    """What `fetch_and_store` got: the stored key, type and size, or why not (`final`: no retry can help)."""
    key: str | None = None
    content_type: str = ""
    size: int = 0
    error: str = ""
    final: bool = False


async def fetch_and_store(services, media_id: str, kind: str, now: datetime) -> Fetched:
    """Download one resident's file with `media/get`, check its type and size for `kind`, put it in the media
    store. Shared by complaints' media and owners' evidence photos (handlers/owners/evidence.py)."""
    from bot.outbound import WeChatError, WeChatUnavailable

    try:
        data, content_type = await _wechat(services).get_media(media_id, max_bytes=LIMITS[kind])
    except WeChatError as exc:
        return Fetched(error=f"微信返回 {exc.errcode}", final=exc.errcode in GONE)
    except WeChatUnavailable as exc:
        return Fetched(error=str(exc), final="超过" in str(exc))
    content_type = content_type.split(";")[0].strip().lower()
    problem = refusal(kind, content_type, len(data))
    if problem:
        return Fetched(error=problem, final=True)
    key = new_key(now.strftime("%Y%m"), ALLOWED[content_type][0])
    try:
        await store_of(services).put(key, data, content_type)
    except Exception as exc:  # the store is down: try again later, like a WeChat outage
        log.warning("media store refused a file: %s", type(exc).__name__)
        return Fetched(error=f"保存失败：{type(exc).__name__}")
    return Fetched(key, content_type, len(data))


async def _download_one(services, row, now: datetime) -> str | None:
    async with services.db.transaction() as session:
        if not await media_repo.claim(session, row.id, row.attempts, now + LEASE):
            return None
    attempts = row.attempts + 1
    got = await fetch_and_store(services, row.media_id, row.kind, now)
    if got.key is None:
        return await _failed(services, row, attempts, got.error, now, final=got.final)
    async with services.db.transaction() as session:
        kept = await media_repo.mark_stored(session, row.id, got.key, got.content_type, got.size, now)
    if not kept:  # erased while downloading: the object must not stay
        await store_of(services).delete(got.key)
        return None
    return "stored"


async def _failed(services, row, attempts: int, error: str, now: datetime, *, final: bool) -> str:
    limit = services.settings.media_attempts
    async with services.db.transaction() as session:
        if not final and attempts < limit:
            await media_repo.mark_retry(session, row.id, error, now + timedelta(seconds=retry_delay(attempts)))
            return "retried"
        if await media_repo.mark_failed(session, row.id, error):
            ticket = await repo.get(session, row.ticket_id)
            if ticket is not None:
                what = KIND_LABELS.get(row.kind, "附件")
                text = f"{what}下载失败（已尝试 {attempts} 次：{error}），请联系居民重新发送。"
                repo.add_event(session, ticket, kind="media_failed", actor="system", actor_label="系统", public=False,
                               text=text, at=now, data={"media": row.id})
                await notify.to_staff(session, ticket, ticket.level, f"工单 {ticket.number} 的{text}", now=now)
    return "failed"


async def purge(services) -> int:
    """Delete the stored objects of erased media, then forget their keys."""
    async with services.db.reading() as session:
        rows = await media_repo.to_purge(session)
    done = 0
    for row in rows:
        try:
            await store_of(services).delete(row.key)
        except Exception:
            log.warning("could not delete erased media object of ticket_media %s", row.id)
            continue
        async with services.db.transaction() as session:
            await media_repo.forget_key(session, row.id)
        done += 1
    return done


# ---- showing and serving ------------------------------------------------------------------------------------------------

def listing(items: list, ticket_id: int) -> list[dict]:
    """What the ticket page and the API show of each file."""
    return [{"id": m.id, "kind": m.kind, "kind_label": KIND_LABELS.get(m.kind, m.kind), "source": m.source,
             "source_label": SOURCE_LABELS.get(m.source, m.source), "status": m.status,
             "status_label": STATUS_LABELS.get(m.status, m.status), "attempts": m.attempts,
             "error": m.last_error if m.status != "erased" else None, "size": m.size,
             "content_type": m.content_type, "received_at": m.received_at,
             "url": f"/console/tickets/{ticket_id}/media/{m.id}" if m.status == "stored" else None}
            for m in items]


async def serve(services, item: TicketMedia, *, download: bool = False) -> web.Response:
    """The stored file, with the type it was stored as; 404 when not stored (or not a type we serve)."""
    if item.status != "stored" or not item.key or item.content_type not in ALLOWED:
        raise web.HTTPNotFound(text="附件不存在或尚未保存")
    ext, kind = ALLOWED[item.content_type]
    return await stored_file_response(services, item.key, item.size, item.content_type,
                                      f"ticket-{item.ticket_id}-{item.id}.{ext}", inline=kind == "image" and not download)


# ---- the resident's signed link ----------------------------------------------------------------------------

def resident_link(settings, item: Any, resident_ref: str, now: datetime) -> str:
    expires = now + timedelta(hours=LINK_HOURS)
    return f"{settings.base_url.rstrip('/')}/m/{link_token(settings, item.id, resident_ref, expires)}"
