"""Console pages for notices (公示通知): list, compose with scope picker, preview, approve or schedule, correct,
withdraw, CSV import of tables, and each version's delivery figures. `console(registry)` also registers the
meeting pages, the dashboard panel and the JSON API (handlers/notices/console_meetings.py, api.py).

Jurisdiction: lists are filtered in SQL (`repo.staff_filter`); a notice outside it answers 404; creating or acting
with a scope outside it answers 403. Rule refusals (four-eyes, level) are shown on the page before anyone tries.
"""
from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

from bot.delivery import progress
from bot.errors import DomainError
from handlers.console.audit import audit
from handlers.console.authz import visible_communities
from handlers.console.guard import current, db, max_body, require_staff
from handlers.console.render import Form, Page, flash, page_number, render, see_other, staff_names_for
from handlers.console.state import state_of
from handlers.console.toolkit import path_id
from handlers.notices import rules, service, webforms
from handlers.notices.public import CSP, render_page
from handlers.notices.service import Actor, Forbidden, NoticeError
from storage.repositories import notices as repo

HERE = Path(__file__).parent
PER_PAGE = 30
LABELS = {"notice.create": "起草公示", "notice.edit": "修改公示草稿", "notice.submit": "提交公示审核", "notice.approve": "审核发布公示",
          "notice.schedule": "定时发布公示", "notice.correct": "更正公示", "notice.withdraw": "撤回公示",
          "notice.correction_approve": "审核发布更正", "notice.correction_discard": "放弃更正",
          "notice.import": "导入公示表格", "meeting.create": "记录联席会议", "meeting.item": "添加会议议题",
          "meeting.close": "结束联席会议", "meeting.publish": "公开会议纪要", "meeting.followup": "完成会议待办"}


def actor_of(request: web.Request) -> Actor:
    user = current(request)
    return Actor(f"staff:{user.staff.username}"[:64], user.level, user.staff.id, user.scope.community_ids)


def communities(request: web.Request):
    scope = current(request).scope
    return None if scope.is_admin else visible_communities(scope)


async def load(request: web.Request):
    """The notice in the path; 404 when absent or outside the jurisdiction (service.NotFound)."""
    return await service.load(db(request), path_id(request, "notice_id"), actor_of(request))


def _refuse(exc: NoticeError):
    if isinstance(exc, Forbidden):
        raise web.HTTPForbidden() from None


@require_staff()
async def list_page(request: web.Request) -> web.Response:
    state = request.query.get("state") if request.query.get("state") in rules.STATES else None
    category = request.query.get("category") if request.query.get("category") in rules.CATEGORIES else None
    number = page_number(request)
    rows, total = await repo.staff_list(db(request), communities(request), state=state, category=category,
                                        limit=PER_PAGE, offset=(number - 1) * PER_PAGE)
    return render(request, "notices/list.html", title="公示通知", page=Page(rows, number, PER_PAGE, total),
                  states=rules.STATES, categories=rules.CATEGORIES, state=state or "", category=category or "",
                  staff_names=await staff_names_for(db(request), [n.author for n, _ in rows]))


async def _form(request: web.Request, *, values: dict, errors: dict, notice=None, status: int = 200):
    options = await webforms.scope_options(db(request), current(request).scope)
    return render(request, "notices/form.html", title="修改公示" if notice else "起草公示", status=status,
                  values=values, errors=errors, notice=notice, options=options, categories=rules.CATEGORIES)


@require_staff()
async def new_page(request: web.Request) -> web.Response:
    values = {"category": request.query.get("category", "general"), "scope": [], "tables": [{}], "roles": ""}
    return await _form(request, values=values, errors={})


def _values(data: Form) -> dict:
    tables = [{"title": str(data.get(f"table_title_{n}", "")), "csv": str(data.get(f"table_csv_{n}", ""))}
              for n in range(webforms.MAX_TABLES + 1) if f"table_csv_{n}" in data]
    return {k: str(data.get(k, "")).strip() for k in ("category", "title", "body", "publisher", "publish_at",
                                                       "roles")} | {"scope": data.many("scope"),
                                                                    "tables": tables or [{}]}


