"""A database outage between sending a batch and recording its outcomes (a PostgreSQL restart) costs a wait,
never a second copy of a message: the outcomes are written once the database answers again, within the lease.
The residents' customer-service windows are open, so messages go out as 客服 messages, which WeChat does not
deduplicate (template messages carry a client_msg_id that would hide a resend)."""
from __future__ import annotations

import contextlib
from collections import Counter
from datetime import timedelta

from sqlalchemy.exc import OperationalError

from bot.context import Services
from bot.delivery.config import DeliveryConfig
from bot.delivery.sender import Sender
from storage.db import Database


class DatabaseThatGoesAway(Database):
    """A real database that refuses `failures` transactions once `after()` becomes true (the outage)."""

    def __init__(self, url: str, after, failures: int):
        super().__init__(url)
        self.after, self.failures, self.refused = after, failures, 0

    @contextlib.asynccontextmanager
    async def transaction(self):
        if self.refused < self.failures and self.after():
            self.refused += 1
            raise OperationalError("BEGIN", (), ConnectionRefusedError("the database is restarting"))
        async with super().transaction() as session:
            yield session


def _sender(world, db: Database, **extra) -> Sender:
    settings = world.services.settings.with_env({"LINLI_DELIVERY_LANES": "1", **extra})
    return Sender(Services(settings=settings, db=db, clock=world.services.clock), DeliveryConfig.from_settings(settings))


async def test_outcomes_are_recorded_after_the_outage_and_nothing_is_sent_twice(world):
    await world.seed(30, window_age=timedelta(hours=1))
    bid = await world.broadcast()
    db = DatabaseThatGoesAway(world.services.settings.database_url, after=lambda: bool(world.delivered()), failures=4)
    sender = _sender(world, db)
    try:
        await sender.run(until_idle=True)
    finally:
        await sender.close()
        await db.dispose()
    assert db.refused == 4  # the outage happened, right after the first batch went out
    per_resident = Counter(d.openid for d in world.delivered())
    assert {d.kind for d in world.delivered()} == {"custom"}
    assert len(per_resident) == 30 and set(per_resident.values()) == {1}
    counts = (await world.report(bid))["counts"]
    assert counts.get("sent") == 30 and not counts.get("sending")


async def test_an_outage_longer_than_the_lease_gives_the_batch_back(world):
    await world.seed(10, window_age=timedelta(hours=1))
    bid = await world.broadcast()
    db = DatabaseThatGoesAway(world.services.settings.database_url, after=lambda: bool(world.delivered()),
                              failures=8)  # 0.1 + 0.2 + 0.4 + 0.8 s of retries outlast a 1-second lease
    sender = _sender(world, db, LINLI_DELIVERY_LEASE_SECONDS="1")
    try:
        await sender.run(until_idle=True)
    finally:
        await sender.close()
        await db.dispose()
    # the lane gave up on that batch; after its lease it was claimed again: at least once, never lost
    counts = (await world.report(bid))["counts"]
    assert counts.get("sent") == 10 and not counts.get("sending")
    assert set(Counter(d.openid for d in world.delivered()).values()) <= {1, 2}


async def test_an_outage_in_the_middle_of_a_rate_limited_batch_sends_nothing_twice(world):
    """The shared rate limit draws its tokens from the database: when that fails half-way through a batch, the
    messages already sent are recorded and the rest go back to the queue (the PostgreSQL-restart drill once
    sent 14 customer-service messages twice: the whole batch was abandoned and claimed again after its lease)."""
    await world.seed(30, window_age=timedelta(hours=1))
    bid = await world.broadcast()
    db = DatabaseThatGoesAway(world.services.settings.database_url, after=lambda: len(world.delivered()) >= 5,
                              failures=3)
    sender = _sender(world, db, LINLI_DELIVERY_RATE="20", LINLI_DELIVERY_LEASE_SECONDS="2")
    try:
        await sender.run(until_idle=True)
    finally:
        await sender.close()
        await db.dispose()
    assert db.refused == 3
    per_resident = Counter(d.openid for d in world.delivered())
    assert len(per_resident) == 30 and set(per_resident.values()) == {1}
    counts = (await world.report(bid))["counts"]
    assert counts.get("sent") == 30 and not counts.get("sending")
