"""The dashboard: a grid of panels registered in the `ConsoleRegistry`, each computed for the viewer's
jurisdiction (optionally narrowed to one community) and cached per jurisdiction.

The console's own panels (residents overview, binding rate per community, recent activity) are registered
here exactly as feature panels are; features take the slots reserved in `registry.SLOTS`.
"""
from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import replace
from datetime import timedelta

from aiohttp import web
from markupsafe import Markup

from handlers.console import queries
from handlers.console.audit import action_label
from handlers.console.authz import Scope, can_see_community, visible_communities
from handlers.console.guard import ConsoleUser, committee_allowed, current, db, partner_allowed, require_staff
from handlers.console.registry import SLOTS, ConsoleRegistry, Panel
from handlers.console.render import LOCAL_TZ, render, staff_names_for
from handlers.console.state import state_of
from storage.console_models import AuditEntry
from storage.models import StaffLevel

log = logging.getLogger("linli.console.dashboard")
PANEL_TIMEOUT = 10.0
FIGURES_SECONDS = 30.0


def viewer(request: web.Request) -> ConsoleUser:
    """The current user, narrowed to `?community=ID` when given (403 outside the jurisdiction)."""
    user = current(request)
    raw = request.query.get("community", "")
    if not raw:
        return user
    try:
        return replace(user, scope=user.scope.narrow(int(raw)))
    except (ValueError, PermissionError):
        raise web.HTTPForbidden() from None


async def compute_figures(session, user: ConsoleUser) -> dict:
    """Resident figures of the viewer's jurisdiction: per community, totals, and bindings per day (14 days).

    The per-community table of the whole organisation is computed once per FIGURES_SECONDS for everybody
    (figures are additive), then each jurisdiction takes its own communities (`can_see_community`), so a
    hundred staff of sixty jurisdictions opening the dashboard together cost one pass over the residents."""
    table = await user.shared(("figures-all",), FIGURES_SECONDS, lambda: _all_figures(session, user.now))
    rows = [r for r in table["communities"] if can_see_community(user.scope, r.id)]
    days = Counter()
    for (cid, day), count in table["days"].items():
        if can_see_community(user.scope, cid):
            days[day] += count
    since, month_start = table["since"], table["month_start"]
    return {"communities": rows,
            "daily": [((since + timedelta(days=i)).strftime("%m-%d"), days.get((since + timedelta(days=i)).date(), 0))
                      for i in range(14)],
            "month_bindings": sum(n for d, n in days.items() if d >= month_start),
            "residents": sum(r.residents for r in rows), "active": sum(r.active for r in rows),
            "households": sum(r.households for r in rows),
            "households_bound": sum(r.households_bound for r in rows)}


async def _all_figures(session, now) -> dict:
    everything = Scope(StaffLevel.admin)
    local_now = now.astimezone(LOCAL_TZ)
    since = (local_now - timedelta(days=13)).replace(hour=0, minute=0, second=0, microsecond=0)
    days = Counter((cid, t.astimezone(LOCAL_TZ).date())
                   for cid, t in await queries.bindings_since(session, everything, since))
    return {"communities": await queries.community_figures(session, everything, now), "days": days,
            "since": since, "month_start": local_now.replace(day=1).date()}


async def render_panel(request: web.Request, panel: Panel, user: ConsoleUser) -> Markup | None:
    state = state_of(request)

    async def compute():
        return await asyncio.wait_for(panel.provider(db(request), user), PANEL_TIMEOUT)

    async def refresh():  # in the background, after this request has ended: a session and a clock of its own
        # (a clock too, so not `state.read_cached`)
        async with state.services.db.reading() as session:
            later = replace(user, now=state.services.clock())
            return await asyncio.wait_for(panel.provider(session, later), PANEL_TIMEOUT)

    try:
        html = await state.panels.get_or_compute((panel.key, user.scope.key), panel.cache_seconds, compute,
                                                 refresh=refresh)
    except Exception:  # one broken panel must not take the dashboard down
        log.exception("dashboard panel %s failed", panel.key)
        return Markup('<p class="muted">该面板暂时无法显示，请稍后刷新。</p>')
    return None if html is None else Markup(html)


@committee_allowed
@partner_allowed
@require_staff()
async def dashboard_page(request: web.Request) -> web.Response:
    staff = current(request).staff
    if staff.partner is not None:  # a partner organisation: the tickets 交办 to it
        raise web.HTTPSeeOther("/console/partner/tickets")
    if staff.committee_estate_id is not None:  # an owners' committee: its estate's motions
        raise web.HTTPSeeOther("/console/owners")
    user = viewer(request)
    state = state_of(request)
    panels = []
    for panel in state.registry.panels_for(user.level):
        html = await render_panel(request, panel, user)
        if html is not None:
            panels.append((panel, html))
    choices = []
    if current(request).level is not StaffLevel.community:
        scope = current(request).scope
        choices = await state.read_cached(state.panels, ("choices", scope.key), FIGURES_SECONDS, db(request),
                                          lambda s: queries.communities(s, scope))
    return render(request, "dashboard.html", title="工作台", panels=panels, choices=choices,
                  selected=user.scope.only_community)


def register_builtin(registry: ConsoleRegistry) -> None:
    """The console's own panels and nav items."""
    registry.nav("工作台", "/console/", order=0)
    registry.nav("居民", "/console/residents", order=60)
    registry.nav("组织架构", "/console/org", order=70)
    registry.nav("账号管理", "/console/staff", level=StaffLevel.admin, order=90)
    registry.nav("审计日志", "/console/audit", level=StaffLevel.admin, order=95)
    registry.nav("我的账号", "/console/account", order=99)
    registry.nav("绑定微信", "/console/account/wechat", order=98, partner=True)
    registry.nav("修改密码", "/console/account/password", order=99, partner=True)
    registry.panel("residents", "居民概况", order=SLOTS["residents"], cache_seconds=FIGURES_SECONDS)(_overview_panel)
    registry.panel("binding", "各社区绑定率", order=SLOTS["residents"] + 1, cache_seconds=FIGURES_SECONDS,
                   wide=True)(_binding_panel)
    registry.panel("activity", "近期动态", order=SLOTS["activity"], cache_seconds=FIGURES_SECONDS)(_activity_panel)


async def _overview_panel(session, user: ConsoleUser):
    return user.fragment("panels/overview.html", data=await compute_figures(session, user))


async def _binding_panel(session, user: ConsoleUser):
    rows = (await compute_figures(session, user))["communities"]
    rows = sorted(rows, key=lambda r: (r.binding_rate is None, r.binding_rate or 0))
    chart = [(r.name, r.binding_rate) for r in rows if r.households][:20]
    return user.fragment("panels/binding.html", rows=rows, chart=chart)


async def _activity_panel(session, user: ConsoleUser):
    from sqlalchemy import select

    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(8)
    if not user.scope.is_admin:
        stmt = stmt.where(AuditEntry.community_id.in_(visible_communities(user.scope)))
    entries = (await session.execute(stmt)).scalars().all()
    daily = (await compute_figures(session, user))["daily"]
    names = await staff_names_for(session, [f"staff:{e.username}" for e in entries if e.username])
    return user.fragment("panels/activity.html", daily=daily, entries=entries, action_label=action_label,
                         staff_names=names)
