"""Console routes for a ticket's kept media: the stored file (only for staff who may see the ticket, with the
stored type, `Content-Disposition` and no sniffing) and the staff's own evidence upload (type by the file's first
bytes, not its name or the browser's word; WeChat's size limits). The resident's signed link is `public_file`."""
from __future__ import annotations

from typing import NoReturn

from aiohttp import web

from handlers.console.guard import current, db, max_body, require_staff
from handlers.console.render import Form, flash, see_other
from handlers.console.state import state_of
from handlers.console.toolkit import path_id
from handlers.media_links import read_token
from handlers.tickets import media, service
from handlers.tickets.console_common import actor_of, ticket_of
from storage.media_models import TicketMedia
from storage.media_store import new_key, sniffed_type
from storage.repositories import media as media_repo
from storage.repositories import tickets as repo

UPLOAD_CAP = max(media.LIMITS.values()) + 64 * 1024


@require_staff()
async def media_file(request: web.Request) -> web.StreamResponse:
    """GET /console/tickets/{ticket_id}/media/{media_id}: a stored file of a ticket in the caller's jurisdiction."""
    ticket = await ticket_of(request)
    item = await media_repo.get(db(request), ticket.id, path_id(request, "media_id"))
    if item is None:
        raise web.HTTPNotFound()
    return await media.serve(state_of(request).services, item, download=request.query.get("download") == "1")


@max_body(UPLOAD_CAP)
@require_staff()
async def media_upload(request: web.Request) -> web.Response:
    """POST /console/tickets/{ticket_id}/media: staff evidence (a photo of the site, a recording), kept with the
    ticket; allowed to whoever may add a note to it."""
    ticket = await ticket_of(request)
    if not service.allowed(ticket, "note", actor_of(request)):
        raise web.HTTPForbidden()
    await store_upload(request, ticket, actor_of(request).label, f"/console/tickets/{ticket.id}")


async def store_upload(request: web.Request, ticket, label: str, back: str) -> NoReturn:
    """Keep the uploaded `file` with the ticket as staff evidence (timeline entry by `label`) and redirect to
    `back` with a flash saying what happened. Shared by the staff's and the partner's ticket pages."""
    user, session = current(request), db(request)
    upload = (await Form.read(request, "file")).file("file")
    if upload is None:
        await flash(request, "请选择要上传的照片、录音或视频", "error")
        raise see_other(back)
    data = upload.file.read(max(media.LIMITS.values()) + 1)
    content_type = sniffed_type(data) or (upload.content_type or "")[:40]
    kind = media.ALLOWED.get(content_type, ("", "image"))[1]
    problem = media.refusal(kind, content_type, len(data))
    if problem:
        await flash(request, f"没有上传：{problem}（可上传 JPG/PNG/GIF 照片、AMR/MP3 录音、MP4 视频）", "error")
        raise see_other(back)
    services = state_of(request).services
    key = new_key(user.now.strftime("%Y%m"), media.ALLOWED[content_type][0])
    await media.store_of(services).put(key, data, content_type)
    row = media_repo.add(session, ticket.id, kind, "staff", user.now, added_by=f"staff:{user.staff.username}")
    row.status, row.key, row.content_type, row.size, row.stored_at, row.next_try_at = (
        "stored", key, content_type, len(data), user.now, None)
    repo.add_event(session, ticket, kind="media_added", actor=f"staff:{user.staff.username}",
                   actor_label=label, public=False,
                   text=f"上传{media.KIND_LABELS[kind]}（{len(data) // 1024 + 1} KB）", at=user.now)
    await flash(request, f"已上传{media.KIND_LABELS[kind]}")
    raise see_other(back)


@require_staff()
async def media_retry(request: web.Request) -> web.Response:
    """POST /console/tickets/{ticket_id}/media/{media_id}/retry: one more round of attempts for a failed download
    (after a long WeChat outage; a file WeChat no longer has fails again at once)."""
    ticket, session = await ticket_of(request), db(request)
    if not service.allowed(ticket, "note", actor_of(request)):
        raise web.HTTPForbidden()
    item = await media_repo.get(session, ticket.id, path_id(request, "media_id"))
    if item is None:
        raise web.HTTPNotFound()
    if await media_repo.retry_failed(session, item.id, current(request).now):
        await flash(request, "已重新排队下载，几分钟后刷新查看。")
    else:
        await flash(request, "这个附件不是「下载失败」状态，无需重试。", "error")
    raise see_other(f"/console/tickets/{ticket.id}#media")


async def public_file(request: web.Request) -> web.StreamResponse:
    """GET /m/{token}: a file the resident sent, through the signed, expiring link they were given. The link
    stops working when it expires, when the ticket is no longer theirs (erased) or the file was erased."""
    from handlers.tickets.open311 import SERVICES

    services = request.app[SERVICES]
    read = read_token(services.settings, request.match_info.get("token", "")[:200], services.clock())
    if read is None:
        raise web.HTTPNotFound(text="链接无效或已过期，请在公众号里回复「查询 编号」获取新链接")
    row_id, ref = read
    async with services.db.reading() as session:
        item = await session.get(TicketMedia, row_id)
        ticket = await repo.get(session, item.ticket_id) if item is not None else None
        if (item is None or ticket is None or ticket.resident_ref != ref
                or item.source not in media_repo.RESIDENT_SOURCES):
            raise web.HTTPNotFound(text="链接无效或已过期")
        session.expunge(item)
    return await media.serve(services, item)
