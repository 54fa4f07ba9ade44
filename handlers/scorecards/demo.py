"""Demo history of scorecards (bot/demo.py): 友谊路街道 publishes the quarter's scorecards of the property-service
companies and developers serving its estates, computed by `service.build` from the demo tickets and the closed
survey (so every published figure traces back to its sources) and stored by `publish.create`, as the console's
「公布」 does. Runs after tickets (40) and surveys (60)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.demo import DemoWorld
from handlers.scorecards import periods, publish, service
from handlers.scorecards.config import config_of
from storage.models import Community, Street

GROUPS = {"property": ["composite", "survey", "tickets", "disclosure"], "developer": ["composite", "tickets"]}


async def load(session: AsyncSession, world: DemoWorld) -> None:
    street = await session.scalar(select(Street).where(Street.code == "HX-YYL"))
    if street is None:
        return
    communities = list(await session.scalars(select(Community.id).where(Community.street_id == street.id)))
    when = world.ago(2, 15)
    period = periods.containing(world.ago(12), "quarter")
    for kind, groups in GROUPS.items():
        board = await service.build(session, kind, period, communities, config_of(world.services), when,
                                    detail=True)
        for card in board.cards:
            estate_ids = [r.estate_id for r in card.estates if r.estate_id in board.estates
                          and board.estates[r.estate_id].subject(kind) == card.subject_id]
            if estate_ids:
                await publish.create(session, card, groups, period, street.name, estate_ids, "staff:youyilu",
                                     when + timedelta(minutes=len(estate_ids)))
