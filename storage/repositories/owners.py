"""Data access for the owners' roster and owners' votes: rooms, owners and holdings, links of residents to owners,
motions and their transitions, ballots and their trail. Takes a session, never commits.

One ballot per room is the database's: `owner_ballots` is unique on (motion, room) and a ballot is inserted with
INSERT … ON CONFLICT DO NOTHING, so of two concurrent first ballots exactly one lands; the other learns who holds
the room and becomes a change (same voter, or a paper ballot corrected by staff) or a refusal. Motion transitions
are conditional UPDATEs guarded by the old status, so a repeated or concurrent sweep does each once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import affected
from storage.models import Estate, Resident, Staff
from storage.owner_models import (
    Motion,
    MotionAttachment,
    MotionRoom,
    OwnerBallot,
    OwnerBallotEvent,
    OwnerEvidence,
    OwnerLink,
    RosterHolding,
    RosterOwner,
    RosterRoom,
)

IN_CHUNK = 500


# ----- roster ----------------------------------------------------------------------------------------------------

async def estates_by_code(session: AsyncSession, codes: Iterable[str]) -> dict[str, Estate]:
    codes = sorted(set(codes))
    found: dict[str, Estate] = {}
    for i in range(0, len(codes), IN_CHUNK):
        for estate in await session.scalars(select(Estate).where(Estate.code.in_(codes[i:i + IN_CHUNK]))):
            found[estate.code] = estate
    return found


async def rooms_of(session: AsyncSession, estate_id: int) -> list[RosterRoom]:
    return list(await session.scalars(select(RosterRoom).where(RosterRoom.estate_id == estate_id)
                                      .order_by(RosterRoom.building, RosterRoom.unit, RosterRoom.room)))


async def owners_of(session: AsyncSession, estate_id: int) -> list[RosterOwner]:
    return list(await session.scalars(select(RosterOwner).where(RosterOwner.estate_id == estate_id)
                                      .order_by(RosterOwner.id)))


async def holdings_of(session: AsyncSession, estate_id: int) -> list[tuple[int, int]]:
    """(room id, owner id) of every holding in the estate."""
    rows = await session.execute(select(RosterHolding.room_id, RosterHolding.owner_id)
                                 .join(RosterRoom, RosterRoom.id == RosterHolding.room_id)
                                 .where(RosterRoom.estate_id == estate_id))
    return [(r, o) for r, o in rows.all()]


async def owner_ids_of_room(session: AsyncSession, room_id: int) -> list[int]:
    return list(await session.scalars(select(RosterHolding.owner_id).where(RosterHolding.room_id == room_id)))


async def set_holdings(session: AsyncSession, room_id: int, owner_ids: Sequence[int]) -> bool:
    """Make `owner_ids` the room's owners; True when anything changed."""
    current = set(await session.scalars(select(RosterHolding.owner_id).where(RosterHolding.room_id == room_id)))
    wanted = set(owner_ids)
    if current == wanted:
        return False
    if current - wanted:
        await session.execute(delete(RosterHolding).where(RosterHolding.room_id == room_id,
                                                          RosterHolding.owner_id.in_(current - wanted)))
    for owner_id in sorted(wanted - current):
        session.add(RosterHolding(room_id=room_id, owner_id=owner_id))
    await session.flush()
    return True


async def ballot_statuses_of_room(session: AsyncSession, room_id: int) -> list[str]:
    """The statuses of the motions holding a ballot of this room."""
    return sorted(set(await session.scalars(select(Motion.status).join(OwnerBallot, OwnerBallot.motion_id == Motion.id)
                                            .where(OwnerBallot.room_id == room_id))))


async def delete_room(session: AsyncSession, room_id: int) -> None:
    await session.execute(delete(RosterHolding).where(RosterHolding.room_id == room_id))
    await session.execute(delete(RosterRoom).where(RosterRoom.id == room_id))


async def delete_attachment(session: AsyncSession, attachment_id: int) -> None:
    await session.execute(delete(MotionAttachment).where(MotionAttachment.id == attachment_id))


