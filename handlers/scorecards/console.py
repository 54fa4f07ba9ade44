"""The scorecards' console plugin: the ranking of a jurisdiction (with CSV export and a printable page), a
company's page with every figure traced to its campaigns, tickets and disclosures, its trend, publishing chosen
figures to residents and withdrawing them, the disclosure duties per estate, and the dashboard panel.
The JSON API is in api.py; both read through views.py.
"""
from __future__ import annotations

from pathlib import Path

from aiohttp import web

from handlers.console.audit import audit
from handlers.console.authz import can_see_community, visible_communities
from handlers.console.charts import bar_chart, line_chart
from handlers.console.guard import current, db, public, require_staff
from handlers.console.registry import SLOTS
from handlers.console.render import Form, flash, render, see_other
from handlers.console.toolkit import path_id
from handlers.csv_export import csv_response
from handlers.notices.rules import CATEGORIES as NOTICE_CATEGORIES
from handlers.scorecards import access, export, obligations, periods, publish, service
from handlers.scorecards.config import COMPONENTS, ScorecardConfigError, from_settings
from handlers.scorecards.disclosures import FREQUENCIES, STATUS_LABELS
from handlers.scorecards.figures import FLAG_LABELS
from handlers.scorecards.views import Problem, View, audit_read, board_of, subject_id_of, subject_page, view_of
from handlers.tickets.rules import CATEGORIES, LEVEL_LABELS
from handlers.tickets.rules import STATUS_LABELS as TICKET_STATUS

HERE = Path(__file__).parent
PRINT_CSS = (HERE / "print.css").read_text(encoding="utf-8")
LABELS = {"scorecard.publish": "公布企业评分", "scorecard.withdraw": "撤回企业评分",
          "scorecard.rules": "设置公示要求", "scorecard.export": "导出企业评分"}
PANEL_ORDER = SLOTS["surveys"] + 5


def common(view: View) -> dict:
    return {"view": view, "kinds": list(service.KIND_LABELS.items()), "kind_label": service.KIND_LABELS[view.kind],
            "flag_labels": FLAG_LABELS, "components": COMPONENTS}


@require_staff()
async def list_page(request: web.Request) -> web.Response:
    view = await view_of(request)
    board = await board_of(request, view)
    chart = bar_chart([(c.subject_name, c.score) for c in board.ranked[:20]], title="综合得分", max_value=100)
    return render(request, "scorecards/list.html", title="企业评议", board=board, chart=chart,
                  period_choices=periods.choices(current(request).now, view.period),
                  areas=await access.area_choices(db(request), current(request).scope), **common(view))


@require_staff()
async def export_page(request: web.Request) -> web.Response:
    view = await view_of(request)
    board = await board_of(request, view, detail=True)
    await audit_read(request, "scorecard.export", f"{view.area.label} {view.period.key} {view.kind}")
    return csv_response(export.board_csv(board), f"scorecards-{view.kind}-{view.period.key}.csv")


@require_staff()
async def print_page(request: web.Request) -> web.Response:
    view = await view_of(request)
    board = await board_of(request, view)
    return render(request, "scorecards/print.html", title=f"{view.area.label}{view.period.label}评议",
                  board=board, weights=view.config.weights_for(view.kind), config=view.config, **common(view))


