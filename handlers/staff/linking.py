"""Linking a staff account to a WeChat user: a 6-digit code sent in chat, or a temporary QR code whose scene names
a token (both single-use, ten minutes), unlinking, and the limiter on code guesses.

Only hashes of codes and tokens are stored. Code guesses are counted per WeChat user and over everyone (the login
limiter's rows and arithmetic, with this feature's policies) *before* the code is looked up, so parallel guesses
count too; a right code is refunded. A code is marked used with a conditional update: two messages carrying the
same code link at most once.
"""
from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict, DomainError
from handlers.console import throttle
from handlers.staff import rules
from storage.models import Staff
from storage.repositories import login_throttle
from storage.repositories import staff_link as repo


class LinkRefused(DomainError):
    """A link attempt refused (a Chinese reason for the WeChat user)."""


def _user_key(openid: str) -> str:
    return "wxlink:" + hashlib.sha256(openid.encode()).hexdigest()[:40]


async def new_code(session: AsyncSession, staff: Staff, now: datetime) -> str:
    """A fresh 6-digit code for `staff` (their earlier live code stops working), unique among live codes."""
    for _ in range(20):
        code = rules.new_code()
        if await repo.live_code(session, "code", code, now) is None:
            await repo.add_code(session, staff.id, "code", code, now, now + rules.LINK_TTL)
            return code
    raise Conflict("暂时无法生成绑定码，请稍后再试")


def _state(row) -> throttle.State:
    return throttle.State(row.failures, row.last_failure_at, row.blocked_until)


def _store(row, state: throttle.State) -> None:
    row.failures, row.last_failure_at, row.blocked_until = state.failures, state.last_failure_at, state.blocked_until


async def link_by_code(session: AsyncSession, openid: str, code: str, now: datetime) -> Staff:
    """Link the sender to the account whose live code this is. Raises LinkRefused (wrong, used, expired, or too
    many guesses: the same answer, so a guesser learns nothing)."""
    keys = {_user_key(openid): rules.PER_USER, rules.EVERYONE_KEY: rules.EVERYONE}
    rows = await login_throttle.lock(session, list(keys))
    states = {k: throttle.current(_state(rows[k]), policy, now) for k, policy in keys.items()}
    waits = [until for s in states.values() if (until := throttle.blocked_until(s, now))]
    if waits:
        raise LinkRefused("尝试次数过多，请稍后再试，或在工作台「我的账号」中扫码绑定。", 429)
    for key, policy in keys.items():
        _store(rows[key], throttle.count_attempt(states[key], policy, now))
    row = await repo.live_code(session, "code", code, now)
    staff = await session.get(Staff, row.staff_id) if row is not None else None
    if row is None or staff is None or not staff.active or not await repo.use_code(session, row.id, now):
        raise LinkRefused("绑定码无效或已过期。请在工作台「我的账号 → 绑定微信」重新获取（10 分钟内有效，只能使用一次）。")
    user_key = _user_key(openid)
    _store(rows[user_key], throttle.State())
    _store(rows[rules.EVERYONE_KEY], throttle.refund(_state(rows[rules.EVERYONE_KEY]), rules.EVERYONE))
    await repo.link(session, staff, openid, now)
    return staff


async def link_by_scene(session: AsyncSession, openid: str, scene: str, now: datetime) -> Staff:
    """Link the sender to the account whose QR token the scanned scene names (single use, ten minutes)."""
    token = rules.scene_token(scene)
    row = await repo.live_code(session, "qr", token, now) if token else None
    staff = await session.get(Staff, row.staff_id) if row is not None else None
    if row is None or staff is None or not staff.active or not await repo.use_code(session, row.id, now):
        raise LinkRefused("该绑定二维码已失效（10 分钟内有效，只能使用一次）。请在工作台「我的账号 → 绑定微信」重新生成。")
    await repo.link(session, staff, openid, now)
    return staff


async def unlink(session: AsyncSession, staff: Staff) -> None:
    await repo.unlink(session, staff)
