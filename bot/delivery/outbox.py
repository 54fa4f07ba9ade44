"""The outbox: how features hand messages to the delivery engine, and the broadcast's life cycle.

Public API for features (call it inside your own unit of work, so the broadcast commits with your change):

    from bot.delivery import Content, Scope, create_broadcast

    broadcast = await create_broadcast(
        session, category="notice",                      # notice / meeting / survey / ticket
        scope=Scope("community", [community.id], roles=["owner"]),   # or Scope.of_residents([resident.id])
        content=Content(text="…全文…", title="维修资金使用公示", summary="3号楼电梯更换", link="https://…"),
        created_by="staff:wang", source=f"notice:{notice.id}", send_at=None)   # None = now; or an aware datetime

Nothing is sent in the caller's transaction: a worker (`linli worker`) expands the scope into one delivery row per
resident in batches, chooses each resident's channel, and sends at the configured pace. Statuses of a broadcast:
`scheduled` (waiting for send_at) → `sending` → `done`; `paused` while WeChat's daily quota is used up (it resumes
by itself after the reset); `cancelled`.

Residents named in a scope are stored by their immutable `residents.ref` as well as their id (`scope.refs`), and
expansion addresses them by ref only: a message scheduled for a resident who then erased their data reaches
nobody, never a newer resident (ids are never reused either, see storage/models.py `NEVER_REUSE_IDS`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.channels import Content
from bot.delivery.config import CATEGORIES
from storage.delivery_models import Broadcast
from storage.repositories import broadcasts, deliveries

LEVELS = ("all", "district", "street", "community", "estate")
ROLES = ("owner", "tenant")


@dataclass(frozen=True)
class Scope:
    """Who receives it: a jurisdiction level with ids (`all` needs none), optional roles, or explicit residents."""

    level: str = "all"
    ids: list[int] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    residents: list[int] = field(default_factory=list)
    addressed: bool = False  # to the residents named (none named: nobody), not to a jurisdiction

    @classmethod
    def of_residents(cls, resident_ids: list[int]) -> "Scope":
        return cls("all", residents=list(resident_ids), addressed=True)

    @property
    def explicit(self) -> bool:
        return self.addressed or bool(self.residents)

    def check(self) -> None:
        if self.level not in LEVELS:
            raise ValueError("范围应为 " + " / ".join(LEVELS) + " 之一")
        if self.level != "all" and not self.ids:
            raise ValueError("按辖区发送时须指定至少一个辖区编号")
        if any(r not in ROLES for r in self.roles):
            raise ValueError("身份应为 owner（业主）或 tenant（租户）")

    def as_json(self) -> dict:
        return {"level": self.level, "ids": list(self.ids), "roles": list(self.roles),
                "residents": list(self.residents)}


async def create_broadcast(session: AsyncSession, *, category: str, scope: Scope, content: Content,
                           created_by: str, source: str | None = None, send_at: datetime | None = None,
                           now: datetime | None = None) -> Broadcast:
    """Queue a broadcast (flushed, so `.id` is set). Raises ValueError (Chinese message) on bad input."""
    if category not in CATEGORIES:
        raise ValueError("类别应为 " + " / ".join(CATEGORIES) + " 之一")
    scope.check()
    if not content.text.strip():
        raise ValueError("消息内容不能为空")
    if send_at is not None and send_at.tzinfo is None:
        raise ValueError("send_at 须带时区")
    now = now or datetime.now(timezone.utc)
    due = send_at is None or send_at <= now
    stored = scope.as_json()
    if scope.explicit:
        stored["refs"] = await broadcasts.resident_refs(session, scope.residents)
    return await broadcasts.add(session, Broadcast(
        category=category, source=source, scope=stored, reach=await reach_of(session, scope),
        title=content.title, text=content.text,
        summary=content.summary, link=content.link, created_by=created_by, created_at=now,
        status="sending" if due else "scheduled", send_at=send_at or now, started_at=now if due else None,
        expand_cursor=0, expanded=False))


async def reach_of(session: AsyncSession, scope: Scope) -> list[int] | None:
    """The community ids a scope covers now (sorted); None for the whole city. Residents who are not bound to a
    community reach none (such a broadcast is an admin's)."""
    return await broadcasts.communities_reached(session, scope.level, scope.ids,
                                                scope.residents if scope.explicit else None)


def content_of(broadcast: Broadcast) -> Content:
    return Content(broadcast.text, broadcast.title, broadcast.summary, broadcast.link)


async def retry_failed(session: AsyncSession, broadcast_id: int, now: datetime) -> int:
    """Re-queue the broadcast's failed deliveries; reopens a finished broadcast. Returns how many."""
    count = await deliveries.requeue_failed(session, broadcast_id)
    if count:
        await broadcasts.reopen(session, broadcast_id)
    return count


async def scope_from_codes(session: AsyncSession, level: str, codes: list[str], roles: list[str] | None = None
                           ) -> Scope:
    """A Scope from jurisdiction codes (as in the org files, e.g. community HX-YYL-YJ); ValueError if unknown."""
    if level == "all" or level not in LEVELS:
        return Scope(level, [], list(roles or []))
    found = await broadcasts.ids_for_codes(session, level, codes)
    missing = [c for c in codes if c not in found]
    if missing:
        raise ValueError("找不到这些辖区编码：" + "、".join(missing))
    return Scope(level, [found[c] for c in codes], list(roles or []))