async def drop_orphan_owners(session: AsyncSession, estate_id: int) -> int:
    """Delete the estate's owners who hold no room and whom no resident is linked to."""
    held = exists().where(RosterHolding.owner_id == RosterOwner.id)
    linked = exists().where(OwnerLink.owner_id == RosterOwner.id)
    result = await session.execute(delete(RosterOwner).where(RosterOwner.estate_id == estate_id, ~held, ~linked)
                                   .execution_options(synchronize_session=False))
    return affected(result)


@dataclass(frozen=True)
class ShareRow:
    room_id: int
    building: str
    unit: str
    room: str
    area_cents: int
    owner_ids: tuple[int, ...]


async def share_rows(session: AsyncSession, estate_id: int, buildings: Sequence[str] = ()) -> list[ShareRow]:
    """Every room of the estate (or of `buildings`) with its area and owner ids."""
    stmt = select(RosterRoom.id, RosterRoom.building, RosterRoom.unit, RosterRoom.room, RosterRoom.area_cents) \
        .where(RosterRoom.estate_id == estate_id)
    if buildings:
        stmt = stmt.where(RosterRoom.building.in_(list(buildings)))
    rooms = (await session.execute(stmt)).all()
    owners: dict[int, list[int]] = {}
    for room_id, owner_id in await holdings_of(session, estate_id):
        owners.setdefault(room_id, []).append(owner_id)
    return [ShareRow(r[0], r[1], r[2], r[3], r[4], tuple(sorted(owners.get(r[0], ())))) for r in rooms]


async def buildings_of(session: AsyncSession, estate_id: int) -> list[str]:
    return list(await session.scalars(select(RosterRoom.building).where(RosterRoom.estate_id == estate_id)
                                      .distinct()))


# ----- links of residents to owners ------------------------------------------------------------------------------

async def owners_with_phone(session: AsyncSession, estate_id: int, phone: str) -> list[RosterOwner]:
    return list(await session.scalars(select(RosterOwner).where(RosterOwner.estate_id == estate_id,
                                                                RosterOwner.phone == phone)))


async def links_of(session: AsyncSession, resident_id: int) -> list[OwnerLink]:
    return list(await session.scalars(select(OwnerLink).where(OwnerLink.resident_id == resident_id)
                                      .order_by(OwnerLink.id)))


async def link(session: AsyncSession, resident_id: int, owner_id: int) -> OwnerLink | None:
    return await session.scalar(select(OwnerLink).where(OwnerLink.resident_id == resident_id,
                                                        OwnerLink.owner_id == owner_id))


async def verified_links_of(session: AsyncSession, owner_ids: list[int]) -> list[OwnerLink]:
    """The verified links (residents confirmed as these owners or their proxies), oldest first."""
    if not owner_ids:
        return []
    return list(await session.scalars(select(OwnerLink).where(OwnerLink.owner_id.in_(owner_ids),
                                                              OwnerLink.status == "verified")
                                      .order_by(OwnerLink.id)))


async def void_open_chat_ballots(session: AsyncSession, resident_id: int, owner_id: int) -> int:
    """Delete the chat ballots this resident cast for this owner's rooms in motions still open (a verification
    found wrong); how many. Closed motions keep theirs: their result is published."""
    rooms = select(RosterHolding.room_id).where(RosterHolding.owner_id == owner_id)
    still_open = select(Motion.id).where(Motion.status.in_(("scheduled", "open")))  # not yet counted
    found = await session.execute(delete(OwnerBallot).where(
        OwnerBallot.resident_id == resident_id, OwnerBallot.channel == "chat", OwnerBallot.room_id.in_(rooms),
        OwnerBallot.motion_id.in_(still_open)))
    return affected(found)


async def delete_links(session: AsyncSession, resident_id: int) -> None:
    await session.execute(delete(OwnerLink).where(OwnerLink.resident_id == resident_id))


