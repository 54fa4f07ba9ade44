"""Fixtures for the delivery engine: a migrated database (SQLite and PostgreSQL), the sandbox, seeded residents."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.context import Services
from bot.delivery import Content, Scope, create_broadcast
from bot.delivery.config import DeliveryConfig
from bot.delivery.progress import report
from bot.delivery.sender import Sender
from bot.sandbox.hub import SANDBOX
from storage.db import Database
from storage.delivery_models import CsWindow, Delivery
from storage.models import Community, Estate, Resident, ResidentRole, Street
from storage.repositories.org import load_demo
from tests.support import ready_staff

EXTRA = {
    "LINLI_DELIVERY_RATE": "0",
    "LINLI_DELIVERY_RETRY_BASE": "0.02",
    "LINLI_DELIVERY_RETRY_MAX": "0.1",
    "LINLI_DELIVERY_POLL": "0.05",
    "LINLI_DELIVERY_LEASE_SECONDS": "5",
    "LINLI_DELIVERY_LANES": "2",
    "LINLI_DELIVERY_BATCH": "20",
    "LINLI_DELIVERY_TEMPLATE_NOTICE": "TPL_NOTICE",
    "LINLI_DELIVERY_TEMPLATE_TICKET": "TPL_TICKET",
    "LINLI_DELIVERY_SUBSCRIBE_SURVEY": "SUB_SURVEY",
    "LINLI_DELIVERY_TEMPLATE_SURVEY": "TPL_SURVEY",
    "LINLI_WECHAT_RETRY_ATTEMPTS": "1",
}


@dataclass
class World:
    services: Services
    sandbox: object
    org: dict = field(default_factory=dict)

    @property
    def db(self) -> Database:
        return self.services.db

    @property
    def sb(self):
        return self.sandbox.app[SANDBOX]

    async def seed(self, n: int, *, estate: str = "HX-YYL-YJ-01", role: str = "owner", prefix: str = "o_r",
                   window_age: timedelta | None = None, window_used: int = 0, followed: bool = True,
                   in_sandbox: bool = True) -> list[int]:
        now = datetime.now(timezone.utc)
        estate_row = self.org["estates"][estate]
        residents = [Resident(openid=f"{prefix}{i:05d}", community_id=estate_row.community_id,
                              estate_id=estate_row.id, role=ResidentRole(role), subscribed=True, created_at=now)
                     for i in range(n)]
        async with self.db.transaction() as session:
            session.add_all(residents)
            await session.flush()
            if window_age is not None:
                session.add_all(CsWindow(resident_id=r.id, opened_at=now - window_age, used=window_used)
                                for r in residents)
        for r in residents:
            if not in_sandbox:
                continue
            user = self.sb.state.ensure_user(r.openid)
            user.followed = followed
            if window_age is not None:
                user.window.interact("message", now.timestamp() - window_age.total_seconds())
                user.window.grants["message"].used = window_used
        return [r.id for r in residents]

    async def broadcast(self, category: str = "notice", scope: Scope | None = None, **kw) -> int:
        content = kw.pop("content", None) or Content("三号楼电梯更换方案公示，请查看。", title="电梯更换公示",
                                                    summary="三号楼电梯更换")
        async with self.db.transaction() as session:
            b = await create_broadcast(session, category=category, scope=scope or Scope(), content=content,
                                       created_by="test", **kw)
            return b.id

    def sender(self, **extra) -> Sender:
        settings = self.services.settings
        if extra:
            settings = settings.with_env(extra)
        return Sender(Services(settings=settings, db=self.db, clock=self.services.clock),
                      DeliveryConfig.from_settings(settings))

    async def run(self, **extra):
        sender = self.sender(**extra)
        try:
            return await sender.run(until_idle=True)
        finally:
            await sender.close()

    async def report(self, broadcast_id: int) -> dict:
        async with self.db.transaction() as session:
            return await report(session, broadcast_id, datetime.now(timezone.utc))

    async def rows(self, broadcast_id: int) -> list[Delivery]:
        async with self.db.transaction() as session:
            return list(await session.scalars(select(Delivery).where(Delivery.broadcast_id == broadcast_id)
                                              .order_by(Delivery.id)))

    def delivered(self, kind: str | None = None) -> list:
        return [d for d in self.sb.state.deliveries if kind is None or d.kind == kind]


@pytest.fixture
def dsettings(settings):
    return settings.with_env(EXTRA)


@pytest.fixture
async def world(dsettings, sandbox):
    services = Services(settings=dsettings, db=Database(dsettings.database_url))
    async with services.db.transaction() as session:
        await load_demo(session)
        await ready_staff(session)
    async with services.db.transaction() as session:
        org = {
            "estates": {e.code: e for e in await session.scalars(select(Estate))},
            "communities": {c.code: c for c in await session.scalars(select(Community))},
            "streets": {s.code: s for s in await session.scalars(select(Street))},
        }
    yield World(services, sandbox, org)
    await services.db.dispose()
