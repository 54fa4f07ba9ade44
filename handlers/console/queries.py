"""Jurisdiction-scoped reads for the console's own pages: communities, residents, binding figures.

Every query goes through `authz.restrict`, so what a staff member sees is decided by the database filter, not
by code that might forget a check.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from handlers.console.authz import Scope, restrict, visible_communities
from storage.models import Community, District, Estate, Resident, Street

INACTIVE_AFTER = timedelta(days=90)
STATUSES = {"all": "全部", "bound": "已绑定", "unbound": "未绑定社区", "inactive": "90天无互动",
            "unsubscribed": "已取消关注"}


@dataclass
class CommunityFigures:
    id: int
    name: str
    street: str
    residents: int = 0
    active: int = 0
    households_bound: int = 0
    households: int = 0

    @property
    def binding_rate(self) -> float | None:
        return self.households_bound / self.households * 100 if self.households else None


async def communities(session: AsyncSession, scope: Scope) -> list[tuple[int, str, str]]:
    """(id, name, street name) of every community in the jurisdiction, in tree order."""
    stmt = (select(Community.id, Community.name, Street.name).join(Street, Street.id == Community.street_id)
            .where(Community.id.in_(visible_communities(scope))).order_by(Street.id, Community.id))
    return [tuple(r) for r in (await session.execute(stmt)).all()]


async def community_figures(session: AsyncSession, scope: Scope, now: datetime) -> list[CommunityFigures]:
    """Residents, active residents (30 days), bound households and households per community."""
    rows = {cid: CommunityFigures(cid, name, street) for cid, name, street in await communities(session, scope)}
    recent = now - timedelta(days=30)
    active = func.count(case((Resident.last_message_at >= recent, 1)))
    stmt = restrict(select(Resident.community_id, func.count(), active).where(Resident.subscribed.is_(True))
                    .group_by(Resident.community_id), scope, Resident.community_id)
    for cid, total, act in (await session.execute(stmt)).all():
        if cid in rows:
            rows[cid].residents, rows[cid].active = total, act
    rooms = restrict(select(Resident.community_id, Resident.estate_id, Resident.building, Resident.room)
                     .where(Resident.room.is_not(None)).distinct(), scope, Resident.community_id).subquery()
    stmt = select(rooms.c.community_id, func.count()).group_by(rooms.c.community_id)
    for cid, count in (await session.execute(stmt)).all():
        if cid in rows:
            rows[cid].households_bound = count
    stmt = restrict(select(Estate.community_id, func.sum(Estate.households)).group_by(Estate.community_id),
                    scope, Estate.community_id)
    for cid, households in (await session.execute(stmt)).all():
        if cid in rows:
            rows[cid].households = int(households or 0)
    return list(rows.values())


async def bindings_since(session: AsyncSession, scope: Scope, since: datetime) -> list[tuple[int, datetime]]:
    """(community id, bound_at) of every binding since `since` inside the jurisdiction."""
    stmt = restrict(select(Resident.community_id, Resident.bound_at).where(Resident.bound_at >= since), scope,
                    Resident.community_id)
    return [tuple(r) for r in (await session.execute(stmt)).all()]


def _status_filter(stmt, status: str, now: datetime):
    if status == "bound":
        return stmt.where(Resident.community_id.is_not(None))
    if status == "unbound":
        return stmt.where(Resident.community_id.is_(None))
    if status == "unsubscribed":
        return stmt.where(Resident.subscribed.is_(False))
    if status == "inactive":
        seen = func.coalesce(Resident.last_message_at, Resident.followed_at, Resident.created_at)
        return stmt.where(seen < now - INACTIVE_AFTER)
    return stmt


def _text_filter(stmt, q: str):
    if not q:
        return stmt
    like = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return stmt.where(or_(Resident.building == q, Resident.room == q, Resident.ref.startswith(q, autoescape=True),
                          Estate.name.like(f"%{like}%", escape="\\")))


async def search_residents(session: AsyncSession, scope: Scope, *, now: datetime, community_id: int | None = None,
                           status: str = "all", q: str = "", offset: int = 0, limit: int = 50):
    """(rows of (Resident, community name, estate name), total) matching the filters, newest first."""
    base = (select(Resident, Community.name, Estate.name)
            .outerjoin(Community, Community.id == Resident.community_id)
            .outerjoin(Estate, Estate.id == Resident.estate_id))
    base = restrict(base, scope, Resident.community_id)
    if community_id is not None:
        base = base.where(Resident.community_id == community_id)
    base = _text_filter(_status_filter(base, status, now), q)
    total = (await session.execute(select(func.count()).select_from(base.subquery()))).scalar() or 0
    rows = (await session.execute(base.order_by(Resident.id.desc()).offset(offset).limit(limit))).all()
    return [tuple(r) for r in rows], int(total)


async def resident_in_scope(session: AsyncSession, scope: Scope, resident_id: int):
    """(Resident, community name, estate name) if the resident exists inside the jurisdiction, else None."""
    stmt = (select(Resident, Community.name, Estate.name).outerjoin(Community, Community.id == Resident.community_id)
            .outerjoin(Estate, Estate.id == Resident.estate_id).where(Resident.id == resident_id))
    row = (await session.execute(restrict(stmt, scope, Resident.community_id))).first()
    return tuple(row) if row else None


def unbind(resident: Resident) -> None:
    """Clear the resident's community and home (they can bind again from the chat)."""
    resident.community_id = resident.estate_id = None
    resident.building = resident.room = None
    resident.role = None
    resident.bound_at = None


async def org_tree(session: AsyncSession, scope: Scope):
    """Districts → streets → communities → estates inside the jurisdiction, as nested lists of rows."""
    visible = visible_communities(scope)
    comms = (await session.execute(select(Community).where(Community.id.in_(visible))
                                   .order_by(Community.id))).scalars().all()
    street_ids = {c.street_id for c in comms}
    streets = (await session.execute(select(Street).where(Street.id.in_(street_ids))
                                     .order_by(Street.id))).scalars().all() if street_ids else []
    district_ids = {s.district_id for s in streets}
    districts = (await session.execute(select(District).where(District.id.in_(district_ids))
                                       .order_by(District.id))).scalars().all() if district_ids else []
    estates = (await session.execute(select(Estate).where(Estate.community_id.in_(visible)).order_by(Estate.id)
                                      .options(selectinload(Estate.property_company),
                                               selectinload(Estate.developer)))).scalars().all()
    by_comm: dict[int, list[Estate]] = {}
    for e in estates:
        by_comm.setdefault(e.community_id, []).append(e)
    return [(d, [(s, [(c, by_comm.get(c.id, [])) for c in comms if c.street_id == s.id])
                 for s in streets if s.district_id == d.id]) for d in districts]

