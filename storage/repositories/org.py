"""Reads of the jurisdiction tree (区县 → 街道 → 社区 → 小区) for the bot, and loading the demo organisation.

Lists come in id order, which is the order the import file declared them in. The registration dialog's steps read
only ids and names: those reads are prepared Core statements (`choices`, `community_path`), run for a message
without building or loading ORM objects.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import yaml
from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Community, District, Estate, Staff, Street
from storage.orgimport import ImportSummary, import_org_file
from storage.prepared import Prepared

T = TypeVar("T", bound=tuple[Any, ...])

DEMO_FILE = Path(__file__).resolve().parent.parent / "demo" / "demo.yaml"


async def list_districts(session: AsyncSession) -> list[District]:
    return list((await session.execute(select(District).order_by(District.id))).scalars())


async def list_streets(session: AsyncSession, district_id: int) -> list[Street]:
    stmt = select(Street).where(Street.district_id == district_id).order_by(Street.id)
    return list((await session.execute(stmt)).scalars())


async def list_communities(session: AsyncSession, street_id: int) -> list[Community]:
    stmt = select(Community).where(Community.street_id == street_id).order_by(Community.id)
    return list((await session.execute(stmt)).scalars())


async def list_estates(session: AsyncSession, community_id: int) -> list[Estate]:
    stmt = select(Estate).where(Estate.community_id == community_id).order_by(Estate.id)
    return list((await session.execute(stmt)).scalars())


class Choice(NamedTuple):
    """A node of the tree as a dialog offers it: its id and name."""

    id: int
    name: str


_D, _S, _C, _E = District.__table__, Street.__table__, Community.__table__, Estate.__table__
_CHOICES = {
    "district": Prepared(lambda dialect: select(_D.c.id, _D.c.name).order_by(_D.c.id)),
    "street": Prepared(lambda dialect: select(_S.c.id, _S.c.name).where(_S.c.district_id == bindparam("parent"))
                       .order_by(_S.c.id)),
    "community": Prepared(lambda dialect: select(_C.c.id, _C.c.name).where(_C.c.street_id == bindparam("parent"))
                          .order_by(_C.c.id)),
    "estate": Prepared(lambda dialect: select(_E.c.id, _E.c.name).where(_E.c.community_id == bindparam("parent"))
                       .order_by(_E.c.id)),
}
_PATH = Prepared(lambda dialect: (
    select(_D.c.name, _S.c.name, _C.c.name)
    .select_from(_C.join(_S, _S.c.id == _C.c.street_id).join(_D, _D.c.id == _S.c.district_id))
    .where(_C.c.id == bindparam("community_id"))
))


async def choices(session: AsyncSession, level: str, parent_id: int | None = None) -> list[Choice]:
    """The districts (`level` "district"), or the streets / communities / estates under `parent_id`, as
    `list_districts` … `list_estates` order them."""
    rows = (await _CHOICES[level].run(session, **({} if level == "district" else {"parent": parent_id}))).rows
    return [Choice(*row) for row in rows]


async def community_path(session: AsyncSession, community_id: int) -> str | None:
    """「district street community」, the names a resident confirms; None for an unknown community."""
    row = (await _PATH.run(session, community_id=community_id)).first()
    return None if row is None else " ".join(row)


def communities_under(stmt: Select[T], level: str, node: int) -> Select[T]:
    """`stmt` (a SELECT over communities) limited to those under one node: a community itself, a street's, or a
    district's (any other level is taken as a district)."""
    if level == "community":
        return stmt.where(Community.id == node)
    if level == "street":
        return stmt.where(Community.street_id == node)
    return stmt.join(Street, Street.id == Community.street_id).where(Street.district_id == node)


def _community_with_parents():
    return select(Community).options(selectinload(Community.street).selectinload(Street.district))


async def community_by_code(session: AsyncSession, code: str) -> Community | None:
    """The community with `code` (case-insensitive: codes are stored upper-case), street and district loaded."""
    code = (code or "").strip().upper()
    if not code:
        return None
    stmt = _community_with_parents().where(Community.code == code)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_community(session: AsyncSession, community_id: int) -> Community | None:
    """The community with its street and district loaded."""
    stmt = _community_with_parents().where(Community.id == community_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_estate(session: AsyncSession, estate_id: int) -> Estate | None:
    """The estate with its community, property-service company and developer loaded."""
    stmt = (
        select(Estate)
        .where(Estate.id == estate_id)
        .options(selectinload(Estate.community), selectinload(Estate.property_company),
                 selectinload(Estate.developer))
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def load_demo(session: AsyncSession) -> ImportSummary:
    """Apply storage/demo/demo.yaml in the caller's transaction; loading it again changes nothing. Its accounts'
    password is published: each is marked to be changed at first login (and refused in production)."""
    return await import_org_file(session, DEMO_FILE, demo=True)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    name: str
    level: str  # 管理员 / 区县 / 街道 / 社区
    password: str  # the demo file's published password, never anything else


def demo_passwords() -> dict[str, str]:
    """username → the password storage/demo/demo.yaml publishes for it."""
    data = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8")) or {}
    return {str(s["username"]): str(s["password"]) for s in data.get("staff") or [] if s.get("password")}


async def demo_logins(session: AsyncSession) -> list[DemoLogin]:
    """The demo accounts that still open with the demo file's published password (for the start banner of a
    local trial); an account whose password was changed is left out, so nothing but a published value is shown."""
    from storage.passwords import verify_password

    published = demo_passwords()
    rows = await session.scalars(select(Staff).where(Staff.username.in_(published), Staff.active.is_(True))
                                 .order_by(Staff.id))
    return [DemoLogin(r.username, r.display_name, "承办单位" if r.partner else r.level.label, published[r.username])
            for r in rows
            if verify_password(published[r.username], r.password_hash)]