async def delete_unverified_links(session: AsyncSession, resident_id: int, estate_id: int) -> int:
    in_estate = select(RosterOwner.id).where(RosterOwner.estate_id == estate_id)
    result = await session.execute(delete(OwnerLink).where(OwnerLink.resident_id == resident_id,
                                                           OwnerLink.status == "unverified",
                                                           OwnerLink.owner_id.in_(in_estate)))
    return affected(result)


async def pending_links(session: AsyncSession, estate_ids) -> list[tuple[OwnerLink, RosterOwner, Resident]]:
    """Unverified links (waiting for staff approval) of residents in the given estates (a subquery or list)."""
    rows = await session.execute(select(OwnerLink, RosterOwner, Resident)
                                 .join(RosterOwner, RosterOwner.id == OwnerLink.owner_id)
                                 .join(Resident, Resident.id == OwnerLink.resident_id)
                                 .where(OwnerLink.status == "unverified", RosterOwner.estate_id.in_(estate_ids))
                                 .order_by(OwnerLink.id).limit(200))
    return [(a, b, c) for a, b, c in rows.all()]


async def votable_rooms(session: AsyncSession, resident_id: int, estate_id: int,
                        buildings: Sequence[str] = ()) -> list[tuple[RosterRoom, OwnerLink]]:
    """The rooms a resident may vote for in an estate: held by an owner they are verified as (or proxy of)."""
    stmt = (select(RosterRoom, OwnerLink)
            .join(RosterHolding, RosterHolding.room_id == RosterRoom.id)
            .join(OwnerLink, OwnerLink.owner_id == RosterHolding.owner_id)
            .where(OwnerLink.resident_id == resident_id, OwnerLink.status == "verified",
                   RosterRoom.estate_id == estate_id)
            .order_by(RosterRoom.building, RosterRoom.unit, RosterRoom.room, OwnerLink.id))
    if buildings:
        stmt = stmt.where(RosterRoom.building.in_(list(buildings)))
    seen: dict[int, tuple[RosterRoom, OwnerLink]] = {}
    for room, owner_link in (await session.execute(stmt)).all():
        if room.id not in seen or (seen[room.id][1].method == "proxy" and owner_link.method != "proxy"):
            seen[room.id] = (room, owner_link)
    return list(seen.values())


# ----- attachments ----------------------------------------------------------------------------------------------

def add_attachment(session: AsyncSession, motion_id: int, *, purpose: str, name: str, content_type: str, size: int,
                   key: str, uploaded_by: str, now: datetime) -> MotionAttachment:
    row = MotionAttachment(motion_id=motion_id, purpose=purpose, name=name[:120], content_type=content_type,
                           size=size, key=key, uploaded_by=uploaded_by[:64], uploaded_at=now)
    session.add(row)
    return row


async def attachments_of(session: AsyncSession, motion_id: int) -> list[MotionAttachment]:
    return list(await session.scalars(select(MotionAttachment).where(MotionAttachment.motion_id == motion_id)
                                      .order_by(MotionAttachment.id)))


async def attachment(session: AsyncSession, motion_id: int, attachment_id: int) -> MotionAttachment | None:
    found = await session.get(MotionAttachment, attachment_id)
    return found if found is not None and found.motion_id == motion_id else None


async def committee_accounts(session: AsyncSession, estate_id: int) -> list[Staff]:
    """The active owners' committee accounts of an estate (staff.committee_estate_id)."""
    return list(await session.scalars(select(Staff).where(Staff.committee_estate_id == estate_id,
                                                          Staff.active.is_(True)).order_by(Staff.id)))


# ----- motions ---------------------------------------------------------------------------------------------------

async def get_motion(session: AsyncSession, motion_id: int) -> Motion | None:
    return await session.get(Motion, motion_id)


async def motions(session: AsyncSession, *, estate_ids=None, statuses: Sequence[str] = (), limit: int = 100,
                  offset: int = 0) -> list[Motion]:
    stmt = select(Motion).order_by(Motion.id.desc()).limit(limit).offset(offset)
    if estate_ids is not None:
        stmt = stmt.where(Motion.estate_id.in_(estate_ids))
    if statuses:
        stmt = stmt.where(Motion.status.in_(list(statuses)))
    return list(await session.scalars(stmt))


