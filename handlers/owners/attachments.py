"""Attachments of an owners' motion (表决事项的附件): the full text, a repair fund's quotes, as PDF, JPEG or PNG.
Staff within the jurisdiction upload them while the motion has not opened yet (what owners vote on must not
change under them); the type is what the file's first bytes prove (storage.media_store.sniffed_type), the bytes
go to the deployment's media store. Staff download them from the console; owners who may vote on the motion get a
signed, expiring link (`/m/a/<token>`, handlers.media_links) in the chat 「表决」 message. Before the opening a
file may also be deleted (the stored object, then the row; audited).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from aiohttp import web
from sqlalchemy import select

from bot.errors import Conflict, DomainError, NotFound
from handlers.console.api import json_response
from handlers.console.audit import audit
from handlers.console.guard import committee_allowed, current, db, max_body, require_staff
from handlers.console.render import Form, flash, see_other
from handlers.console.state import state_of
from handlers.console.toolkit import path_id
from handlers.media_links import link_token, read_token, store_of, stored_file_response
from handlers.owners import access
from storage.media_store import new_key, sniffed_type
from storage.models import Resident
from storage.owner_models import Motion, MotionAttachment
from storage.repositories import owners as repo

ALLOWED = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 20
PURPOSES = {"text": "表决事项全文", "quote": "维修资金报价"}
LINK_HOURS = 72
LINK_PURPOSE = "owners-attachment"


def locked(motion: Motion, now: datetime) -> bool:
    """What owners vote on must not change under them: no file is added or deleted once the motion opened."""
    return motion.status not in ("draft", "scheduled") or motion.opens_at <= now


def refusal(motion: Motion, content_type: str | None, size: int, count: int, now: datetime) -> str | None:
    """Why a file may not be attached (Chinese), or None."""
    if locked(motion, now):
        return "表决已经开始，不能再添加附件"
    if count >= MAX_FILES:
        return f"每项表决最多 {MAX_FILES} 个附件"
    if size <= 0:
        return "文件是空的"
    if size > MAX_BYTES:
        return f"文件超过 {MAX_BYTES // (1024 * 1024)} MB"
    if content_type not in ALLOWED:
        return "只能上传 PDF、JPG 或 PNG 文件"
    return None


def title_of(raw: str | None, filename: str | None) -> str:
    text = " ".join(str(raw or "").split()) or " ".join(str(filename or "").split()) or "附件"
    return text[:120]


def listing(items: list[MotionAttachment], motion_id: int) -> list[dict]:
    return [{"id": a.id, "purpose": a.purpose, "purpose_label": PURPOSES.get(a.purpose, a.purpose), "name": a.name,
             "content_type": a.content_type, "size": a.size, "uploaded_at": a.uploaded_at,
             "url": f"/console/owners/motions/{motion_id}/attachments/{a.id}"} for a in items]


def resident_link(settings, item: MotionAttachment, resident_ref: str, now: datetime) -> str:
    token = link_token(settings, item.id, resident_ref, now + timedelta(hours=LINK_HOURS), purpose=LINK_PURPOSE)
    return f"{settings.base_url.rstrip('/')}/m/a/{token}"


async def _serve(services, item: MotionAttachment, *, download: bool) -> web.Response:
    if item.content_type not in ALLOWED:
        raise web.HTTPNotFound(text="附件不存在")
    name = f"motion-{item.motion_id}-{item.id}.{ALLOWED[item.content_type]}"
    return await stored_file_response(services, item.key, item.size, item.content_type, name, inline=not download)


@committee_allowed
@max_body(MAX_BYTES + 64 * 1024)
@require_staff()
async def upload(request: web.Request) -> web.Response:
    """POST /console/owners/motions/{motion_id}/attachments: a file of the motion, before it opens."""
    motion, user, session = await access.motion(request), current(request), db(request)
    form = await Form.read(request, "file", "name", "purpose")
    back = f"/console/owners/motions/{motion.id}#attachments"
    file = form.file("file")
    if file is None:
        await flash(request, "请选择要上传的 PDF、JPG 或 PNG 文件", "error")
        raise see_other(back)
    data = file.file.read(MAX_BYTES + 1)
    content_type = sniffed_type(data)
    purpose = form.get("purpose") if form.get("purpose") in PURPOSES else "text"
    problem = refusal(motion, content_type, len(data), len(await repo.attachments_of(session, motion.id)), user.now)
    if problem:
        await flash(request, f"没有上传：{problem}", "error")
        raise see_other(back)
    assert content_type is not None
    key = new_key(user.now.strftime("%Y%m"), ALLOWED[content_type])
    await store_of(state_of(request).services).put(key, data, content_type)
    row = repo.add_attachment(session, motion.id, purpose=purpose, name=title_of(form.get("name"), file.filename),
                              content_type=content_type, size=len(data), key=key,
                              uploaded_by=f"staff:{user.staff.username}", now=user.now)
    await session.flush()
    await audit(session, user, "owners.attachment", f"表决事项 {motion.id} 附件 {row.id} {row.name}"[:256], request,
                community_id=motion.community_id)
    await flash(request, f"已上传附件：{row.name}")
    raise see_other(back)


async def remove(request: web.Request, motion: Motion, attachment_id: int) -> MotionAttachment:
    """Delete a file of a motion that has not opened: the stored object, then the row; audited."""
    user, session = current(request), db(request)
    item = await repo.attachment(session, motion.id, attachment_id)
    if item is None:
        raise NotFound("附件不存在")
    if locked(motion, user.now):
        raise Conflict("表决已经开始，附件不能再删除（业主看到的始终是同一份材料）")
    await store_of(state_of(request).services).delete(item.key)
    await repo.delete_attachment(session, item.id)
    await audit(session, user, "owners.attachment.delete", f"表决事项 {motion.id} 附件 {item.id} {item.name}"[:256],
                request, community_id=motion.community_id)
    return item


@committee_allowed
@require_staff()
async def delete_post(request: web.Request) -> web.Response:
    """POST /console/owners/motions/{motion_id}/attachments/{attachment_id}/delete"""
    motion = await access.motion(request)
    await Form.read(request)
    try:
        item = await remove(request, motion, path_id(request, "attachment_id"))
    except DomainError as exc:
        await flash(request, exc.message, "error")
        raise see_other(f"/console/owners/motions/{motion.id}#attachments") from None
    await flash(request, f"已删除附件：{item.name}")
    raise see_other(f"/console/owners/motions/{motion.id}#attachments")


@committee_allowed
@require_staff()
async def api_delete(request: web.Request) -> web.Response:
    """DELETE /api/v1/owners/motions/{motion_id}/attachments/{attachment_id}"""
    motion = await access.motion(request)
    item = await remove(request, motion, path_id(request, "attachment_id"))
    return json_response({"deleted": item.id})


@committee_allowed
@require_staff()
async def api_list(request: web.Request) -> web.Response:
    """GET /api/v1/owners/motions/{motion_id}/attachments: the motion's files (the URLs are console downloads)."""
    motion = await access.motion(request)
    items = listing(await repo.attachments_of(db(request), motion.id), motion.id)
    return json_response({"items": [{**i, "uploaded_at": i["uploaded_at"].isoformat()} for i in items]})


