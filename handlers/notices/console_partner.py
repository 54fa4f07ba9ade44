"""A property-service company drafts its own disclosures in the console (issue 18): 物业服务事项公示 and 收支公示,
with tables, for the estates it serves, and submits them for review. The community's staff approve and publish
them exactly as any draft (the review queue, four eyes, `service.approve`); the company cannot publish, correct or
withdraw, and sees only its own organisation's disclosures.

Routes are under /console/partner/disclosures and open to a partner account whose organisation is a property
company (`staff.partner` = property:ID) only: marked `partner_allowed`, every other account gets 403 here, and a
disclosure of another company answers 404. The drafts carry `notices.source` = partner:property:ID, which the
scorecards read for the company's own timeliness (submitted before the duty's due day). Everything is audited.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from handlers.console.audit import audit
from handlers.console.guard import current, db, partner_allowed, require_staff
from handlers.console.render import Form, flash, render, see_other, staff_names_for
from handlers.console.toolkit import path_id
from handlers.notices import rules, service, webforms
from handlers.notices.console import _values as form_values
from handlers.notices.public import CSP, render_page
from handlers.notices.service import Actor, NoticeError
from storage.models import Community, Estate, PropertyCompany, StaffLevel
from storage.notice_models import Notice
from storage.repositories import notices as repo

CATEGORIES = {k: rules.CATEGORIES[k] for k in ("property", "finance")}
LABELS = {"notice.partner_create": "承办单位起草公示", "notice.partner_edit": "承办单位修改公示草稿",
          "notice.partner_submit": "承办单位提交公示审核"}
BASE = "/console/partner/disclosures"


def source_of(company_id: int) -> str:
    """notices.source of a company's own disclosures."""
    return f"partner:property:{company_id}"


@dataclass(frozen=True)
class Company:
    id: int
    name: str
    estates: dict[int, tuple[str, int]]  # estate id → (社区 · 小区, community id)

    @property
    def source(self) -> str:
        return source_of(self.id)


async def company_of(request: web.Request) -> Company:
    """The property company of the logged-in partner account and the estates it serves now; 403 for any other
    account (staff, a developer's or a department's account)."""
    partner = current(request).staff.partner or ""
    kind, _, raw = partner.partition(":")
    if kind != "property" or not raw.isdigit():
        raise web.HTTPForbidden()
    session = db(request)
    company = await session.get(PropertyCompany, int(raw))
    if company is None:
        raise web.HTTPForbidden()
    rows = await session.execute(
        select(Estate.id, Estate.name, Community.name, Community.id).join(Community, Community.id == Estate.community_id)
        .where(Estate.property_company_id == company.id).order_by(Community.name, Estate.name))
    return Company(company.id, company.name, {e: (f"{c} · {name}", cid) for e, name, c, cid in rows.all()})


def actor_of(request: web.Request, company: Company) -> Actor:
    """The notices' actor for the company: community rank over the communities of its estates (the scope is
    further held to its estates here)."""
    staff = current(request).staff
    return Actor(f"staff:{staff.username}"[:64], StaffLevel.community, staff.id,
                 frozenset(cid for _, cid in company.estates.values()))


async def _own(request: web.Request, company: Company) -> Notice:
    notice = await repo.get(db(request), path_id(request, "notice_id"))
    if notice is None or notice.source != company.source:
        raise web.HTTPNotFound(text="公示不存在")
    return notice


def _editable(notice: Notice) -> bool:
    return notice.state == "draft" and notice.submitted_at is None


@partner_allowed
@require_staff()
async def list_page(request: web.Request) -> web.Response:
    company = await company_of(request)
    rows = list(await db(request).scalars(
        select(Notice).where(Notice.source == company.source).options(selectinload(Notice.versions))
        .order_by(Notice.id.desc()).limit(200)))
    return render(request, "notices/partner_list.html", title="本单位公示", company=company,
                  rows=[(n, service.current(n)) for n in rows], rules=rules)


async def _form(request: web.Request, company: Company, *, values: dict, errors: dict, notice=None,
                status: int = 200) -> web.Response:
    return render(request, "notices/partner_form.html", title="修改公示草稿" if notice else "起草公示", status=status,
                  company=company, values=values, errors=errors, notice=notice, categories=CATEGORIES)


@partner_allowed
@require_staff()
async def new_page(request: web.Request) -> web.Response:
    company = await company_of(request)
    category = request.query.get("category") if request.query.get("category") in CATEGORIES else "property"
    return await _form(request, company, values={"category": category, "estates": [], "tables": [{}]}, errors={})


def _values(data: Form) -> dict:
    """The staff form's values (category, title, body, tables) with the chosen estates instead of a scope."""
    return form_values(data) | {"estates": [v for v in data.many("estate") if v]}


def _estates(values: dict, company: Company) -> list[int]:
    ids = {int(v) for v in values["estates"] if re.fullmatch(r"[0-9]{1,9}", v)}
    if not ids:
        raise NoticeError("请选择公示的小区")
    if len(ids) != len(values["estates"]) or not ids <= set(company.estates):
        raise NoticeError("只能为本单位服务的小区起草公示")
    return sorted(ids)


