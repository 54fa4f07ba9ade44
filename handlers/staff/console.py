"""Console side of staff in the loop:

    GET  /console/account/wechat             我的账号 → 绑定微信: link state, push switches and quiet hours
    POST /console/account/wechat/code        a 6-digit code to send in chat (single use, 10 minutes)
    POST /console/account/wechat/qr          the page with a temporary QR code (its image from qr-image)
    GET  /console/account/wechat/qr-image    a temporary QR code whose scene names a single-use 10-minute token
    POST /console/account/wechat/unlink      unlink one's own WeChat
    POST /console/account/wechat/settings    push kinds on/off, quiet hours
    GET  /console/staff-wechat               (admin) 账号管理 → 微信绑定: who is linked
    POST /console/staff-wechat/{staff_id}/unlink   (admin) unlink an account (a lost phone)
    GET  /api/v1/account/wechat              the caller's link state and push settings
    GET  /api/v1/staff-wechat                (admin) the accounts with a linked WeChat

Every route goes through `require_staff`; one's own account is the only object of the 我的账号 routes (which a
partner organisation's account may use too: `partner_allowed`, and an owners' committee's: `committee_allowed`),
and the admin routes are the admin's (whose
jurisdiction is everything). Codes and tokens are shown once and stored hashed.
"""
from __future__ import annotations

import logging
import secrets
from pathlib import Path

from aiohttp import web
from sqlalchemy import select

from bot.delivery.staff import KINDS, parse_hhmm
from bot.errors import NotFound
from handlers.console.api import json_response
from handlers.console.audit import audit
from handlers.console.guard import committee_allowed, current, db, partner_allowed, require_staff
from handlers.console.render import Form, flash, render, see_other
from handlers.console.state import state_of
from handlers.console.toolkit import path_id
from handlers.staff import linking, rules
from storage.models import Staff, StaffLevel
from storage.repositories import staff_link as repo

HERE = Path(__file__).parent
log = logging.getLogger("linli.staff")
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/svg+xml")
LABELS = {"staff.wechat.code": "生成微信绑定码", "staff.wechat.qr": "生成微信绑定二维码",
          "staff.wechat.unlink": "解除微信绑定", "staff.wechat.settings": "修改微信提醒设置"}