@public
async def print_css(request: web.Request) -> web.Response:
    return web.Response(text=PRINT_CSS, content_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


def _kind_in_path(request: web.Request) -> str:
    kind = request.match_info.get("kind", "")
    if kind not in service.KIND_LABELS:
        raise Problem(404, "页面不存在")
    return kind


@require_staff()
async def subject_detail(request: web.Request) -> web.Response:
    kind = _kind_in_path(request)
    view = await view_of(request, kind=kind)
    data = await subject_page(request, view, subject_id_of(request))
    card = data["card"]
    trend = [(p.short_label, c.score) for p, c in data["trend"] if c is not None and c.score is not None]
    return render(request, "scorecards/detail.html", title=card.subject_name, **data, **common(view),
                  period_choices=periods.choices(current(request).now, view.period),
                  trend_chart=line_chart(trend, title="综合得分走势"), groups=publish.GROUPS,
                  can_publish=access.may_publish(current(request).level), estates={
                      e.id: e.name for e in data["board"].estates.values()},
                  categories=CATEGORIES, ticket_status=TICKET_STATUS, levels=LEVEL_LABELS,
                  disclosure_status=STATUS_LABELS, notice_categories=NOTICE_CATEGORIES,
                  frequencies=FREQUENCIES)


@require_staff()
async def sources_csv(request: web.Request) -> web.Response:
    kind = _kind_in_path(request)
    view = await view_of(request, kind=kind)
    data = await subject_page(request, view, subject_id_of(request), ticket_limit=None)
    card = data["card"]
    await audit_read(request, "scorecard.export", f"{card.subject_name} {view.period.key} 工单明细")
    names = {e.id: e.name for e in data["board"].estates.values()}
    return csv_response(export.sources_csv(data["sources"], names),
                        f"scorecard-{kind}-{card.subject_id}-{view.period.key}-tickets.csv")


def _publisher(request: web.Request):
    """The current user, who must be allowed to publish scorecards and set disclosure duties (403 otherwise)."""
    user = current(request)
    if not access.may_publish(user.level):
        raise web.HTTPForbidden()
    return user


async def publish_subject(request: web.Request, fields: dict, groups: list[str]):
    """Publish the chosen groups of one subject's card (shared with the API); returns the publication."""
    kind = _kind_in_path(request)
    user = _publisher(request)
    view = await view_of(request, fields, kind=kind)
    subject_id = subject_id_of(request)
    board = await board_of(request, view, with_previous=False, detail=True)
    card = board.card(subject_id)
    if card is None:
        raise Problem(404, "该单位在您的辖区内没有在管的小区或相关数据")
    try:
        chosen = publish.check_groups(kind, groups)
        estate_ids = [r.estate_id for r in card.estates if r.estate_id in board.estates
                      and board.estates[r.estate_id].subject(kind) == subject_id]
        pub = await publish.create(db(request), card, chosen, view.period, view.area.label, estate_ids,
                                   f"staff:{user.staff.username}", user.now)
    except publish.PublishError as exc:
        raise Problem(422, str(exc)) from None
    await audit(db(request), user, "scorecard.publish", f"{card.subject_name} {view.period.key} {'、'.join(chosen)}",
                request)
    return pub


@require_staff()
async def publish_post(request: web.Request) -> web.Response:
    form = await Form.read(request)
    kind = request.match_info.get("kind", "")
    back = f"/console/scorecards/{kind}/{request.match_info.get('subject_id', '')}"
    try:
        pub = await publish_subject(request, form.values, form.many("groups"))
    except Problem as exc:
        if exc.status == 403:
            raise web.HTTPForbidden() from None
        if exc.status == 404:
            raise web.HTTPNotFound() from None
        await flash(request, exc.message, "error")
        raise see_other(f"{back}?period={form.get('period', '')}&area={form.get('area', '')}") from None
    await flash(request, f"已公布。该单位在管小区的居民回复「{'物业评分' if kind == 'property' else '开发商评分'}」即可看到。")
    raise see_other(f"{back}?period={pub.period}&area={form.get('area', '')}")


async def withdraw_publication(request: web.Request):
    """Withdraw a publication whose estates all lie inside the jurisdiction (shared with the API)."""
    user = _publisher(request)
    pub_id = path_id(request, "publication_id")
    from storage.scorecard_models import ScorecardPublication

    pub = await db(request).get(ScorecardPublication, pub_id)
    communities = await publish.covered_communities(db(request), pub_id) if pub else set()
    if pub is None or not any(can_see_community(user.scope, c) for c in communities):
        raise Problem(404, "没有找到该公布记录")
    if not all(can_see_community(user.scope, c) for c in communities):
        raise Problem(403, "该公布覆盖您辖区以外的小区")
    if not await publish.withdraw(db(request), pub_id, f"staff:{user.staff.username}", user.now):
        raise Problem(409, "该公布已撤回")
    await audit(db(request), user, "scorecard.withdraw", f"{pub.subject_name} {pub.period}", request)
    await db(request).refresh(pub)
    return pub


@require_staff()
async def withdraw_post(request: web.Request) -> web.Response:
    try:
        pub = await withdraw_publication(request)
    except Problem as exc:
        if exc.status == 403:
            raise web.HTTPForbidden() from None
        if exc.status == 404:
            raise web.HTTPNotFound() from None
        await flash(request, exc.message, "error")
        raise see_other("/console/scorecards") from None
    await flash(request, "已撤回，居民不再看到这次公布的评分。")
    raise see_other(f"/console/scorecards/{pub.kind}/{pub.subject_id}?period={pub.period}")


# ----- disclosure duties -------------------------------------------------------------------------------------

def _communities(request: web.Request):
    scope = current(request).scope
    return None if scope.is_admin else visible_communities(scope)


@require_staff()
async def rules_page(request: web.Request) -> web.Response:
    session = db(request)
    return render(request, "scorecards/rules.html", title="公示要求",
                  rules=await obligations.listing(session, _communities(request)),
                  estates=await obligations.estates(session, _communities(request)),
                  categories=list(obligations.CATEGORY_CHOICES.items()), frequencies=list(FREQUENCIES.items()),
                  can_edit=access.may_publish(current(request).level))


async def save_rules(request: web.Request, refs: list, fields: dict) -> int:
    """Validate and save a rule for several estates (shared with the API); Problem on refusal."""
    user, session = _publisher(request), db(request)
    try:
        category, frequency, due_day, since = obligations.parse(
            fields.get("category"), fields.get("frequency"), fields.get("due_day"), fields.get("effective_from"))
        found = await obligations.estate_ids(session, refs)
    except obligations.RuleError as exc:
        raise Problem(422, str(exc)) from None
    if not all(can_see_community(user.scope, c) for c in found.values()):
        raise Problem(403, "所选小区不在您的辖区内")
    count = await obligations.save(session, sorted(found), category, frequency, due_day, since,
                                   f"staff:{user.staff.username}", user.now)
    await audit(db(request), user, "scorecard.rules",
                f"{count} 个小区 {category} {frequency} 第{due_day}天", request)
    return count


@require_staff()
async def rules_post(request: web.Request) -> web.Response:
    form = await Form.read(request)
    try:
        count = await save_rules(request, form.many("estate"), form.values)
    except Problem as exc:
        if exc.status == 403:
            raise web.HTTPForbidden() from None
        await flash(request, exc.message, "error")
        raise see_other("/console/scorecards/disclosures") from None
    await flash(request, f"已为 {count} 个小区设置公示要求。")
    raise see_other("/console/scorecards/disclosures")


async def delete_rule(request: web.Request) -> None:
    user = _publisher(request)
    rule_id = path_id(request, "rule_id")
    community = await obligations.community_of(db(request), rule_id)
    if community is None or not can_see_community(user.scope, community):
        raise Problem(404, "没有找到该要求")
    await obligations.remove(db(request), rule_id)
    await audit(db(request), user, "scorecard.rules", f"删除公示要求 {rule_id}", request, community_id=community)


@require_staff()
async def rule_delete_post(request: web.Request) -> web.Response:
    try:
        await delete_rule(request)
    except Problem:
        raise web.HTTPNotFound() from None
    await flash(request, "已删除该公示要求。")
    raise see_other("/console/scorecards/disclosures")


# ----- dashboard panel ---------------------------------------------------------------------------------------

async def ranking_panel(session, user):
    """This quarter's property-service companies in the jurisdiction: the top five and how many are flagged.
    Panels receive no services, so the configuration is read from the environment, as `linli serve` does."""
    config = _panel_config()
    if config is None:
        return None
    communities = None if user.scope.is_admin else visible_communities(user.scope)
    period = periods.containing(user.now, "quarter")
    board = await service.build(session, "property", period, communities, config, user.now)
    if not board.cards:
        return None
    flagged = sum(1 for c in board.cards if c.rank is None)
    return user.fragment("scorecards/panel.html", top=board.ranked[:5], flagged=flagged, total=len(board.cards),
                         period=period, flag_labels=FLAG_LABELS)


def _panel_config():
    from bot.settings import Settings, SettingsError

    try:
        return from_settings(Settings.from_env())
    except (SettingsError, ScorecardConfigError):
        return None


def console(registry) -> None:
    """The console plugin (`plugins=[scorecards.console]`)."""
    from handlers.scorecards import api

    registry.labels(LABELS)
    registry.templates(HERE / "templates")
    registry.openapi(HERE / "openapi.yaml")
    registry.nav("企业评议", "/console/scorecards", order=45)
    registry.page("GET", "/scorecards", list_page)
    registry.page("GET", "/scorecards/export.csv", export_page)
    registry.page("GET", "/scorecards/print", print_page)
    registry.page("GET", "/scorecards/print.css", print_css)
    registry.page("GET", "/scorecards/disclosures", rules_page)
    registry.page("POST", "/scorecards/disclosures", rules_post)
    registry.page("POST", "/scorecards/disclosures/{rule_id}/delete", rule_delete_post)
    registry.page("POST", "/scorecards/publications/{publication_id}/withdraw", withdraw_post)
    registry.page("GET", "/scorecards/{kind}/{subject_id}", subject_detail)
    registry.page("GET", "/scorecards/{kind}/{subject_id}/sources.csv", sources_csv)
    registry.page("POST", "/scorecards/{kind}/{subject_id}/publish", publish_post)
    for method, path, handler in api.ROUTES:
        registry.api(method, path, handler)
    registry.panel("scorecards", "物业服务企业评议（本季度）", order=PANEL_ORDER, cache_seconds=300)(ranking_panel)
