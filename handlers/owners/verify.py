"""Verifying a resident bound as owner against the roster: by the roster's phone (the resident gives it in chat;
a 6-digit code is pushed to them through the account, valid 10 minutes, 5 tries) or by staff approval in the
console (with the evidence seen: in person, or the 房产证 photo the resident sent in chat, which is deleted once
staff decide: handlers/owners/evidence.py). Staff may also record a family
member as proxy (委托) of an owner. Until verified, the owner role is 未核验 and cannot vote.

The phone path proves that the WeChat user knows the phone number the roster holds for an owner of their estate;
staff approval is the stronger proof. Codes are kept only as a keyed hash.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import Content, Scope, create_broadcast
from bot.errors import Conflict, Invalid
from handlers.owners import rules
from storage.models import Resident, ResidentRole
from storage.owner_models import OwnerLink, RosterHolding, RosterOwner, RosterRoom
from storage.repositories import owners as repo

CODE_MINUTES = 10
MAX_TRIES = 5
UNVERIFIED = "未核验"


def code_hash(secret: bytes, link_id: int, code: str) -> str:
    return hmac.new(secret, f"owner-code:{link_id}:{code}".encode(), hashlib.sha256).hexdigest()


def is_owner(resident: Resident) -> bool:
    return resident.role is ResidentRole.owner and resident.estate_id is not None


async def status_of(session: AsyncSession, resident: Resident) -> str:
    """已核验 / 未核验 / 业主代理（委托） for 我的信息 and the chat."""
    links = await repo.links_of(session, resident.id)
    if any(link.status == "verified" and link.method != "proxy" for link in links):
        return "已核验"
    if any(link.status == "verified" for link in links):
        return "业主委托代理人（已登记）"
    return UNVERIFIED


async def send_code(session: AsyncSession, resident: Resident, phone_text: str, *, secret: bytes,
                    now: datetime) -> int:
    """Push a code when the phone is on the roster for an owner of the room the resident bound to; returns how
    many owners it matched (0: nothing sent). Knowing a phone number alone is not enough: it must be the phone of
    an owner of that very room."""
    phone = rules.normal_phone(phone_text)
    if phone is None or resident.estate_id is None:
        return 0
    holders = {owner_id for room in await bound_rooms(session, resident)
               for owner_id in await repo.owner_ids_of_room(session, room.id)}
    owners = [o for o in await repo.owners_with_phone(session, resident.estate_id, phone) if o.id in holders]
    if not owners:
        return 0
    code = f"{secrets.randbelow(10**6):06d}"
    for owner in owners:
        link = await repo.link(session, resident.id, owner.id)
        if link is None:
            link = OwnerLink(resident_id=resident.id, owner_id=owner.id, status="unverified", created_at=now)
            session.add(link)
            await session.flush()
        if link.status == "verified":
            continue
        link.code_hash = code_hash(secret, link.id, code)
        link.code_expires_at, link.attempts = now + timedelta(minutes=CODE_MINUTES), 0
    await create_broadcast(session, category="ticket", scope=Scope.of_residents([resident.id]),
                           content=Content(f"您的业主身份验证码：{code}（{CODE_MINUTES} 分钟内有效）。请在对话中回复这 6 位数字完成核验；"
                                           "如非本人操作，请忽略。", title="业主身份验证码"),
                           created_by="owners:verify", source=f"owners:code:{resident.ref}", now=now)
    return len(owners)


async def check_code(session: AsyncSession, resident: Resident, code: str, *, secret: bytes,
                     now: datetime) -> str:
    """ok / wrong / expired / none (no code pending)."""
    pending = [link for link in await repo.links_of(session, resident.id)
               if link.status == "unverified" and link.code_hash is not None]
    if not pending:
        return "none"
    live = [link for link in pending if link.code_expires_at and link.code_expires_at > now
            and link.attempts < MAX_TRIES]
    if not live:
        for link in pending:
            link.code_hash = None
        return "expired"
    matched = [link for link in live if hmac.compare_digest(link.code_hash or "", code_hash(secret, link.id, code))]
    if not matched:
        for link in live:
            link.attempts += 1
        return "wrong"
    for link in live:
        link.code_hash, link.code_expires_at = None, None
    for link in matched:
        link.status, link.method, link.verified_at, link.verified_by = "verified", "phone", now, "phone"
    return "ok"


def _room_matches(room: RosterRoom, building: str | None, label: str | None) -> bool:
    if not building or not label or room.building != building:
        return False
    return label in (room.room, f"{room.unit}-{room.room}", f"{room.unit}{room.room}")


async def bound_rooms(session: AsyncSession, resident: Resident) -> list[RosterRoom]:
    """The roster rooms matching the building and room the resident bound to."""
    if resident.estate_id is None or not resident.building or not resident.room:
        return []
    return [r for r in await repo.rooms_of(session, resident.estate_id)
            if _room_matches(r, resident.building, resident.room)]


async def request_staff(session: AsyncSession, resident: Resident, now: datetime) -> int:
    """Ask for staff verification: unverified links to the owners of the resident's bound room; how many."""
    count = 0
    for room in await bound_rooms(session, resident):
        for owner_id in await repo.owner_ids_of_room(session, room.id):
            if await repo.link(session, resident.id, owner_id) is None:
                session.add(OwnerLink(resident_id=resident.id, owner_id=owner_id, status="unverified",
                                      created_at=now))
            count += 1
    await session.flush()
    return count