async def set_status(session: AsyncSession, motion_id: int, old: Sequence[str], new: str, **values) -> bool:
    result = await session.execute(update(Motion).where(Motion.id == motion_id, Motion.status.in_(list(old)))
                                   .values(status=new, **values).execution_options(synchronize_session=False))
    return affected(result) == 1


async def due_to_open(session: AsyncSession, now: datetime) -> list[int]:
    return list(await session.scalars(select(Motion.id).where(Motion.status == "scheduled", Motion.opens_at <= now,
                                                              Motion.closes_at > now)))


async def due_to_close(session: AsyncSession, now: datetime) -> list[int]:
    return list(await session.scalars(select(Motion.id).where(Motion.status.in_(["scheduled", "open"]),
                                                              Motion.closes_at <= now)))


async def claim_reminder(session: AsyncSession, motion_id: int, before: datetime, now: datetime) -> bool:
    """Take the motion's next reminder (none sent, or the last before `before`); False when another took it."""
    result = await session.execute(update(Motion).where(
        Motion.id == motion_id, Motion.status == "open",
        or_(Motion.reminded_at.is_(None), Motion.reminded_at < before)).values(reminded_at=now)
        .execution_options(synchronize_session=False))
    return affected(result) == 1


async def freeze_rooms(session: AsyncSession, motion_id: int, rows: Sequence[tuple[int, str, int, str]]) -> None:
    """Store the rooms in scope at the close: (room id, building, area cents, holder key)."""
    await session.execute(delete(MotionRoom).where(MotionRoom.motion_id == motion_id))
    for room_id, building, cents, holder in rows:
        session.add(MotionRoom(motion_id=motion_id, room_id=room_id, building=building, area_cents=cents,
                               holder=holder))
    await session.flush()


async def frozen_rooms(session: AsyncSession, motion_id: int) -> list[MotionRoom]:
    return list(await session.scalars(select(MotionRoom).where(MotionRoom.motion_id == motion_id)))


# ----- ballots ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cast:
    outcome: str  # new / changed / same / taken / closed
    ballot: OwnerBallot | None


def _insert(dialect: str):
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(OwnerBallot)


async def cast(session: AsyncSession, motion: Motion, room_id: int, choice: str, *, channel: str,
               resident: Resident | None = None, proxy: bool = False, collector: str | None = None,
               entered_by: str | None = None, now: datetime) -> Cast:
    """Cast one room's ballot; the first confirmed one holds the room. The same voter (chat), or staff correcting
    a paper ballot (paper), changes it while the motion is open; anyone else is refused (`taken`)."""
    values = dict(motion_id=motion.id, room_id=room_id, choice=choice, channel=channel,
                  resident_id=resident.id if resident else None, voter_ref=resident.ref if resident else None,
                  proxy=proxy, collector=collector, entered_by=entered_by, cast_at=now, updated_at=now)
    stmt = _insert(session.bind.dialect.name).values(**values).on_conflict_do_nothing(
        index_elements=["motion_id", "room_id"]).returning(OwnerBallot.id)
    new_id = (await session.execute(stmt)).scalar_one_or_none()
    actor = resident.ref if resident else entered_by
    if new_id is not None:
        session.add(OwnerBallotEvent(ballot_id=new_id, motion_id=motion.id, event="cast", choice=choice,
                                     actor_ref=actor, at=now))
        await session.flush()
        return Cast("new", await session.get(OwnerBallot, new_id))
    held = await session.scalar(select(OwnerBallot).where(OwnerBallot.motion_id == motion.id,
                                                          OwnerBallot.room_id == room_id)
                                .execution_options(populate_existing=True).with_for_update())
    if held is None:  # cannot happen: the conflict was on this very key
        return Cast("taken", None)
    mine = (held.channel == "chat" and resident is not None and held.voter_ref == resident.ref) or \
           (held.channel == "paper" and channel == "paper")
    if not mine:
        return Cast("taken", held)
    if held.choice == choice and held.collector == (collector if channel == "paper" else held.collector):
        return Cast("same", held)
    held.choice, held.updated_at = choice, now
    if channel == "paper":
        held.collector, held.entered_by = collector, entered_by
    session.add(OwnerBallotEvent(ballot_id=held.id, motion_id=motion.id, event="changed", choice=choice,
                                 actor_ref=actor, at=now))
    await session.flush()
    return Cast("changed", held)