async def _save(request: web.Request, notice=None) -> web.Response:
    data = await Form.read(request)
    values, session, user = _values(data), db(request), current(request)
    try:
        level, ids = webforms.parse_scope(values["scope"])
        fields = dict(title=values["title"], body=values["body"], tables=webforms.tables_from_form(data),
                      scope_level=level, scope_ids=ids, roles=[values["roles"]] if values["roles"] else [],
                      publisher=values["publisher"], publish_at=webforms.parse_local_time(values["publish_at"]),
                      now=user.now)
        if notice is None:
            notice = await service.create_draft(session, actor_of(request), category=values["category"], **fields)
            await audit(session, user, "notice.create", f"公示 {notice.id}：{values['title'][:40]}", request)
        else:
            await service.edit_draft(session, actor_of(request), notice, **fields)
            await audit(session, user, "notice.edit", f"公示 {notice.id}", request)
    except NoticeError as exc:
        _refuse(exc)
        return await _form(request, values=values, errors={"form": str(exc)}, notice=notice, status=422)
    await flash(request, "草稿已保存。请核对预览，再提交审核发布。")
    raise see_other(f"/console/notices/{notice.id}")


@require_staff()
async def create(request: web.Request) -> web.Response:
    return await _save(request)


@require_staff()
async def edit_page(request: web.Request) -> web.Response:
    notice = await load(request)
    if notice.state != "draft":
        raise see_other(f"/console/notices/{notice.id}")
    version = service.current(notice)
    values = {"category": notice.category, "title": version.title, "body": version.body,
              "publisher": notice.publisher, "publish_at": webforms.local_input(notice.publish_at),
              "roles": notice.roles[0] if len(notice.roles) == 1 else "",
              "scope": webforms.scope_values(notice.scope_level, notice.scope_ids),
              "tables": webforms.table_values(version.tables)}
    return await _form(request, values=values, errors={}, notice=notice)


@require_staff()
async def edit(request: web.Request) -> web.Response:
    return await _save(request, await load(request))


@require_staff()
async def detail_page(request: web.Request) -> web.Response:
    notice, session, user = await load(request), db(request), current(request)
    actor = actor_of(request)
    reports = {}
    for v in notice.versions:
        if v.broadcast_id:
            reports[v.version] = await progress.report(session, v.broadcast_id, user.now)
    covered = await repo.covered_communities(session, notice.id)
    problem = rules.approval_problem(
        level=actor.level, is_author=actor.name == notice.author, category=notice.category,
        scope_level=notice.scope_level, in_jurisdiction=actor.covers(covered, notice.scope_level),
        four_eyes=_four(request), exempt=rules.four_eyes_exempt(notice.category, notice.source))
    manage = rules.approval_problem(level=actor.level, is_author=False, category=notice.category,
                                    scope_level=notice.scope_level,
                                    in_jurisdiction=actor.covers(covered, notice.scope_level))
    version = service.current(notice)
    pending = service.pending_correction(notice)
    pending_problem = rules.approval_problem(
        level=actor.level, is_author=pending is not None and actor.name == pending.created_by,
        category=notice.category, scope_level=notice.scope_level,
        in_jurisdiction=actor.covers(covered, notice.scope_level), four_eyes=_four(request),
        exempt=rules.four_eyes_exempt(notice.category, notice.source))
    scope = "、".join(await repo.scope_names(session, notice.scope_level, list(notice.scope_ids))) or "全市"
    review = rules.needs_review(four_eyes=_four(request), exempt=rules.four_eyes_exempt(notice.category, notice.source))
    labels = [notice.author, notice.approver, notice.submitted_by] + [
        x for v in notice.versions for x in (v.created_by, v.approved_by)]
    return render(request, "notices/detail.html", title=version.title, notice=notice, version=version,
                  staff_names=await staff_names_for(session, labels),
                  may_submit=(notice.state == "draft" and review and notice.submitted_at is None
                              and actor.covers(covered, notice.scope_level)),
                  pending=pending, pending_problem=pending_problem,
                  reports=reports, approve_problem=problem, manage_problem=manage, scope=scope,
                  link=service.link(_base(request), notice), rules=rules,
                  body=rules.render_markdown(version.body), local=webforms.local_input,
                  tables=[webforms.table_csv(t) for t in version.tables])