async def approve(session: AsyncSession, owner_link: OwnerLink, *, staff: str, proxy_name: str | None,
                  now: datetime) -> None:
    """Staff approval, as the owner or (with `proxy_name`) as the owner's proxy (委托)."""
    if owner_link.status == "verified":
        raise Invalid("已核验，无需重复操作", status=409)
    proxy_name = (proxy_name or "").strip() or None
    if proxy_name is not None and len(proxy_name) > 64:
        raise Invalid("代理人姓名过长", errors={"proxy_name": "最多 64 个字"})
    owner_link.status, owner_link.verified_at, owner_link.verified_by = "verified", now, staff[:64]
    owner_link.method = "proxy" if proxy_name else "staff"
    owner_link.proxy_name = proxy_name
    owner_link.code_hash = owner_link.code_expires_at = None


async def revoke(session: AsyncSession, owner_link: OwnerLink) -> int:
    """Staff withdraw a verification found wrong (a flat sold, the wrong person approved): the link goes, so the
    resident is 未核验 again and may apply anew; their chat ballots for the owner's rooms in motions still open
    are void (the room may vote again). Returns how many ballots were voided."""
    if owner_link.status != "verified":
        raise Conflict("该居民尚未核验，无需撤销；待核验的申请请用「驳回」")
    voided = await repo.void_open_chat_ballots(session, owner_link.resident_id, owner_link.owner_id)
    await session.delete(owner_link)
    await session.flush()
    return voided


async def refuse(session: AsyncSession, resident_id: int, estate_id: int) -> int:
    """Staff refused the resident's request: their unverified links to owners of the estate go; how many."""
    return await repo.delete_unverified_links(session, resident_id, estate_id)


async def tell(session: AsyncSession, resident_id: int, text: str, now: datetime) -> None:
    """Tell a resident the outcome of their verification through the account."""
    await create_broadcast(session, category="ticket", scope=Scope.of_residents([resident_id]),
                           content=Content(text, title="业主身份核验"), created_by="owners:verify",
                           source=f"owners:verify:{resident_id}:{now:%Y%m%d%H%M%S}", now=now)


async def rooms_text(session: AsyncSession, owner: RosterOwner) -> str:
    from sqlalchemy import select

    rooms = await session.scalars(select(RosterRoom).join(RosterHolding, RosterHolding.room_id == RosterRoom.id)
                                  .where(RosterHolding.owner_id == owner.id))
    return "、".join(place(r) for r in rooms) or "（名册中无房屋）"


def place(room: RosterRoom) -> str:
    return f"{room.building}号楼{room.unit + '单元' if room.unit else ''}{room.room}室"