@committee_allowed
@require_staff()
async def download(request: web.Request) -> web.StreamResponse:
    """GET /console/owners/motions/{motion_id}/attachments/{attachment_id}: for staff within the jurisdiction."""
    motion = await access.motion(request)
    item = await repo.attachment(db(request), motion.id, path_id(request, "attachment_id"))
    if item is None:
        raise web.HTTPNotFound()
    return await _serve(state_of(request).services, item, download=request.query.get("download") == "1")


def public_route(services):
    """GET /m/a/{token}: an attachment of an opened motion, for the owner (or proxy) the link was made for, as long
    as they are verified for a room in the motion's scope."""

    async def public_file(request: web.Request) -> web.StreamResponse:
        read = read_token(services.settings, request.match_info.get("token", "")[:200], services.clock(),
                          purpose=LINK_PURPOSE)
        if read is None:
            raise web.HTTPNotFound(text="链接无效或已过期，请在公众号里回复「表决」获取新链接")
        row_id, ref = read
        async with services.db.reading() as session:
            item = await session.get(MotionAttachment, row_id)
            motion = await repo.get_motion(session, item.motion_id) if item is not None else None
            resident = (await session.scalar(select(Resident).where(Resident.ref == ref))
                        if motion is not None else None)
            allowed = (item is not None and resident is not None and motion is not None
                       and motion.status in ("open", "closed")
                       and bool(await repo.votable_rooms(session, resident.id, motion.estate_id, motion.buildings)))
            if not allowed or item is None:
                raise web.HTTPNotFound(text="链接无效或已过期")
            session.expunge(item)
        return await _serve(services, item, download=False)

    return public_file
