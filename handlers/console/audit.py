"""`await audit(session, staff, action, target, request)`: record a staff action (who, what, when, from where)
in the caller's transaction, so the entry exists exactly when the action does.

Actions are dotted names, feature first: `staff.create`, `resident.unbind`, `notice.publish`. `target` is a short
human-readable description (no secrets, no personal data beyond a reference). Pass `community_id` when the
action concerns one community, so that community's and its street's and district's dashboards show it.
Given the request, the action is also remembered on it: once the request's transaction commits, dashboard panels
declared `fresh_after` that action are recomputed (handlers/console/registry.Panel).
"""
from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.console.guard import AUDITED, ConsoleUser
from handlers.console.security import client_ip
from handlers.console.state import state_of
from storage.models import Staff
from storage.repositories import audit as audit_repo

ACTION_LABELS = {
    "login": "登录", "login.failed": "登录失败", "login.locked": "登录被限速", "logout": "退出登录",
    "login.demo": "生产环境拒绝演示密码登录", "account.password": "修改自己的密码",
    "account.sessions": "退出其他设备", "account.token.revoke": "吊销自己的 API 令牌",
    "denied": "越权访问被拒绝", "staff.create": "创建账号", "staff.deactivate": "停用账号",
    "staff.reactivate": "启用账号", "staff.password": "重置密码", "token.create": "创建 API 令牌",
    "token.revoke": "吊销 API 令牌", "org.import": "导入组织架构", "org.import.failed": "导入组织架构失败",
    "resident.unbind": "解除居民绑定", "resident.search": "查询居民",
}


async def audit(session: AsyncSession, staff: ConsoleUser | Staff, action: str, target: str = "",
                request: web.Request | None = None, *, community_id: int | None = None,
                detail: dict[str, Any] | None = None) -> None:
    user = staff if isinstance(staff, ConsoleUser) else None
    account = user.staff if user else staff
    ip, now = None, None
    if request is not None:
        state = state_of(request)
        ip, now = client_ip(request, state.trusted_proxies), state.services.clock()
        request.setdefault(AUDITED, []).append(action)
    await audit_repo.record(session, username=account.username, staff_id=account.id, action=action, target=target,
                            community_id=community_id, ip=ip, via=user.via if user else "web", detail=detail,
                            at=now)


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)
