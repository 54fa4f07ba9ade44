"""Notices: lookups, the communities a scope covers, what a resident may read, staff lists. Never commits.

`communities` arguments are a SELECT of community ids (the console's jurisdiction) or None for everything.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from sqlalchemy import Select, and_, exists, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.db import affected
from storage.delivery_models import Broadcast, Delivery
from storage.models import ORG_MODELS, Community, Estate, Street
from storage.notice_models import Notice, NoticeTarget, NoticeVersion

LIVE = ("published", "corrected")
T = NoticeTarget


async def get(session: AsyncSession, notice_id: int) -> Notice | None:
    return await session.get(Notice, notice_id, options=[selectinload(Notice.versions)])


async def by_public_id(session: AsyncSession, public_id: str) -> Notice | None:
    query = select(Notice).where(Notice.public_id == public_id).options(selectinload(Notice.versions))
    return (await session.execute(query)).scalar_one_or_none()


async def resolve_targets(session: AsyncSession, level: str, ids: Iterable[int]) -> list[tuple[int, int | None]]:
    """(community id, estate id or None) pairs a scope covers; ValueError naming ids that do not exist."""
    ids = sorted({int(i) for i in ids})
    if level == "all":
        return []
    if not ids:
        raise ValueError("请至少选择一个范围")
    if level == "estate":
        rows = (await session.execute(select(Estate.id, Estate.community_id).where(Estate.id.in_(ids)))).all()
        found = {e for e, _ in rows}
        pairs = [(c, e) for e, c in rows]
    else:
        model = ORG_MODELS.get(level)
        if model is None:
            raise ValueError("范围层级应为 estate / community / street / district / all 之一")
        found = set(await session.scalars(select(model.id).where(model.id.in_(ids))))
        query = {"community": select(Community.id).where(Community.id.in_(ids)),
                 "street": select(Community.id).where(Community.street_id.in_(ids)),
                 "district": select(Community.id).join(Street, Street.id == Community.street_id)
                 .where(Street.district_id.in_(ids))}[level]
        pairs = [(c, None) for c in await session.scalars(query)]
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise ValueError("找不到这些范围编号：" + "、".join(missing))
    return sorted(set(pairs), key=lambda p: (p[0], p[1] or 0))


async def set_targets(session: AsyncSession, notice: Notice, pairs: list[tuple[int, int | None]]) -> None:
    await session.execute(T.__table__.delete().where(T.notice_id == notice.id))
    session.add_all(NoticeTarget(notice_id=notice.id, community_id=c, estate_id=e) for c, e in pairs)


async def covered_communities(session: AsyncSession, notice_id: int) -> set[int]:
    return set(await session.scalars(select(T.community_id).where(T.notice_id == notice_id).distinct()))


def _reaches(community_id: int, estate_id: int | None):
    return exists().where(T.notice_id == Notice.id, T.community_id == community_id,
                          or_(T.estate_id.is_(None), T.estate_id == estate_id))


async def for_resident(session: AsyncSession, *, community_id: int, estate_id: int | None, role: str | None,
                       category: str | None = None, limit: int = 10) -> list[tuple[Notice, NoticeVersion]]:
    """The latest live notices a resident of this community/estate may read, with their current version."""
    query = (select(Notice, NoticeVersion)
             .join(NoticeVersion, and_(NoticeVersion.notice_id == Notice.id, NoticeVersion.version == Notice.version))
             .where(Notice.state.in_(LIVE), or_(Notice.scope_level == "all", _reaches(community_id, estate_id)))
             .order_by(Notice.published_at.desc(), Notice.id.desc()).limit(limit * 2))
    if category:
        query = query.where(Notice.category == category)
    rows = [(n, v) for n, v in (await session.execute(query)).all() if not n.roles or (role in n.roles)]
    return rows[:limit]


def staff_filter(communities: Select | None):
    """Notices a jurisdiction sees: live ones reaching any of its communities (and city-wide ones); drafts and
    scheduled ones only when every community they reach is inside it."""
    if communities is None:
        return true()
    inside = exists().where(T.notice_id == Notice.id, T.community_id.in_(communities))
    outside = exists().where(T.notice_id == Notice.id, T.community_id.not_in(communities))
    live = and_(Notice.state.in_(LIVE + ("withdrawn",)), or_(Notice.scope_level == "all", inside))
    pending = and_(Notice.state.in_(("draft", "scheduled")), Notice.scope_level != "all", inside, ~outside)
    return or_(live, pending)


async def staff_list(session: AsyncSession, communities: Select | None, *, state: str | None = None,
                     category: str | None = None, limit: int = 50, offset: int = 0
                     ) -> tuple[list[tuple[Notice, NoticeVersion]], int]:
    where = [staff_filter(communities)]
    if state:
        where.append(Notice.state == state)
    if category:
        where.append(Notice.category == category)
    total = await session.scalar(select(func.count(Notice.id)).where(*where))
    query = (select(Notice, NoticeVersion)
             .join(NoticeVersion, and_(NoticeVersion.notice_id == Notice.id, NoticeVersion.version == Notice.version))
             .where(*where).order_by(Notice.updated_at.desc(), Notice.id.desc()).limit(limit).offset(offset))
    return [(n, v) for n, v in (await session.execute(query)).all()], int(total or 0)


async def awaiting_review(session: AsyncSession, communities: Select | None, limit: int = 50
                          ) -> list[tuple[Notice, NoticeVersion]]:
    """Drafts submitted for review (提交审核) inside the jurisdiction, oldest submission first."""
    query = (select(Notice, NoticeVersion)
             .join(NoticeVersion, and_(NoticeVersion.notice_id == Notice.id, NoticeVersion.version == Notice.version))
             .where(staff_filter(communities), Notice.state == "draft", Notice.submitted_at.is_not(None))
             .order_by(Notice.submitted_at, Notice.id).limit(limit))
    return [(n, v) for n, v in (await session.execute(query)).all()]


async def due_scheduled(session: AsyncSession, now: datetime) -> list[int]:
    query = select(Notice.id).where(Notice.state == "scheduled", Notice.publish_at <= now).order_by(Notice.id)
    return list(await session.scalars(query))


def source_prefix(notice_id: int) -> str:
    return f"notice:{notice_id}:"


async def broadcasts_of(session: AsyncSession, notice_id: int) -> list[Broadcast]:
    query = select(Broadcast).where(Broadcast.source.like(source_prefix(notice_id) + "%")).order_by(Broadcast.id)
    return list(await session.scalars(query))


async def recipients_of(session: AsyncSession, notice_id: int) -> list[int]:
    """Residents who were sent any earlier version of the notice (still present: erased ones are NULL)."""
    query = (select(Delivery.resident_id).join(Broadcast, Broadcast.id == Delivery.broadcast_id)
             .where(Broadcast.source.like(source_prefix(notice_id) + "%"), Delivery.status == "sent",
                    Delivery.resident_id.is_not(None)).distinct())
    return sorted(await session.scalars(query))


async def scope_names(session: AsyncSession, level: str, ids: list[int]) -> list[str]:
    model = ORG_MODELS.get(level)
    if model is None or not ids:
        return []
    return list(await session.scalars(select(model.name).where(model.id.in_(ids)).order_by(model.id)))


async def claim_scheduled(session: AsyncSession, notice_id: int, now: datetime) -> bool:
    """Move a scheduled notice whose time has come to `publishing`, once across processes; whether this call did."""
    claimed = await session.execute(update(Notice).where(
        Notice.id == notice_id, Notice.state == "scheduled", Notice.publish_at <= now).values(state="publishing"))
    return affected(claimed) == 1