async def _page(request: web.Request, *, code: str | None = None, qr: str | None = None, status: int = 200,
                errors: dict | None = None) -> web.Response:
    user = current(request)
    prefs = await repo.read_settings(db(request), user.staff.id)
    return render(request, "staff/wechat.html", title="绑定微信", linked=bool(user.staff.openid), prefs=prefs,
                  kinds=KINDS, code=code, qr=qr, minutes=int(rules.LINK_TTL.total_seconds() // 60),
                  status=status, errors=errors or {})


@committee_allowed
@partner_allowed
@require_staff()
async def wechat_page(request: web.Request) -> web.Response:
    return await _page(request)


@committee_allowed
@partner_allowed
@require_staff()
async def code_post(request: web.Request) -> web.Response:
    user = current(request)
    await Form.read(request)
    code = await linking.new_code(db(request), user.staff, user.now)
    await audit(db(request), user, "staff.wechat.code", user.staff.username, request)
    return await _page(request, code=code)


@committee_allowed
@partner_allowed
@require_staff()
async def qr_post(request: web.Request) -> web.Response:
    """Show the page with the QR image (fetched by the browser from `qr_image`)."""
    await Form.read(request)
    return await _page(request, qr=secrets.token_hex(4))  # a fresh image URL each time


@committee_allowed
@partner_allowed
@require_staff()
async def qr_image(request: web.Request) -> web.Response:
    """A new single-use QR token and its temporary WeChat QR image. A GET (the page's <img>), so it runs in a
    reading transaction: the token row and the audit entry are written right after, and WeChat's token store may
    write meanwhile (on SQLite a console POST holds the one write lock for its whole length). Cross-site, the image
    is unreadable and the token useless to anyone but the scanning staff member."""
    user = current(request)
    wechat = state_of(request).services.wechat
    if wechat is None:
        raise web.HTTPServiceUnavailable(text="未配置微信接口，请使用绑定码。")
    token = rules.new_token()
    scene = rules.SCENE_PREFIX + token
    try:
        made = await wechat.create_temporary_qrcode(scene, int(rules.LINK_TTL.total_seconds()))
        raw, kind = await wechat.qrcode_image(str(made["ticket"]))
    except Exception as exc:  # WeChat unavailable or refused: the code still works
        log.warning("staff link QR code not made: %s", type(exc).__name__)
        raise web.HTTPServiceUnavailable(text="暂时无法从微信获取二维码，请稍后重试，或使用绑定码。") from None
    if kind not in IMAGE_TYPES:
        raise web.HTTPServiceUnavailable(text="微信返回的二维码格式有误，请使用绑定码。")
    repo.add_qr_token(db(request), user.staff.id, token, user.now, user.now + rules.LINK_TTL)
    await audit(db(request), user, "staff.wechat.qr", user.staff.username, request)
    return web.Response(body=raw, content_type=kind, headers={"Cache-Control": "no-store"})


@committee_allowed
@partner_allowed
@require_staff()
async def unlink_post(request: web.Request) -> web.Response:
    user = current(request)
    await Form.read(request)
    staff = await db(request).get(Staff, user.staff.id)
    if staff is not None and staff.openid:
        await linking.unlink(db(request), staff)
        await audit(db(request), user, "staff.wechat.unlink", user.staff.username, request)
        await flash(request, "已解除微信绑定，本账号不再向该微信发送提醒。")
    raise see_other("/console/account/wechat")


@committee_allowed
@partner_allowed
@require_staff()
async def settings_post(request: web.Request) -> web.Response:
    user = current(request)
    form = await Form.read(request, "quiet_start", "quiet_end", "kind")
    wanted = set(form.many("kind"))
    start, end = form.values.get("quiet_start", "").strip(), form.values.get("quiet_end", "").strip()
    for name, value in (("quiet_start", start), ("quiet_end", end)):
        if value and parse_hhmm(value) is None:
            form.error(name, "请按 时:分 填写，例如 22:00")
    if bool(start) != bool(end):
        form.error("quiet_end", "免打扰的开始和结束时间须同时填写（或都不填）")
    if not form.ok:
        return await _page(request, status=400, errors=form.errors)
    prefs = await repo.settings_of(db(request), user.staff.id)
    prefs.muted = sorted(k for k in KINDS if k not in wanted)
    prefs.quiet_start, prefs.quiet_end = (start or None), (end or None)
    await audit(db(request), user, "staff.wechat.settings", user.staff.username, request)
    await flash(request, "提醒设置已保存。")
    raise see_other("/console/account/wechat")


async def _linked_rows(request: web.Request) -> list[dict]:
    linked = await repo.linked_staff(db(request))
    if not linked:
        return []
    staff = (await db(request).execute(select(Staff).where(Staff.id.in_(sorted(linked))).order_by(Staff.username))
             ).scalars()
    return [{"id": s.id, "username": s.username, "display_name": s.display_name, "level": s.level.value,
             "level_label": s.level.label, "active": s.active, "linked_at": linked[s.id]} for s in staff]


@require_staff(StaffLevel.admin)
async def admin_page(request: web.Request) -> web.Response:
    return render(request, "staff/linked.html", title="微信绑定", rows=await _linked_rows(request))


@require_staff(StaffLevel.admin)
async def admin_unlink(request: web.Request) -> web.Response:
    user = current(request)
    staff_id = path_id(request, "staff_id")
    await Form.read(request)
    staff = await db(request).get(Staff, staff_id)
    if staff is None or not staff.openid:
        raise NotFound("该账号没有绑定微信")
    await linking.unlink(db(request), staff)
    await audit(db(request), user, "staff.wechat.unlink", staff.username, request)
    await flash(request, f"已解除 {staff.display_name} 的微信绑定。")
    raise see_other("/console/staff-wechat")


@committee_allowed
@partner_allowed
@require_staff()
async def api_wechat(request: web.Request) -> web.Response:
    user = current(request)
    prefs = await repo.read_settings(db(request), user.staff.id)
    return json_response({"linked": bool(user.staff.openid),
                          "linked_at": prefs.linked_at.isoformat() if prefs.linked_at else None,
                          "kinds": {k: k not in (prefs.muted or []) for k in KINDS},
                          "quiet_start": prefs.quiet_start, "quiet_end": prefs.quiet_end})


@require_staff(StaffLevel.admin)
async def api_linked(request: web.Request) -> web.Response:
    rows = await _linked_rows(request)
    return json_response({"items": [{**r, "linked_at": r["linked_at"].isoformat() if r["linked_at"] else None}
                                    for r in rows]})


def console(registry) -> None:
    registry.templates(HERE / "templates")
    registry.openapi(HERE / "openapi.yaml")
    registry.labels(LABELS)
    registry.page("GET", "/account/wechat", wechat_page)
    registry.page("POST", "/account/wechat/code", code_post)
    registry.page("POST", "/account/wechat/qr", qr_post)
    registry.page("GET", "/account/wechat/qr-image", qr_image)
    registry.page("POST", "/account/wechat/unlink", unlink_post)
    registry.page("POST", "/account/wechat/settings", settings_post)
    registry.page("GET", "/staff-wechat", admin_page)
    registry.page("POST", "/staff-wechat/{staff_id}/unlink", admin_unlink)
    registry.api("GET", "/account/wechat", api_wechat)
    registry.api("GET", "/staff-wechat", api_linked)
