"""The 群发 compose form in the console: scope picker (inside the jurisdiction), category, title and text, an
optional send time (Beijing time), then a confirmation page with the preview and the number of residents it will
reach; only the confirmation queues it (the same `create_broadcast` and jurisdiction check as the API).

    GET  /console/broadcasts/new    the form
    POST /console/broadcasts/new    step=preview → the confirmation page; step=send → queued; step=edit → back
"""
from __future__ import annotations

from datetime import datetime

from aiohttp import web

from bot.delivery import outbox
from bot.delivery.channels import Content
from bot.localtime import LOCAL_TZ
from handlers.broadcasts.reach import may_reach
from handlers.console import pickers
from handlers.console.audit import audit
from handlers.console.guard import current, db, require_staff
from handlers.console.render import Form, flash, render, see_other
from storage.repositories import deliveries

# what staff may send by hand: 投诉进度 goes only to a complaint's own resident and cannot be muted
CATEGORIES = {"notice": "公示通知", "meeting": "会议纪要", "survey": "满意度调查"}
ROLES = {"": "范围内全部居民", "owner": "仅业主", "tenant": "仅租户"}
TITLE_MAX, TEXT_MAX = 64, 600


def read_form(data: Form) -> dict:
    return {"scope": data.many("scope"),
            **{k: str(data.get(k, "")).strip() for k in ("category", "roles", "title", "text", "send_at")}}


def problems(values: dict, now: datetime) -> tuple[dict[str, str], dict]:
    """Per-field errors (Chinese) and the parsed fields: scope (level, ids), roles, send_at (aware or None)."""
    errors: dict[str, str] = {}
    parsed: dict = {}
    scope = pickers.parse_scope(values["scope"])
    if scope is None:
        errors["scope"] = "请选择发送范围（同一级别，可多选）"
    parsed["scope"] = scope
    if values["category"] not in CATEGORIES:
        errors["category"] = "请选择类别"
    if values["roles"] not in ROLES:
        errors["roles"] = "请选择推送对象"
    if len(values["title"]) > TITLE_MAX:
        errors["title"] = f"标题最多 {TITLE_MAX} 字"
    if not values["text"]:
        errors["text"] = "请填写消息内容"
    elif len(values["text"]) > TEXT_MAX:
        errors["text"] = f"消息内容最多 {TEXT_MAX} 字（现有 {len(values['text'])} 字）"
    parsed["send_at"] = None
    if values["send_at"]:
        try:
            when = datetime.fromisoformat(values["send_at"])
            when = when.replace(tzinfo=LOCAL_TZ) if when.tzinfo is None else when
            if when <= now:
                errors["send_at"] = "发送时间已过，请留空（立即发送）或选择以后的时间"
            parsed["send_at"] = when
        except ValueError:
            errors["send_at"] = "时间格式应为 2026-12-08 09:00"
    return errors, parsed


async def _form(request: web.Request, values: dict, errors: dict, status: int = 200) -> web.Response:
    options = await pickers.scope_options(db(request), current(request).scope)
    return render(request, "broadcasts/compose.html", title="发起群发", values=values, errors=errors,
                  options=options, categories=CATEGORIES, roles=ROLES, confirm=None, status=status)


@require_staff()
async def compose_page(request: web.Request) -> web.Response:
    return await _form(request, {"scope": [], "category": "notice", "roles": "", "title": "", "text": "",
                                 "send_at": ""}, {})


@require_staff()
async def compose_post(request: web.Request) -> web.Response:
    data = await Form.read(request)
    values, user, session = read_form(data), current(request), db(request)
    step = str(data.get("step", "preview"))
    errors, parsed = problems(values, user.now)
    if step == "edit":
        return await _form(request, values, {})
    if errors:
        return await _form(request, values, errors, status=422)
    level, ids = parsed["scope"]
    scope = outbox.Scope(level, ids, [values["roles"]] if values["roles"] else [])
    if not may_reach(user.scope, await outbox.reach_of(session, scope)):
        raise web.HTTPForbidden()  # only a hand-made request gets here: the picker offers the jurisdiction only
    if step != "send":
        total, reach = await deliveries.audience(session, values["category"], scope.as_json())
        names = dict(opt for _, group in await pickers.scope_options(session, user.scope) for opt in group)
        confirm = {"total": total, "reach": reach, "scope": [names.get(v, v) for v in values["scope"]],
                   "send_at": parsed["send_at"]}
        return render(request, "broadcasts/compose.html", title="确认群发", values=values, errors={},
                      options=[], categories=CATEGORIES, roles=ROLES, confirm=confirm)
    content = Content(values["text"], values["title"] or None, values["text"][:60])
    broadcast = await outbox.create_broadcast(
        session, category=values["category"], scope=scope, content=content,
        created_by=f"staff:{user.staff.username}"[:64], send_at=parsed["send_at"], now=user.now)
    await audit(session, user, "broadcast.create", f"群发 {broadcast.id}", request)
    await flash(request, "已排定群发，到时自动发送。" if parsed["send_at"] else "群发已开始发送，进度见下方。")
    raise see_other(f"/console/broadcasts/{broadcast.id}")