def _settings(request: web.Request):
    return state_of(request).services.settings


def _four(request: web.Request) -> bool:
    return _settings(request).notice_four_eyes


def _base(request: web.Request) -> str:
    return _settings(request).base_url


@require_staff()
async def preview(request: web.Request) -> web.Response:
    notice, session = await load(request), db(request)
    raw = request.query.get("v", "")
    number = int(raw) if re.fullmatch(r"[0-9]{1,6}", raw) else notice.version
    if not any(v.version == number for v in notice.versions):
        raise web.HTTPNotFound()
    scope = "、".join(await repo.scope_names(session, notice.scope_level, list(notice.scope_ids))) or "全市"
    return web.Response(text=render_page(notice, number, scope), content_type="text/html", charset="utf-8",
                        headers={"Content-Security-Policy": CSP})


async def _act(request: web.Request, work, action: str, done: str) -> web.Response:
    notice, user = await load(request), current(request)
    data = await Form.read(request)
    try:
        said = await work(notice, data)
    except DomainError as exc:
        if exc.status == 403:
            raise web.HTTPForbidden() from None
        await flash(request, str(exc), "error")
        raise see_other(f"/console/notices/{notice.id}") from None
    await audit(db(request), user, action, f"公示 {notice.id}：{service.current(notice).title[:40]}", request)
    await flash(request, said or done)
    raise see_other(f"/console/notices/{notice.id}")


@require_staff()
async def approve(request: web.Request) -> web.Response:
    async def work(notice, data):
        when = webforms.parse_local_time(str(data.get("publish_at", "")))
        await service.approve(db(request), actor_of(request), notice, now=current(request).now,
                              base_url=_base(request), publish_at=when, four=_four(request))

    return await _act(request, work, "notice.approve", "已审核。到发布时间后会推送给范围内的居民。")


@require_staff()
async def submit(request: web.Request) -> web.Response:
    async def work(notice, data):
        from handlers.notices.jobs import tell_reviewers

        await service.submit(db(request), actor_of(request), notice, now=current(request).now)
        pushed = await tell_reviewers(db(request), notice, base_url=_base(request), now=current(request).now)
        return "已提交审核，草稿已进入审核人工作台的「待审核」" + (f"，并已通过微信提醒 {pushed} 位审核人。" if pushed else "。")

    return await _act(request, work, "notice.submit", "")


@require_staff()
async def correct_page(request: web.Request) -> web.Response:
    notice = await load(request)
    version = service.current(notice)
    values = {"title": version.title, "body": version.body, "note": "",
              "tables": webforms.table_values(version.tables)}
    return render(request, "notices/correct.html", title="更正公示", notice=notice, values=values, errors={})


@require_staff()
async def correct(request: web.Request) -> web.Response:
    async def work(notice, data):
        await service.correct(db(request), actor_of(request), notice, title=str(data.get("title", "")),
                              body=str(data.get("body", "")), tables=webforms.tables_from_form(data),
                              note=str(data.get("note", "")), now=current(request).now, base_url=_base(request),
                              four=_four(request))
        return ("已提交更正，等待另一位工作人员审核后发布（发布后会通知收到过原公示的居民）。"
                if service.pending_correction(notice) else "已发布更正版本，并通知了收到过原公示的居民。")

    return await _act(request, work, "notice.correct", "")


@require_staff()
async def approve_correction(request: web.Request) -> web.Response:
    async def work(notice, data):
        await service.approve_correction(db(request), actor_of(request), notice, now=current(request).now,
                                         base_url=_base(request), four=_four(request))

    return await _act(request, work, "notice.correction_approve", "已审核并发布更正，并通知了收到过原公示的居民。")


