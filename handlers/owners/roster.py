"""The household roster: applying an import plan (every row checked first, then written in the caller's
transaction, so a refused file changes nothing), an estate's totals (households, area), its rooms as the vote
counts them, and the corrections staff make in the console.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict, Invalid, NotFound
from handlers.owners import rules
from handlers.owners.roster_file import RosterFileError, RosterPlan
from storage.models import Estate
from storage.owner_models import RosterOwner, RosterRoom
from storage.repositories import owners as repo


@dataclass
class ImportSummary:
    rows: int = 0
    rooms_new: int = 0
    rooms_changed: int = 0
    owners_new: int = 0
    repeated: int = 0
    estates: int = 0

    def describe(self) -> str:
        extra = f"，文件内重复 {self.repeated} 行已忽略" if self.repeated else ""
        return (f"名册已导入：{self.rows} 行，{self.estates} 个小区；新增房屋 {self.rooms_new} 套，"
                f"更新 {self.rooms_changed} 套，新增业主 {self.owners_new} 人{extra}。")


def cents(area: Decimal) -> int:
    return int(area * 100)


async def apply_plan(session: AsyncSession, plan: RosterPlan, now: datetime, *,
                     allowed_estates: set[int] | None = None) -> ImportSummary:
    """Write the plan; RosterFileError (nothing written) when an estate is unknown or outside `allowed_estates`."""
    estates = await repo.estates_by_code(session, plan.estate_codes)
    problems = []
    for key, room in sorted(plan.rooms.items(), key=lambda kv: kv[1].line):
        estate = estates.get(key[0])
        if estate is None:
            problems.append(f"第{room.line}行：没有编码为 {key[0]} 的小区（先用 linli org import 导入）")
        elif allowed_estates is not None and estate.id not in allowed_estates:
            problems.append(f"第{room.line}行：小区 {key[0]} 不在您的辖区内")
    if problems:
        raise RosterFileError(problems)
    summary = ImportSummary(rows=plan.rows, repeated=plan.repeated, estates=len(plan.estate_codes))
    for code in sorted(plan.estate_codes):
        estate = estates[code]
        rooms = {(r.building, r.unit, r.room): r for r in await repo.rooms_of(session, estate.id)}
        owners = {(o.name, o.phone): o for o in await repo.owners_of(session, estate.id)}
        for key, planned in plan.rooms.items():
            if key[0] != code:
                continue
            place = key[1:]
            room = rooms.get(place)
            changed = False
            if room is None:
                room = RosterRoom(estate_id=estate.id, building=place[0], unit=place[1], room=place[2],
                                  area_cents=cents(planned.area), updated_at=now)
                session.add(room)
                await session.flush()
                summary.rooms_new += 1
            elif room.area_cents != cents(planned.area):
                room.area_cents, room.updated_at, changed = cents(planned.area), now, True
            ids = []
            for name, phone in planned.owners:
                owner = owners.get((name, phone))
                if owner is None:
                    owner = owners[(name, phone)] = RosterOwner(estate_id=estate.id, name=name, phone=phone,
                                                                phone_masked=rules.mask_phone(phone), updated_at=now)
                    session.add(owner)
                    await session.flush()
                    summary.owners_new += 1
                ids.append(owner.id)
            if await repo.set_holdings(session, room.id, ids) and room.id in {r.id for r in rooms.values()}:
                changed = True
            summary.rooms_changed += changed
        await repo.drop_orphan_owners(session, estate.id)
        estate.households = (await totals(session, estate.id)).households  # the estate's 户数 from the roster
    return summary


@dataclass(frozen=True)
class Totals:
    households: int  # 户数: the rooms (exclusive parts) of the roster
    owners: int  # 业主人数 by the headcount rule (rules.holder_key)
    area: Fraction
    owners_listed: int  # owners named on the roster

    def as_dict(self) -> dict:
        return {"households": self.households, "owners": self.owners, "area": rules.area_text(self.area),
                "owners_listed": self.owners_listed}


async def shares(session: AsyncSession, estate_id: int, buildings=()) -> list[rules.RoomShare]:
    return [rules.RoomShare(r.room_id, r.building, Decimal(r.area_cents) / 100, rules.holder_key(r.owner_ids))
            for r in await repo.share_rows(session, estate_id, buildings)]


async def totals(session: AsyncSession, estate_id: int) -> Totals:
    rows = await repo.share_rows(session, estate_id)
    return Totals(len(rows), len({rules.holder_key(r.owner_ids) for r in rows}),
                  sum((Fraction(r.area_cents, 100) for r in rows), Fraction(0)),
                  len({o for r in rows for o in r.owner_ids}))


async def correct_room(session: AsyncSession, room: RosterRoom, *, area: str | None, owners_text: str | None,
                       now: datetime) -> list[str]:
    """Staff's correction of a room: its area and/or its owners (one per line: 姓名 电话). Returns what changed."""
    changes = []
    if area is not None and area.strip():
        value = rules.parse_area(area)
        if value is None:
            raise Invalid("面积应为大于 0 的平方米数，最多两位小数", errors={"area": "面积无效"})
        if cents(value) != room.area_cents:
            changes.append(f"面积 {rules.area_text(Fraction(room.area_cents, 100))} → {value}")
            room.area_cents, room.updated_at = cents(value), now
    if owners_text is not None:
        wanted = []
        for n, line in enumerate([s for s in owners_text.replace("，", " ").replace(",", " ").splitlines()
                                  if s.strip()], 1):
            parts = line.split()
            phone = rules.normal_phone(parts[-1]) if len(parts) > 1 else None
            name = " ".join(parts[:-1]) if phone else " ".join(parts)
            if len(parts) > 1 and phone is None and any(c.isdigit() for c in parts[-1]):
                raise Invalid(f"第 {n} 位业主的电话无效", errors={"owners": "电话无效"})
            if not name or len(name) > 64:
                raise Invalid(f"第 {n} 位业主的姓名无效", errors={"owners": "姓名无效"})
            wanted.append((name, phone))
        estate_owners = await repo.owners_of(session, room.estate_id)
        owners = {(o.name, o.phone): o for o in estate_owners}
        held = set(await repo.owner_ids_of_room(session, room.id))
        current = {o.name: o for o in estate_owners if o.id in held}
        ids = []
        for name, phone in wanted:
            # a name alone keeps the room's owner of that name (and the phone the roster holds for them)
            owner = current.get(name) if phone is None else owners.get((name, phone))
            if owner is None:
                owner = owners.get((name, phone))
            if owner is None:
                owner = owners[(name, phone)] = RosterOwner(estate_id=room.estate_id, name=name, phone=phone,
                                                            phone_masked=rules.mask_phone(phone), updated_at=now)
                session.add(owner)
                await session.flush()
            ids.append(owner.id)
        if await repo.set_holdings(session, room.id, ids):
            changes.append(f"业主改为 {len(ids)} 人")
            room.updated_at = now
        await repo.drop_orphan_owners(session, room.estate_id)
    return changes


async def delete_room(session: AsyncSession, room: RosterRoom) -> int:
    """Delete a room of the roster (e.g. entered twice, merged): refused while a motion holds a ballot of it (open:
    it is being counted; closed or withdrawn: the archive keeps it). Owners left with no room and no resident go;
    the estate's 户数 follows. Returns the estate's households after."""
    statuses = await repo.ballot_statuses_of_room(session, room.id)
    if any(s in ("scheduled", "open") for s in statuses):
        raise Conflict("该房屋在进行中的表决里已有表决票，不能删除；表决结束后它的表决票进入存档，也不能删除")
    if statuses:
        raise Conflict("已结束（或已撤销）的表决存档中有该房屋的表决票，不能删除；面积或业主有误请直接更正")
    estate_id = room.estate_id
    await repo.delete_room(session, room.id)
    session.expunge(room)
    await repo.drop_orphan_owners(session, estate_id)
    estate = await session.get(Estate, estate_id)
    households = (await totals(session, estate_id)).households
    if estate is not None:
        estate.households = households
    return households


async def room_or_404(session: AsyncSession, room_id: int) -> RosterRoom:
    room = await session.get(RosterRoom, room_id)
    if room is None:
        raise NotFound("没有这套房屋")
    return room
