"""Casting ballots: which open motions and rooms a resident may vote for (rooms of the owners they are verified
as, or proxy of), a chat ballot for each of those rooms, and a paper ballot entered by staff with its collector.

One ballot per room (storage.repositories.owners.cast): the first confirmed ballot holds the room; the same voter
may change it before the close (audited in owner_ballot_events); a co-owner or a paper ballot coming second is
told the room has voted.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict, Invalid, NotFound
from handlers.owners import motions, rules
from handlers.owners.verify import place
from storage.models import Resident
from storage.owner_models import Motion, OwnerLink, RosterRoom
from storage.repositories import owners as repo


@dataclass(frozen=True)
class RoomChoice:
    room: RosterRoom
    link: OwnerLink

    @property
    def label(self) -> str:
        return f"{place(self.room)}（{rules.area_text(Decimal(self.room.area_cents) / 100)} 平方米）"


async def open_motions_for(session: AsyncSession, resident: Resident, now: datetime) -> list[Motion]:
    """Open motions of the estates where the resident holds a verified link (as owner or proxy)."""
    found = []
    estates = {link_estate for link_estate in await _link_estates(session, resident)}
    for motion in await repo.motions(session, estate_ids=sorted(estates), statuses=["scheduled", "open"]):
        if motions.is_open(motion, now) and await rooms_for(session, motion, resident):
            found.append(motion)
    return sorted(found, key=lambda m: m.closes_at)


async def _link_estates(session: AsyncSession, resident: Resident) -> set[int]:
    from storage.owner_models import RosterOwner

    out = set()
    for link in await repo.links_of(session, resident.id):
        if link.status == "verified":
            owner = await session.get(RosterOwner, link.owner_id)
            if owner is not None:
                out.add(owner.estate_id)
    return out


async def rooms_for(session: AsyncSession, motion: Motion, resident: Resident) -> list[RoomChoice]:
    return [RoomChoice(room, link) for room, link in
            await repo.votable_rooms(session, resident.id, motion.estate_id, motion.buildings)]


@dataclass(frozen=True)
class RoomOutcome:
    label: str
    outcome: str  # new / changed / same / taken


async def cast_chat(session: AsyncSession, motion: Motion, resident: Resident, choice: str,
                    now: datetime) -> list[RoomOutcome]:
    if not motions.valid_choice(motion, choice):
        raise Invalid("表决意见无效")
    if not motions.is_open(motion, now):
        raise Conflict(f"「{motion.title}」不在表决时间内（{motions.local(motion.opens_at)} 至 "
                       f"{motions.local(motion.closes_at)}）")
    out = []
    for rc in await rooms_for(session, motion, resident):
        cast = await repo.cast(session, motion, rc.room.id, choice, channel="chat", resident=resident,
                               proxy=rc.link.method == "proxy", now=now)
        out.append(RoomOutcome(rc.label, cast.outcome))
    return out


async def cast_paper(session: AsyncSession, motion: Motion, room_id: int, choice: str, *, collector: str,
                     staff: str, proxy: bool, now: datetime) -> repo.Cast:
    collector = (collector or "").strip()
    if not motions.valid_choice(motion, choice):
        raise Invalid("表决意见无效（一般事项：yes / no / abstain；选举：c:候选人序号（从 0 起，逗号分隔，不超过应选名额）"
                      "或 abstain）", errors={"choice": "无效"})
    if not collector or len(collector) > 64:
        raise Invalid("请填写收票人姓名（最多 64 字）", errors={"collector": "必填"})
    if not motions.is_open(motion, now):
        raise Conflict("表决不在进行中，不能录入纸质表决票")
    room = await session.get(RosterRoom, room_id)
    if room is None or room.estate_id != motion.estate_id or (motion.buildings and room.building not in
                                                              motion.buildings):
        raise NotFound("该房屋不在本次表决的范围内")
    return await repo.cast(session, motion, room_id, choice, channel="paper", collector=collector,
                           entered_by=staff[:64], proxy=proxy, now=now)
