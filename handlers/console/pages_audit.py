"""The audit log (admins only): every staff action, newest first, filterable by account and action."""
from __future__ import annotations

from aiohttp import web

from handlers.console.audit import ACTION_LABELS, action_label
from handlers.console.guard import db, require_staff
from handlers.console.render import Page, page_number, render
from storage.models import StaffLevel
from storage.repositories import audit as audit_repo

PAGE_SIZE = 50


def audit_filter(request: web.Request) -> audit_repo.AuditFilter:
    return audit_repo.AuditFilter(username=request.query.get("username", "").strip()[:64] or None,
                                  action=request.query.get("action", "").strip()[:64] or None)


async def audit_page_data(request: web.Request, size: int = PAGE_SIZE) -> Page:
    wanted, number = audit_filter(request), page_number(request)
    session = db(request)
    entries = await audit_repo.list_entries(session, wanted, offset=(number - 1) * size, limit=size)
    return Page(entries, number, size, await audit_repo.count_entries(session, wanted))


@require_staff(StaffLevel.admin)
async def audit_page(request: web.Request) -> web.Response:
    page = await audit_page_data(request)
    return render(request, "audit.html", title="审计日志", page=page, action_label=action_label,
                  actions=sorted(ACTION_LABELS.items()), wanted=audit_filter(request))


def register(registry) -> None:
    registry.page("GET", "/audit", audit_page)
