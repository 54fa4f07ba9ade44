"""Deliveries: expanding a broadcast into rows, claiming batches, recording results, counting. Never commits.

Expansion is INSERT … SELECT over a range of resident ids (`expand_step`), so no recipient list is held in memory;
the broadcast's cursor moves in the same transaction, guarded by its old value, so two workers never expand the
same range. Claiming (`claim`) marks a batch `sending` with a lease in one statement (`FOR UPDATE SKIP LOCKED` on
PostgreSQL; SQLite's write lock serialises claims); rows whose lease expired are claimed again and flagged `resent`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    case,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import affected
from storage.delivery_models import Broadcast, CsWindow, Delivery, DeliveryMute, DeliveryReceipt
from storage.models import Community, Resident, ResidentRole, Street
from storage.prepared import Prepared, typed_params

D = Delivery.__table__
R = Resident.__table__
UNMUTABLE = ("ticket",)  # updates on a resident's own complaint cannot be muted
OPEN = ("queued", "sending")


@dataclass(frozen=True)
class Claimed:
    id: int
    resident_id: int | None
    attempts: int
    resent: bool
    openid: str | None = None
    subscribed: bool = False
    window_opened_at: datetime | None = None
    window_used: int = 0


def _in_scope(query, scope: dict):
    level, ids = scope.get("level", "all"), scope.get("ids") or []
    if level == "estate":
        query = query.where(R.c.estate_id.in_(ids))
    elif level == "community":
        query = query.where(R.c.community_id.in_(ids))
    elif level == "street":
        query = query.where(R.c.community_id.in_(select(Community.id).where(Community.street_id.in_(ids))))
    elif level == "district":
        streets = select(Street.id).where(Street.district_id.in_(ids))
        query = query.where(R.c.community_id.in_(select(Community.id).where(Community.street_id.in_(streets))))
    if "refs" in scope:  # addressed to residents: by their immutable ref, never by a reusable id
        query = query.where(R.c.ref.in_(scope["refs"]) if scope["refs"] else false())
    elif scope.get("residents"):  # not created by `create_broadcast`: refuse rather than guess
        query = query.where(false())
    if scope.get("roles"):
        query = query.where(R.c.role.in_([ResidentRole(r) for r in scope["roles"]]))
    return query


def _recipients(broadcast: Broadcast, lo: int, hi: int):
    muted: ColumnElement[bool]
    if broadcast.category in UNMUTABLE:
        muted = false()
    else:
        muted = exists().where(DeliveryMute.resident_id == R.c.id, DeliveryMute.category == broadcast.category)
    not_following = R.c.subscribed == false()
    status = case((muted, "skipped"), (not_following, "skipped"), else_="queued")
    reason = case((muted, "muted"), (not_following, "not_following"), else_=None)
    query = select(literal(broadcast.id), R.c.id, status, reason, literal(0), literal(False)).where(
        R.c.id > lo, R.c.id <= hi)
    return _in_scope(query, broadcast.scope).order_by(R.c.id)


async def audience(session: AsyncSession, category: str, scope: dict) -> tuple[int, int]:
    """(residents in the scope, of whom the broadcast would reach: following and not muted for `category`) —
    the same rules expansion applies, counted before anything is queued (the 群发 form's confirmation)."""
    muted = false() if category in UNMUTABLE else exists().where(DeliveryMute.resident_id == R.c.id,
                                                                 DeliveryMute.category == category)
    reached = case((and_(R.c.subscribed == true(), ~muted), 1), else_=0)
    query = _in_scope(select(func.count(), func.coalesce(func.sum(reached), 0)).select_from(R), scope)
    total, reach = (await session.execute(query)).one()
    return int(total or 0), int(reach or 0)


async def expand_step(session: AsyncSession, broadcast_id: int, batch: int) -> bool:
    """Expand the next range of residents; True while more remains (or another worker moved the cursor)."""
    b = await session.get(Broadcast, broadcast_id, populate_existing=True)
    if b is None or b.expanded:
        return False
    if b.expand_upto is None:
        if "refs" in b.scope:
            ids = list(await session.scalars(select(Resident.id).where(Resident.ref.in_(b.scope["refs"] or [""]))))
            upto, start = (max(ids), min(ids) - 1) if ids else (0, 0)
        else:
            upto, start = await session.scalar(select(func.max(Resident.id))) or 0, 0
        await session.execute(update(Broadcast).where(Broadcast.id == b.id, Broadcast.expand_upto.is_(None))
                              .values(expand_upto=upto, expand_cursor=start))
        await session.refresh(b)
    assert b.expand_upto is not None, "set above when the expansion began"
    lo, upto = b.expand_cursor, b.expand_upto
    hi = min(lo + batch, upto)
    moved = await session.execute(
        update(Broadcast).where(Broadcast.id == b.id, Broadcast.expand_cursor == lo, Broadcast.expanded == false())
        .values(expand_cursor=hi, expanded=hi >= upto))
    if affected(moved) != 1:
        return True
    if hi > lo:
        columns = ["broadcast_id", "resident_id", "status", "reason", "attempts", "resent"]
        await session.execute(insert(D).from_select(columns, _recipients(b, lo, hi)))
    return hi < upto


async def claim(session: AsyncSession, broadcast_id: int, owner: str, limit: int, now: datetime,
                lease_until: datetime, *, skip_locked: bool) -> list[Claimed]:
    due = or_(and_(D.c.status == "queued", or_(D.c.next_attempt_at.is_(None), D.c.next_attempt_at <= now)),
              and_(D.c.status == "sending", D.c.lease_until < now))
    pick = select(D.c.id).where(D.c.broadcast_id == broadcast_id, due).order_by(D.c.id).limit(limit)
    if skip_locked:
        pick = pick.with_for_update(skip_locked=True)
    stmt = (update(D).where(D.c.id.in_(pick.scalar_subquery()))
            .values(status="sending", lease_owner=owner, lease_until=lease_until, attempts=D.c.attempts + 1,
                    resent=or_(D.c.resent == true(), D.c.status == "sending"))
            .returning(D.c.id, D.c.resident_id, D.c.attempts, D.c.resent))
    rows = (await session.execute(stmt)).all()
    ids = [r.resident_id for r in rows if r.resident_id is not None]
    people = {}
    if ids:
        found = await session.execute(
            select(R.c.id, R.c.openid, R.c.subscribed, CsWindow.opened_at, CsWindow.used)
            .outerjoin(CsWindow, CsWindow.resident_id == R.c.id).where(R.c.id.in_(ids)))
        people = {p.id: p for p in found}
    claimed = []
    for r in sorted(rows, key=lambda r: r.id):
        p = people.get(r.resident_id)
        claimed.append(Claimed(r.id, r.resident_id, r.attempts, bool(r.resent), p.openid if p else None,
                               bool(p and p.subscribed), p.opened_at if p else None, (p and p.used) or 0))
    return claimed


RESULT_KEYS = ("status", "reason", "detail", "channel", "errcode", "msgid", "sent_at", "next_attempt_at")


async def record(session: AsyncSession, owner: str, results: Sequence[dict]) -> None:
    """Write a batch's outcomes (dicts with `id`, `refund` (0/1 attempt given back) and RESULT_KEYS) at once."""
    if not results:
        return
    stmt = (update(D).where(D.c.id == bindparam("_id"), D.c.lease_owner == owner)
            .values(lease_owner=None, lease_until=None, attempts=D.c.attempts - bindparam("_refund"),
                    **{k: bindparam(f"_{k}") for k in RESULT_KEYS}))
    params = [{"_id": r["id"], "_refund": r.get("refund", 0), **{f"_{k}": r.get(k) for k in RESULT_KEYS}}
              for r in results]
    conn = await session.connection()
    await conn.execute(stmt, params)


async def use_windows(session: AsyncSession, used: Sequence[int], exhausted: Sequence[int]) -> None:
    if used:
        await (await session.connection()).execute(
            update(CsWindow).where(CsWindow.resident_id == bindparam("_rid")).values(used=CsWindow.used + 1),
            [{"_rid": r} for r in used])
    if exhausted:
        await session.execute(update(CsWindow).where(CsWindow.resident_id.in_(exhausted)).values(used=99))


async def mark_unfollowed(session: AsyncSession, resident_ids: Sequence[int]) -> None:
    if resident_ids:
        await session.execute(update(Resident).where(Resident.id.in_(resident_ids)).values(subscribed=False))


async def counts(session: AsyncSession, broadcast_id: int) -> list[tuple[str, str | None, int]]:
    rows = await session.execute(select(D.c.status, D.c.reason, func.count()).where(
        D.c.broadcast_id == broadcast_id).group_by(D.c.status, D.c.reason))
    return [(s, r, n) for s, r, n in rows]


async def resent_count(session: AsyncSession, broadcast_id: int) -> int:
    return await session.scalar(select(func.count()).select_from(D).where(
        D.c.broadcast_id == broadcast_id, D.c.resent == true())) or 0


async def open_left(session: AsyncSession, broadcast_id: int) -> bool:
    return bool(await session.scalar(select(exists().where(D.c.broadcast_id == broadcast_id, D.c.status.in_(OPEN)))))


async def requeue_failed(session: AsyncSession, broadcast_id: int) -> int:
    result = await session.execute(update(D).where(D.c.broadcast_id == broadcast_id, D.c.status == "failed").values(
        status="queued", reason=None, detail=None, errcode=None, attempts=0, next_attempt_at=None, final_status=None))
    return affected(result)


# --- mutes and windows ------------------------------------------------------------------------------------------
async def muted(session: AsyncSession, resident_id: int) -> set[str]:
    rows = await session.scalars(select(DeliveryMute.category).where(DeliveryMute.resident_id == resident_id))
    return set(rows)


async def mute(session: AsyncSession, resident_id: int, category: str, now: datetime) -> bool:
    if category in await muted(session, resident_id):
        return False
    session.add(DeliveryMute(resident_id=resident_id, category=category, created_at=now))
    await session.flush()
    return True


async def unmute(session: AsyncSession, resident_id: int, category: str) -> bool:
    row = await session.get(DeliveryMute, (resident_id, category))
    if row is None:
        return False
    await session.delete(row)
    return True


def _open_window_upsert(dialect: str):
    # one text() statement for both engines: dialect insert() upserts are recompiled on every call
    return text(
        "INSERT INTO cs_windows (resident_id, opened_at, used) VALUES (:resident_id, :opened_at, 0)"
        " ON CONFLICT (resident_id) DO UPDATE SET opened_at = excluded.opened_at, used = 0"
    ).bindparams(*typed_params(CsWindow.__table__, "resident_id", "opened_at"))


_OPEN_WINDOW = Prepared(_open_window_upsert)


async def open_window(session: AsyncSession, resident_id: int, now: datetime) -> None:
    """One upsert per inbound message (it is on the webhook's hot path: no read first, a prepared statement)."""
    await _OPEN_WINDOW.run(session, resident_id=resident_id, opened_at=now)


# --- TEMPLATESENDJOBFINISH -------------------------------------------------------------------------------------
def receipt_values(status: str) -> dict:
    if status == "success":
        return {"final_status": status}
    reason = "user_block" if "block" in status else "system_failed" if "system" in status else "job_failed"
    return {"final_status": status[:32], "status": "failed", "reason": reason}


RECEIPTS_LOCK = 0x6C696E6C  # "linl": pg_advisory_xact_lock key shared by the two paths below


async def serialize_receipts(session: AsyncSession) -> None:
    """Make a job-finish event and the sender's recording of msgids take turns (PostgreSQL; SQLite's writers
    already do): otherwise the event can miss the not-yet-committed msgid while the sender misses the
    not-yet-committed receipt, and the final status is lost."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(RECEIPTS_LOCK)))


async def apply_receipt(session: AsyncSession, msgid: int, status: str, now: datetime) -> bool:
    """Record WeChat's final status for `msgid`; kept as a receipt when the sender has not stored the msgid yet."""
    await serialize_receipts(session)
    result = await session.execute(update(D).where(D.c.msgid == msgid).values(**receipt_values(status)))
    if affected(result):
        return True
    if await session.get(DeliveryReceipt, msgid) is None:
        session.add(DeliveryReceipt(msgid=msgid, status=status[:32], received_at=now))
    return False


async def apply_pending_receipts(session: AsyncSession, msgids: Sequence[int]) -> None:
    if not msgids:
        return
    await serialize_receipts(session)
    found = (await session.execute(select(DeliveryReceipt).where(DeliveryReceipt.msgid.in_(msgids)))).scalars().all()
    for receipt in found:
        await session.execute(update(D).where(D.c.msgid == receipt.msgid).values(**receipt_values(receipt.status)))
        await session.delete(receipt)


async def forget_resident(session: AsyncSession, resident_id: int) -> None:
    """A resident's erasure: their delivery rows keep the counts (status, channel, errcode) but not the person
    (no resident id, WeChat message id or error detail), those not yet sent are skipped (`resident_gone`); their
    category mutes and customer-service window go."""
    await session.execute(update(Delivery).where(Delivery.resident_id == resident_id, Delivery.status.in_(
        ("queued", "sending"))).values(status="skipped", reason="resident_gone", lease_owner=None, lease_until=None))
    await session.execute(update(Delivery).where(Delivery.resident_id == resident_id)
                          .values(resident_id=None, msgid=None, detail=None))
    await session.execute(delete(DeliveryMute).where(DeliveryMute.resident_id == resident_id))
    await session.execute(delete(CsWindow).where(CsWindow.resident_id == resident_id))