async def ballots_of(session: AsyncSession, motion_id: int) -> list[OwnerBallot]:
    return list(await session.scalars(select(OwnerBallot).where(OwnerBallot.motion_id == motion_id)
                                      .order_by(OwnerBallot.id)))


async def voted_room_ids(session: AsyncSession, motion_id: int) -> list[int]:
    return list(await session.scalars(select(OwnerBallot.room_id).where(OwnerBallot.motion_id == motion_id)))


async def ballot_of_room(session: AsyncSession, motion_id: int, room_id: int) -> OwnerBallot | None:
    return await session.scalar(select(OwnerBallot).where(OwnerBallot.motion_id == motion_id,
                                                          OwnerBallot.room_id == room_id))


async def chat_voter_ids(session: AsyncSession, motion_id: int) -> list[int]:
    """The residents whose chat ballots hold rooms of a motion."""
    return sorted(set(await session.scalars(select(OwnerBallot.resident_id).where(
        OwnerBallot.motion_id == motion_id, OwnerBallot.resident_id.is_not(None)))))


async def ballot_count(session: AsyncSession, motion_id: int) -> int:
    return int(await session.scalar(select(func.count()).select_from(OwnerBallot)
                                    .where(OwnerBallot.motion_id == motion_id)) or 0)


async def events_of(session: AsyncSession, motion_id: int) -> list[OwnerBallotEvent]:
    return list(await session.scalars(select(OwnerBallotEvent).where(OwnerBallotEvent.motion_id == motion_id)
                                      .order_by(OwnerBallotEvent.id)))


async def verified_residents_without_ballot(session: AsyncSession, motion: Motion) -> list[Resident]:
    """Verified owners (and proxies) of rooms in the motion's scope whose rooms have no ballot yet, subscribed."""
    room_filter = [RosterRoom.estate_id == motion.estate_id]
    if motion.buildings:
        room_filter.append(RosterRoom.building.in_(list(motion.buildings)))
    voted = exists().where(OwnerBallot.motion_id == motion.id, OwnerBallot.room_id == RosterRoom.id)
    ids = (select(OwnerLink.resident_id)
           .join(RosterHolding, RosterHolding.owner_id == OwnerLink.owner_id)
           .join(RosterRoom, RosterRoom.id == RosterHolding.room_id)
           .where(OwnerLink.status == "verified", *room_filter, ~voted))
    return list(await session.scalars(select(Resident).where(Resident.id.in_(ids), Resident.subscribed.is_(True))
                                      .order_by(Resident.id)))


async def anonymise_ballots(session: AsyncSession, resident: Resident, fresh_ref: str) -> None:
    """A forgotten resident's ballots keep counting: room, choice and times stay; who cast them does not."""
    theirs = select(OwnerBallot.id).where(or_(OwnerBallot.resident_id == resident.id,
                                              OwnerBallot.voter_ref == resident.ref))
    await session.execute(update(OwnerBallotEvent).where(OwnerBallotEvent.ballot_id.in_(theirs),
                                                         OwnerBallotEvent.actor_ref == resident.ref)
                          .values(actor_ref=fresh_ref).execution_options(synchronize_session=False))
    await session.execute(update(OwnerBallot).where(or_(OwnerBallot.resident_id == resident.id,
                                                        OwnerBallot.voter_ref == resident.ref))
                          .values(resident_id=None, voter_ref=fresh_ref)
                          .execution_options(synchronize_session=False))


# ----- evidence photos (staff verification) ----------------------------------------------------------------------

