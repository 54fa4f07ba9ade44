"""The audit log: append an entry per staff action, list entries newest first with filters. Never commits."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.console_models import AuditEntry


async def record(session: AsyncSession, *, username: str, action: str, target: str = "", staff_id: int | None = None,
                 community_id: int | None = None, ip: str | None = None, via: str = "web",
                 detail: dict[str, Any] | None = None, at: datetime | None = None) -> AuditEntry:
    entry = AuditEntry(username=username[:64], action=action[:64], target=(target or "")[:256], staff_id=staff_id,
                       community_id=community_id, ip=(ip or "")[:64] or None, via=via[:8], detail=detail)
    if at is not None:
        entry.at = at
    session.add(entry)
    return entry


@dataclass
class AuditFilter:
    username: str | None = None
    action: str | None = None  # exact, or a prefix ending in "." ("staff.")
    community_ids: Sequence[int] | None = None  # None: no restriction


def _filtered(stmt: Select, wanted: AuditFilter) -> Select:
    if wanted.username:
        stmt = stmt.where(AuditEntry.username == wanted.username)
    if wanted.action:
        if wanted.action.endswith("."):
            stmt = stmt.where(AuditEntry.action.startswith(wanted.action, autoescape=True))
        else:
            stmt = stmt.where(AuditEntry.action == wanted.action)
    if wanted.community_ids is not None:
        stmt = stmt.where(AuditEntry.community_id.in_(list(wanted.community_ids)))
    return stmt


async def list_entries(session: AsyncSession, wanted: AuditFilter | None = None, *, offset: int = 0,
                       limit: int = 50) -> list[AuditEntry]:
    stmt = _filtered(select(AuditEntry), wanted or AuditFilter())
    stmt = stmt.order_by(AuditEntry.id.desc()).offset(offset).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def count_entries(session: AsyncSession, wanted: AuditFilter | None = None) -> int:
    stmt = _filtered(select(func.count()).select_from(AuditEntry), wanted or AuditFilter())
    return int((await session.execute(stmt)).scalar() or 0)
