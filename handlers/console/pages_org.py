"""The organisation tree and partners inside the jurisdiction; admins import a CSV/YAML file through
`storage.orgimport`, and every problem is shown with its line number (nothing is written then)."""
from __future__ import annotations

from pathlib import PurePath

from aiohttp import web
from sqlalchemy import select

from handlers.console import queries
from handlers.console.audit import audit
from handlers.console.guard import current, db, max_body, require_staff
from handlers.console.render import Form, flash, render, see_other
from handlers.console.state import state_of
from storage.models import Developer, PropertyCompany, StaffLevel
from storage.orgimport import OrgImportError, apply_org_plan, parse_org_bytes

MAX_IMPORT_BYTES = 5 * 1024 * 1024


async def partners(session, tree, everything: bool):
    """Property-service companies and developers: all for admins, else those of the visible estates."""
    if everything:
        companies = (await session.execute(select(PropertyCompany).order_by(PropertyCompany.id))).scalars().all()
        developers = (await session.execute(select(Developer).order_by(Developer.id))).scalars().all()
        return list(companies), list(developers)
    estates = [e for _, streets in tree for _, comms in streets for _, ests in comms for e in ests]
    companies = {e.property_company.id: e.property_company for e in estates if e.property_company}
    developers = {e.developer.id: e.developer for e in estates if e.developer}
    return sorted(companies.values(), key=lambda c: c.id), sorted(developers.values(), key=lambda d: d.id)


async def _page(request: web.Request, *, problems: list[str] | None = None, status: int = 200) -> web.Response:
    user = current(request)
    tree = await queries.org_tree(db(request), user.scope)
    companies, developers = await partners(db(request), tree, user.scope.is_admin)
    return render(request, "org.html", title="组织架构", tree=tree, companies=companies, developers=developers,
                  problems=problems or [], status=status)


@require_staff()
async def org_page(request: web.Request) -> web.Response:
    return await _page(request)


async def import_upload(request: web.Request) -> tuple[bytes, str, str] | None:
    """(contents, kind, file name) of the uploaded file, or None when missing or of the wrong type."""
    field = (await Form.read(request, "file")).file("file")
    if field is None:
        return None
    name = PurePath(field.filename or "").name
    suffix = PurePath(name).suffix.lower()
    if suffix not in (".csv", ".yaml", ".yml"):
        return None
    return field.file.read(MAX_IMPORT_BYTES + 1), "csv" if suffix == ".csv" else "yaml", name


async def run_import(request: web.Request, data: bytes, kind: str, name: str):
    """Apply the file; returns (summary, []) or (None, problems). Audited either way."""
    session, user = db(request), current(request)
    if len(data) > MAX_IMPORT_BYTES:
        return None, ["文件过大（上限 5 MB），请拆分后分批导入"]
    plan = parse_org_bytes(data, kind, source=name)
    problems = list(plan.problems)
    summary = None
    if not problems:
        try:
            summary = await apply_org_plan(session, plan)
        except OrgImportError as exc:
            problems = exc.problems
    if problems:
        await audit(session, user, "org.import.failed", name, request, detail={"problems": len(problems)})
        return None, problems
    state_of(request).forget_org()
    await audit(session, user, "org.import", name, request)
    return summary, []


@max_body(MAX_IMPORT_BYTES + 64 * 1024)
@require_staff(StaffLevel.admin)
async def org_import(request: web.Request) -> web.Response:
    upload = await import_upload(request)
    if upload is None:
        return await _page(request, problems=["请选择扩展名为 .csv、.yaml 或 .yml 的文件"], status=400)
    summary, problems = await run_import(request, *upload)
    if problems:
        return await _page(request, problems=problems, status=400)
    await flash(request, "导入完成。" + summary.describe().replace("\n", "；"))
    raise see_other("/console/org")


def register(registry) -> None:
    registry.page("GET", "/org", org_page)
    registry.page("POST", "/org/import", org_import)