async def _save(request: web.Request, company: Company, notice: Notice | None = None) -> web.Response:
    data = await Form.read(request)
    values, session, user = _values(data), db(request), current(request)
    try:
        if notice is None and values["category"] not in CATEGORIES:
            raise NoticeError("类别应为 " + "、".join(CATEGORIES.values()) + " 之一")
        fields = dict(title=values["title"], body=values["body"], tables=webforms.tables_from_form(data),
                      scope_level="estate", scope_ids=_estates(values, company), now=user.now)
        if notice is None:
            notice = await service.create_draft(session, actor_of(request, company), category=values["category"],
                                                publisher=company.name, source=company.source, **fields)
            await audit(session, user, "notice.partner_create", f"公示 {notice.id}：{values['title'][:40]}", request)
        else:
            await service.edit_draft(session, actor_of(request, company), notice, publisher=company.name, **fields)
            await audit(session, user, "notice.partner_edit", f"公示 {notice.id}", request)
    except NoticeError as exc:
        return await _form(request, company, values=values, errors={"form": str(exc)}, notice=notice, status=422)
    await flash(request, "草稿已保存。核对预览后请提交社区审核，社区审核后发布。")
    raise see_other(f"{BASE}/{notice.id}")


@partner_allowed
@require_staff()
async def create(request: web.Request) -> web.Response:
    return await _save(request, await company_of(request))


@partner_allowed
@require_staff()
async def detail_page(request: web.Request) -> web.Response:
    company = await company_of(request)
    notice = await _own(request, company)
    version = service.current(notice)
    scope = "、".join(await repo.scope_names(db(request), notice.scope_level, list(notice.scope_ids)))
    names = await staff_names_for(db(request), [notice.author, notice.approver])
    return render(request, "notices/partner_detail.html", title=version.title, company=company, notice=notice,
                  version=version, scope=scope, staff_names=names, editable=_editable(notice), rules=rules,
                  body=rules.render_markdown(version.body), tables=[webforms.table_csv(t) for t in version.tables])


@partner_allowed
@require_staff()
async def edit_page(request: web.Request) -> web.Response:
    company = await company_of(request)
    notice = await _own(request, company)
    if not _editable(notice):
        raise see_other(f"{BASE}/{notice.id}")
    version = service.current(notice)
    values = {"category": notice.category, "title": version.title, "body": version.body,
              "estates": [str(i) for i in notice.scope_ids],
              "tables": webforms.table_values(version.tables)}
    return await _form(request, company, values=values, errors={}, notice=notice)


@partner_allowed
@require_staff()
async def edit(request: web.Request) -> web.Response:
    company = await company_of(request)
    notice = await _own(request, company)
    if not _editable(notice):
        await Form.read(request)
        await flash(request, "已提交审核的公示不能再修改", "error")
        raise see_other(f"{BASE}/{notice.id}")
    return await _save(request, company, notice)


@partner_allowed
@require_staff()
async def preview(request: web.Request) -> web.Response:
    company = await company_of(request)
    notice = await _own(request, company)
    scope = "、".join(await repo.scope_names(db(request), notice.scope_level, list(notice.scope_ids)))
    return web.Response(text=render_page(notice, notice.version, scope), content_type="text/html", charset="utf-8",
                        headers={"Content-Security-Policy": CSP})


@partner_allowed
@require_staff()
async def submit(request: web.Request) -> web.Response:
    from handlers.console.state import state_of
    from handlers.notices.jobs import tell_reviewers

    company = await company_of(request)
    notice = await _own(request, company)
    await Form.read(request)
    session, user = db(request), current(request)
    try:
        await service.submit(session, actor_of(request, company), notice, now=user.now)
    except NoticeError as exc:
        await flash(request, str(exc), "error")
        raise see_other(f"{BASE}/{notice.id}") from None
    pushed = await tell_reviewers(session, notice, base_url=state_of(request).services.settings.base_url,
                                  now=user.now)
    await audit(session, user, "notice.partner_submit", f"公示 {notice.id}：{service.current(notice).title[:40]}",
                request)
    await flash(request, "已提交社区审核" + (f"，已通过微信提醒 {pushed} 位审核人。" if pushed else "。"))
    raise see_other(f"{BASE}/{notice.id}")


def register(registry) -> None:
    registry.labels(LABELS)
    registry.nav("本单位公示", "/console/partner/disclosures", order=2, partner="property")
    registry.page("GET", "/partner/disclosures", list_page)
    registry.page("POST", "/partner/disclosures", create)
    registry.page("GET", "/partner/disclosures/new", new_page)
    registry.page("GET", "/partner/disclosures/{notice_id}", detail_page)
    registry.page("GET", "/partner/disclosures/{notice_id}/edit", edit_page)
    registry.page("POST", "/partner/disclosures/{notice_id}/edit", edit)
    registry.page("GET", "/partner/disclosures/{notice_id}/preview", preview)
    registry.page("POST", "/partner/disclosures/{notice_id}/submit", submit)