def add_evidence(session: AsyncSession, resident_id: int, estate_id: int, media_id: str,
                 now: datetime) -> OwnerEvidence:
    row = OwnerEvidence(resident_id=resident_id, estate_id=estate_id, media_id=media_id[:128], status="pending",
                        size=0, attempts=0, next_try_at=now, received_at=now)
    session.add(row)
    return row


async def evidence_of(session: AsyncSession, resident_id: int) -> list[OwnerEvidence]:
    return list(await session.scalars(select(OwnerEvidence).where(OwnerEvidence.resident_id == resident_id,
                                                                  OwnerEvidence.status != "discard")
                                      .order_by(OwnerEvidence.id)))


async def evidence_due(session: AsyncSession, now: datetime, limit: int = 50) -> list[OwnerEvidence]:
    return list(await session.scalars(select(OwnerEvidence).where(
        OwnerEvidence.status == "pending", OwnerEvidence.next_try_at <= now, OwnerEvidence.media_id.is_not(None))
        .order_by(OwnerEvidence.next_try_at, OwnerEvidence.id).limit(limit)))


async def claim_evidence(session: AsyncSession, row_id: int, attempts: int, lease_until: datetime) -> bool:
    """Take a pending download (no other sweep takes it until `lease_until`); False when someone else has."""
    result = await session.execute(update(OwnerEvidence).where(
        OwnerEvidence.id == row_id, OwnerEvidence.status == "pending", OwnerEvidence.attempts == attempts)
        .values(attempts=attempts + 1, next_try_at=lease_until).execution_options(synchronize_session=False))
    return affected(result) == 1


async def evidence_stored(session: AsyncSession, row_id: int, key: str, content_type: str, size: int) -> bool:
    """Record a downloaded photo; False when it was discarded meanwhile (the caller deletes the object)."""
    result = await session.execute(update(OwnerEvidence).where(OwnerEvidence.id == row_id,
                                                               OwnerEvidence.status == "pending")
                                   .values(status="stored", key=key, content_type=content_type, size=size,
                                           media_id=None, next_try_at=None, last_error=None)
                                   .execution_options(synchronize_session=False))
    return affected(result) == 1


async def evidence_retry(session: AsyncSession, row_id: int, error: str, at: datetime | None) -> None:
    """Try again at `at`, or (None) give up: the row is `failed`, kept only until the cleanup."""
    await session.execute(update(OwnerEvidence).where(OwnerEvidence.id == row_id,
                                                      OwnerEvidence.status == "pending")
                          .values(status="pending" if at else "failed", next_try_at=at, last_error=error[:200],
                                  media_id=OwnerEvidence.media_id if at else None)
                          .execution_options(synchronize_session=False))


async def discard_evidence(session: AsyncSession, *, resident_id: int | None = None,
                           received_before: datetime | None = None) -> int:
    """Mark a resident's photos (or all received before a time) to be deleted: the sweep deletes each object,
    then the row. Nothing of the resident stays on them meanwhile."""
    stmt = update(OwnerEvidence).where(OwnerEvidence.status != "discard")
    if resident_id is not None:
        stmt = stmt.where(OwnerEvidence.resident_id == resident_id)
    if received_before is not None:
        stmt = stmt.where(OwnerEvidence.received_at < received_before)
    result = await session.execute(stmt.values(status="discard", resident_id=None, media_id=None, last_error=None,
                                               next_try_at=None).execution_options(synchronize_session=False))
    return affected(result)


async def evidence_to_delete(session: AsyncSession, limit: int = 100) -> list[tuple[int, str | None]]:
    return [(a, b) for a, b in (await session.execute(
        select(OwnerEvidence.id, OwnerEvidence.key).where(OwnerEvidence.status == "discard")
        .order_by(OwnerEvidence.id).limit(limit))).all()]


async def delete_evidence_row(session: AsyncSession, row_id: int) -> None:
    await session.execute(delete(OwnerEvidence).where(OwnerEvidence.id == row_id))
