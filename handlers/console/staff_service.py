"""Staff-account operations shared by the console pages, the API and the command line: validation, creation,
deactivation, password reset, API tokens. Each takes the caller's session and never commits."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import DomainError
from storage import password_policy
from storage.console_models import ApiToken
from storage.models import Community, Developer, District, PropertyCompany, Staff, StaffLevel, Street
from storage.orgimport import USERNAME_RE
from storage.passwords import hash_password
from storage.repositories import staff as staff_repo


class StaffError(DomainError):
    """Invalid input; `errors` maps a field name to a Chinese message (also in the API's JSON)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("；".join(errors.values()), errors=errors)
        self.errors = errors


def password_problem(password: str, username: str | None = None) -> str | None:
    """Why `password` may not be used for the account `username` (storage/password_policy.py), or None."""
    return password_policy.problem(password, username)


async def create_account(session: AsyncSession, *, username: str, display_name: str, level: str, node: str | None,
                         password: str, partner: str | None = None, committee: str | None = None) -> Staff:
    """Validate and create an account; raises StaffError listing every problem. With `partner` (a property
    company's or developer's code, or `dept:名称`) a partner organisation's account: no node, no jurisdiction. With `committee` (an estate's code) an owners'
    committee's account: no jurisdiction, only that estate's motions (handlers.console.guard.committee_allowed)."""
    errors: dict[str, str] = {}
    username, display_name = username.strip(), display_name.strip()
    if not USERNAME_RE.match(username):
        errors["username"] = "用户名只能用字母、数字、点、下划线和连字符，最长 64 位"
    elif await staff_repo.staff_by_username(session, username):
        errors["username"] = "该用户名已被使用"
    if not display_name or len(display_name) > 64:
        errors["display_name"] = "请填写姓名（最长 64 字）"
    try:
        staff_level = StaffLevel(level)
    except ValueError:
        errors["level"] = "请选择级别"
        staff_level = None
    node_ids = None
    partner_key = None
    committee_estate_id = None
    if partner is not None and committee is not None:
        errors["committee"] = "承办单位账号和业主委员会账号只能选一种"
    if partner is not None:
        partner_key = await staff_repo.resolve_partner(session, partner)
        if partner_key is None:
            errors["partner"] = "承办单位编码有误：应为物业服务企业或开发建设单位的编码，或「dept:部门名称」"
        staff_level = StaffLevel.community  # the lowest rank; without a node it sees no community
        errors.pop("level", None)
        node_ids = {"district_id": None, "street_id": None, "community_id": None}
    elif committee is not None:  # an owners' committee (业主委员会): one estate, no jurisdiction
        committee_estate_id = await staff_repo.estate_id_by_code(session, committee.strip())
        if committee_estate_id is None:
            errors["committee"] = "小区编码有误：业主委员会账号应填写其所在小区的编码"
        staff_level = StaffLevel.community
        errors.pop("level", None)
        node_ids = {"district_id": None, "street_id": None, "community_id": None}
    elif staff_level is not None:
        node_ids = await staff_repo.resolve_node(session, staff_level, node)
        if node_ids is None:
            errors["node"] = f"请选择所属{staff_level.label}"
    problem = password_problem(password, username)
    if problem:
        errors["password"] = problem
    if errors:
        raise StaffError(errors)
    password_hash = await asyncio.to_thread(hash_password, password)
    return await staff_repo.create_staff(session, username=username, display_name=display_name, level=staff_level,
                                         node_ids=node_ids, password_hash=password_hash, partner=partner_key,
                                         committee_estate_id=committee_estate_id)


def account_summary(staff: Staff) -> str:
    """How an account is named in the audit log: its username and its level, or its partner organisation."""
    return f"{staff.username}（{f'承办单位 {staff.partner}' if staff.partner else staff.level.label}）"


async def reset_password(session: AsyncSession, staff: Staff, password: str, now: datetime) -> None:
    """An admin's reset: the new password must pass the policy; every session of the account ends and every API
    token is revoked."""
    problem = password_problem(password, staff.username)
    if problem:
        raise StaffError({"password": problem})
    await staff_repo.set_password(session, staff, await asyncio.to_thread(hash_password, password), now)


async def node_choices(session: AsyncSession) -> dict[str, list[tuple[str, str]]]:
    """(code, name) of every node per level, for the "所属" select."""
    async def pairs(model, *order):
        return [(c, n) for c, n in (await session.execute(select(model.code, model.name).order_by(*order))).all()]

    return {"district": await pairs(District, District.id), "street": await pairs(Street, Street.id),
            "community": await pairs(Community, Community.id)}


async def node_names(session: AsyncSession) -> dict[tuple[str, int], str]:
    """Names of the districts, streets and communities, and of the property companies and developers (whose
    accounts are partner accounts), by (kind, id)."""
    names: dict[tuple[str, int], str] = {}
    for kind, model in (("district", District), ("street", Street), ("community", Community),
                        ("property", PropertyCompany), ("developer", Developer)):
        for node_id, name in (await session.execute(select(model.id, model.name))).all():
            names[(kind, node_id)] = name
    return names


def node_label(staff: Staff, names: dict[tuple[str, int], str]) -> str:
    if staff.partner:  # a partner organisation: its name (a department's is in its key)
        kind, _, ident = staff.partner.partition(":")
        return ident if kind == "dept" else names.get((kind, int(ident) if ident.isdigit() else 0), staff.partner)
    if staff.committee_estate_id is not None:
        return "业主委员会"
    if staff.level is StaffLevel.admin:
        return "全部辖区"
    node_id = {StaffLevel.community: staff.community_id, StaffLevel.street: staff.street_id,
               StaffLevel.district: staff.district_id}[staff.level]
    return names.get((staff.level.value, node_id or 0), "（未指定）")


async def new_token(session: AsyncSession, staff: Staff, label: str, now: datetime,
                    days: int) -> tuple[ApiToken, str]:
    """A new API token for `staff`, valid for `days` (LINLI_API_TOKEN_DAYS): its row and the raw token (shown
    once, stored hashed)."""
    if not staff.active:
        raise StaffError({"token": "账号已停用，不能创建令牌"})
    return await staff_repo.create_api_token(session, staff.id, label.strip()[:64] or "API", now,
                                             timedelta(days=days))