@require_staff()
async def discard_correction(request: web.Request) -> web.Response:
    async def work(notice, data):
        await service.discard_correction(db(request), actor_of(request), notice, now=current(request).now)

    return await _act(request, work, "notice.correction_discard", "已放弃这份更正。")


@require_staff()
async def withdraw(request: web.Request) -> web.Response:
    async def work(notice, data):
        await service.withdraw(db(request), actor_of(request), notice, reason=str(data.get("reason", "")),
                               now=current(request).now)

    return await _act(request, work, "notice.withdraw", "已撤回。居民不再能看到该公示的内容。")


@max_body(2 * 1024 * 1024)
@require_staff()
async def import_table(request: web.Request) -> web.Response:
    async def work(notice, data):
        upload = data.file("file")
        raw = upload.file.read() if upload is not None else str(data.get("csv", "")).encode()
        table = rules.table_from_csv(rules.decode_upload(raw), str(data.get("title", "")).strip())
        version = service.current(notice)
        await service.edit_draft(db(request), actor_of(request), notice, title=version.title, body=version.body,
                                 tables=list(version.tables) + [table.as_json()], scope_level=notice.scope_level,
                                 scope_ids=list(notice.scope_ids), roles=list(notice.roles),
                                 publish_at=notice.publish_at, now=current(request).now)

    async def guarded(notice, data):
        try:
            await work(notice, data)
        except rules.TableError as exc:
            raise NoticeError("导入失败：" + "；".join(exc.problems)) from None

    return await _act(request, guarded, "notice.import", "表格已导入，合计已自动计算。")


REVIEW_PANEL_ORDER = 5  # first on the dashboard: someone is waiting for this person


async def review_panel(session, user):
    """待审核: drafts submitted for review that this level may approve inside the jurisdiction (the author's
    own drafts show too, marked: the panel is shared by the jurisdiction; the page refuses the author)."""
    scope = None if user.scope.is_admin else visible_communities(user.scope)
    rows = [(n, v) for n, v in await repo.awaiting_review(session, scope)
            if rules.RANK[user.level] >= rules.RANK[rules.required_level(n.category, n.scope_level)]]
    if not rows:
        return None
    names = await staff_names_for(session, [n.submitted_by for n, _ in rows])
    return user.fragment("notices/review_panel.html", rows=rows, rules=rules, staff_names=names)


def console(registry) -> None:
    from handlers.notices import api, console_meetings, console_partner

    # a queue someone is waiting on: dropped in this process when any notice action commits, so a submission
    # shows at once here and within 10 s (two lifetimes, see state.STALE_FACTOR) in the other workers
    registry.panel("notice_review", "待审核的公示", order=REVIEW_PANEL_ORDER, cache_seconds=5,
                   fresh_after=("notice",))(review_panel)
    registry.labels(LABELS)
    registry.templates(HERE / "templates")
    registry.openapi(HERE / "openapi.yaml")
    registry.nav("公示通知", "/console/notices", order=20)
    registry.page("GET", "/notices", list_page)
    registry.page("POST", "/notices", create)
    registry.page("GET", "/notices/new", new_page)
    registry.page("GET", "/notices/{notice_id}", detail_page)
    registry.page("GET", "/notices/{notice_id}/edit", edit_page)
    registry.page("POST", "/notices/{notice_id}/edit", edit)
    registry.page("GET", "/notices/{notice_id}/preview", preview)
    registry.page("POST", "/notices/{notice_id}/submit", submit)
    registry.page("POST", "/notices/{notice_id}/approve", approve)
    registry.page("GET", "/notices/{notice_id}/correct", correct_page)
    registry.page("POST", "/notices/{notice_id}/correct", correct)
    registry.page("POST", "/notices/{notice_id}/correction/approve", approve_correction)
    registry.page("POST", "/notices/{notice_id}/correction/discard", discard_correction)
    registry.page("POST", "/notices/{notice_id}/withdraw", withdraw)
    registry.page("POST", "/notices/{notice_id}/tables", import_table)
    console_meetings.register(registry)
    console_partner.register(registry)
    api.register(registry)
