"""Jurisdiction: which communities a staff member may see and act on, decided in one place.

- `Scope` is a staff member's level and node ids plus the set of community ids inside their jurisdiction
  (`None` for admins: everything). `load_scope` builds it once per request.
- `can_see_community(scope, community_id)` is a pure check for a single object (e.g. a ticket's community).
- `visible_communities(scope)` is a SQL subquery of community ids and `restrict(stmt, scope, column)` adds the
  jurisdiction filter to any query, so list queries are scoped by the database, never by filtering in Python.

Rows with no community (a resident who has not bound yet) are visible to admins only.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import Select, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Community, Staff, StaffLevel, Street

RANK = {StaffLevel.community: 1, StaffLevel.street: 2, StaffLevel.district: 3, StaffLevel.admin: 4}


@dataclass(frozen=True)
class Scope:
    level: StaffLevel
    district_id: int | None = None
    street_id: int | None = None
    community_id: int | None = None
    community_ids: frozenset[int] | None = None  # None: every community (admins)
    only_community: int | None = None  # a narrowed view (dashboard filtered to one community)

    @classmethod
    def of(cls, staff: Staff, community_ids: frozenset[int] | None = None) -> "Scope":
        return cls(staff.level, staff.district_id, staff.street_id, staff.community_id, community_ids)

    @property
    def is_admin(self) -> bool:
        return self.level is StaffLevel.admin and self.only_community is None

    @property
    def key(self) -> tuple:
        """Hashable identity for caches: two staff with equal keys see exactly the same data."""
        node = {StaffLevel.community: self.community_id, StaffLevel.street: self.street_id,
                StaffLevel.district: self.district_id, StaffLevel.admin: None}[self.level]
        return (self.level.value, node, self.only_community)

    def narrow(self, community_id: int) -> "Scope":
        """The same staff looking at one of their communities; raises PermissionError outside the scope."""
        if not can_see_community(self, community_id):
            raise PermissionError(community_id)
        return replace(self, only_community=community_id, community_ids=frozenset({community_id}))


def at_least(level: StaffLevel, minimum: StaffLevel | None) -> bool:
    """True when `level` ranks at or above `minimum` (community < street < district < admin)."""
    return minimum is None or RANK[level] >= RANK[minimum]


def can_see_community(scope: Scope, community_id: int | None) -> bool:
    """Whether `scope` may see and act on community `community_id` (None: an unbound row, admins only)."""
    if community_id is None:
        return scope.is_admin
    if scope.only_community is not None:
        return community_id == scope.only_community
    return scope.community_ids is None or community_id in scope.community_ids


def visible_communities(scope: Scope | Staff) -> Select:
    """SELECT of the ids of every community inside the jurisdiction (use with `.in_()`)."""
    scope = _as_scope(scope)
    ids = select(Community.id)
    if scope.only_community is not None:
        return ids.where(Community.id == scope.only_community)
    if scope.level is StaffLevel.admin:
        return ids
    if scope.level is StaffLevel.community and scope.community_id is not None:
        return ids.where(Community.id == scope.community_id)
    if scope.level is StaffLevel.street and scope.street_id is not None:
        return ids.where(Community.street_id == scope.street_id)
    if scope.level is StaffLevel.district and scope.district_id is not None:
        return ids.join(Street, Street.id == Community.street_id).where(Street.district_id == scope.district_id)
    return ids.where(false())  # a non-admin account without its node sees nothing


def restrict(stmt: Select, scope: Scope | Staff, community_column) -> Select:
    """`stmt` limited to rows whose `community_column` lies inside the jurisdiction."""
    scope = _as_scope(scope)
    if scope.is_admin:
        return stmt
    if scope.only_community is not None:
        return stmt.where(community_column == scope.only_community)
    if scope.level is StaffLevel.community:
        return stmt.where(community_column == scope.community_id) if scope.community_id else stmt.where(false())
    return stmt.where(community_column.in_(visible_communities(scope)))


async def load_scope(session: AsyncSession, staff: Staff) -> Scope:
    """The staff member's scope with the community ids of their jurisdiction resolved."""
    if staff.level is StaffLevel.admin:
        return Scope.of(staff, None)
    ids = frozenset((await session.execute(visible_communities(staff))).scalars())
    return Scope.of(staff, ids)


def _as_scope(value: Scope | Staff) -> Scope:
    return value if isinstance(value, Scope) else Scope.of(value, None if value.level is StaffLevel.admin else
                                                           frozenset())
