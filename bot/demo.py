"""Demo history: a month of believable activity on top of the demo organisation (storage/demo/demo.yaml), so the
first `linli chat` and the first console login show what linli does instead of "nothing here yet".

The kernel creates the demo residents (fictitious openids `o_demo_…`, no names, no phone numbers) and then runs
each installed feature's `demo` step (`bot.features.DemoStep`) in its declared order: tickets 40, notices 50,
surveys 60, scorecards 70 (computed from the tickets and the closed survey), broadcasts 80, policy Q&A 900. Every
step writes through its feature's own services, with the timestamps the history needs, so the data is what the
product would have made.

Loading is idempotent: the history is written once, in the caller's transaction; when the first demo resident
already exists nothing is written again. Production refuses demo data before this is reached
(`bot.production.demo_refusal`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Iterable

from sqlalchemy import select

from bot.localtime import LOCAL_TZ
from storage.models import Community, Estate, Resident, ResidentRole, Staff

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.context import Services
    from bot.features import Feature
    from bot.settings import Settings
    from storage.orgimport import ImportSummary

log = logging.getLogger("linli.demo")

MARKER_OPENID = "o_demo_resident_001"
# (estate code, owners, tenants): most residents live in 谊景社区, the community of the README's `linli chat`
RESIDENTS = [("HX-YYL-YJ-01", 9, 2), ("HX-YYL-YJ-02", 6, 1), ("HX-YYL-YJ-03", 4, 1),
             ("HX-YYL-PJ-01", 3, 0), ("HX-MJ-LS-01", 3, 0)]


@dataclass
class DemoWorld:
    """What every feature's demo step gets: the services, the moment of loading, the demo residents by estate code
    and the organisation's ids by code."""

    services: "Services"
    now: datetime
    residents: dict[str, list[Resident]] = field(default_factory=dict)
    communities: dict[str, int] = field(default_factory=dict)
    estates: dict[str, int] = field(default_factory=dict)

    def ago(self, days: int, hour: int = 10, minute: int = 0) -> datetime:
        """`days` before today at hh:mm Tianjin time (never later than a minute before now)."""
        day = self.now.astimezone(LOCAL_TZ) - timedelta(days=days)
        moment = day.replace(hour=hour, minute=minute, second=0, microsecond=0)
        return min(moment, self.now - timedelta(minutes=1))

    def owners(self, estate_code: str) -> list[Resident]:
        return [r for r in self.residents.get(estate_code, []) if r.role is ResidentRole.owner]

    async def staff(self, session: "AsyncSession", username: str) -> Staff:
        row = await session.scalar(select(Staff).where(Staff.username == username))
        if row is None:
            raise LookupError(f"demo staff account {username} is missing (load storage/demo/demo.yaml first)")
        return row


async def _residents(session: "AsyncSession", world: DemoWorld) -> None:
    n = 0
    for code, owners, tenants in RESIDENTS:
        estate = await session.scalar(select(Estate).where(Estate.code == code))
        if estate is None:
            continue
        rows = []
        for i in range(owners + tenants):
            n += 1
            bound = world.ago(40 - n % 9, 9 + n % 10)
            rows.append(Resident(
                openid=f"o_demo_resident_{n:03d}", community_id=estate.community_id, estate_id=estate.id,
                building=str(1 + i % 6), room=f"{1 + i % 5}{(i % 3) + 1:02d}",
                role=ResidentRole.owner if i < owners else ResidentRole.tenant, subscribed=True,
                bound_at=bound, consent_at=bound, followed_at=bound, created_at=bound))
        session.add_all(rows)
        world.residents[code] = rows
    await session.flush()


async def already_loaded(session: "AsyncSession") -> bool:
    return await session.scalar(select(Resident.id).where(Resident.openid == MARKER_OPENID)) is not None


async def load_history(session: "AsyncSession", services: "Services", features: Iterable["Feature"],
                       now: datetime) -> bool:
    """Write the demo history in the caller's transaction; False (nothing written) when it is there already."""
    if await already_loaded(session):
        return False
    world = DemoWorld(services, now)
    world.communities = dict((await session.execute(select(Community.code, Community.id))).tuples().all())
    world.estates = dict((await session.execute(select(Estate.code, Estate.id))).tuples().all())
    await _residents(session, world)
    steps = sorted(((f.demo.order, f.name, f.demo) for f in features if f.demo is not None), key=lambda t: t[:2])
    for _order, name, step in steps:
        await step.load(session, world)
        await session.flush()
        log.info("demo history of %s loaded", name)
    return True


async def load_demo_everything(settings: "Settings", now: datetime | None = None) -> tuple["ImportSummary", bool]:
    """What `linli org demo` does: the demo organisation (storage/demo/demo.yaml) and its month of history in one
    transaction; returns the organisation's import summary and whether the history was written now. The caller
    has checked `bot.production.demo_refusal`."""
    from bot.context import Services
    from bot.features import installed_features
    from storage.db import Database
    from storage.repositories.org import load_demo

    services = Services(settings=settings, db=Database(settings.database_url))
    try:
        async with services.db.transaction() as session:
            summary = await load_demo(session)
            written = await load_history(session, services, installed_features(), now or datetime.now(timezone.utc))
    finally:
        await services.db.dispose()
    return summary, written
