"""The 12345 work orders' life in linli: import a file (every row checked first; a file with a bad row writes
nothing), place each new order in a community through the address matcher and file its ticket (channel
`hotline`, the hotline's earlier deadline winning), keep the orders nobody could place for staff to place by hand,
and export the results of the orders closed since the last export in the hotline's return format.

Re-importing the same file, or a later export that repeats old orders, changes nothing: an order's number is
unique, and known numbers are skipped.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import BadRequest, Conflict, Invalid, NotFound
from bot.localtime import LOCAL_TZ
from handlers.console.authz import Scope, can_see_community
from handlers.hotline import matching, rows, sheet
from handlers.hotline.mapping import Mapping
from handlers.privacy.redact import mask
from handlers.reports import scope as places
from handlers.tickets import rules
from handlers.tickets.service import Received, file_received
from storage.hotline_models import HotlineImport, HotlineOrder
from storage.models import Community, District, Estate, StaffLevel, Street
from storage.ticket_models import Ticket

DONE = ("resolved", "closed", "rejected")
ACTOR_LABEL = "12345 热线导入"


class HotlineFileError(Invalid):
    """The file was refused (nothing imported); `problems` lists each with its line."""

    def __init__(self, problems: list[str]):
        super().__init__(f"文件有 {len(problems)} 处问题，未导入任何工单", problems=problems[:200])
        self.problems = problems


@dataclass
class Outcome:
    rows: int = 0
    created: list[str] = field(default_factory=list)  # ticket numbers
    unplaced: list[tuple[int, str, str]] = field(default_factory=list)  # (line, order number, why)
    known: int = 0
    repeated: int = 0
    import_id: int | None = None

    def describe(self) -> str:
        return (f"共 {self.rows} 行：新建工单 {len(self.created)} 件，待人工指定社区 {len(self.unplaced)} 件，"
                f"已导入过 {self.known} 件" + (f"，重复行 {self.repeated} 行" if self.repeated else "") + "。")


def area_of(who: Scope) -> tuple[str | None, int | None]:
    """The importer's node: staff of that node (or above) may place its unplaced orders."""
    home = places.home_code_level(who)
    return home if home else (None, None)


async def tree(session: AsyncSession, who: Scope) -> matching.Tree:
    stmt = (select(Community.id, Community.name, Street.name, District.name, Estate.id, Estate.name)
            .join(Street, Street.id == Community.street_id).join(District, District.id == Street.district_id)
            .outerjoin(Estate, Estate.community_id == Community.id).order_by(Community.id, Estate.id))
    estates, communities, seen = [], [], set()
    for cid, community, street, district, eid, estate in (await session.execute(stmt)).all():
        if not can_see_community(who, cid):
            continue
        if cid not in seen:
            seen.add(cid)
            communities.append(matching.Place(cid, community, street, district))
        if eid is not None:
            estates.append(matching.Place(cid, community, street, district, eid, estate))
    return matching.Tree(estates, communities)


async def import_file(session: AsyncSession, services, data: bytes, filename: str, mapping: Mapping, who: Scope,
                      by: str, now: datetime) -> Outcome:
    """Check every row, then import: raises HotlineFileError (nothing written) when any row is bad."""
    try:
        parsed = rows.parse(sheet.read(data, filename), mapping, now)
    except sheet.SheetError as exc:
        raise HotlineFileError([str(exc)]) from None
    if parsed.problems:
        raise HotlineFileError(parsed.problems)
    outcome = Outcome(rows=len(parsed.rows) + parsed.repeated, repeated=parsed.repeated)
    numbers = [r.number for r in parsed.rows]
    known = set()
    for start in range(0, len(numbers), 500):
        known |= set(await session.scalars(select(HotlineOrder.number).where(
            HotlineOrder.number.in_(numbers[start:start + 500]))))
    fresh = [r for r in parsed.rows if r.number not in known]
    outcome.known = len(parsed.rows) - len(fresh)
    record = HotlineImport(filename=filename[:200], digest=hashlib.sha256(data).hexdigest(), rows=outcome.rows,
                           imported_by=by[:64], imported_at=now)
    session.add(record)
    await session.flush()
    outcome.import_id = record.id
    places_tree = await tree(session, who) if fresh else None
    level, node = area_of(who)
    for row in fresh:
        found = places_tree.match(row.address)
        order = HotlineOrder(
            number=row.number, import_id=record.id, line=row.line, received_at=row.received_at,
            caller_name=row.caller_name, phone=row.phone, phone_masked=rules.mask_phone(row.phone),
            address=row.address, content=row.content, hotline_category=row.hotline_category, category=row.category,
            deadline_at=row.deadline_at, unit=row.unit, status=found.status if found.status != "matched" else "placed",
            candidates=[_candidate(p) for p in found.candidates], area_level=level, area_id=node, imported_at=now)
        session.add(order)
        if found.status == "matched":
            ticket = await _file(session, services, order, found.place.community_id, found.place.estate_id, by, now)
            outcome.created.append(ticket.number)
        else:
            why = "地址对应多个小区或社区" if found.status == "ambiguous" else "地址找不到对应的小区或社区"
            outcome.unplaced.append((row.line, row.number, why))
    record.created, record.unplaced, record.known = len(outcome.created), len(outcome.unplaced), outcome.known
    await session.flush()
    return outcome


def _candidate(place: matching.Place) -> dict:
    return {"community_id": place.community_id, "estate_id": place.estate_id, "label": place.label}


async def _file(session: AsyncSession, services, order: HotlineOrder, community_id: int, estate_id: int | None,
                by: str, now: datetime) -> Ticket:
    description = f"【12345 工单 {order.number}】{order.content}"
    if order.address:
        description += f"（地址：{order.address}）"
    ticket = await file_received(session, services, Received(
        community_id=community_id, estate_id=estate_id, category=order.category, description=description,
        channel="hotline", received_at=order.received_at, phone=order.phone, due_at=order.deadline_at,
        actor=by[:80], actor_label=ACTOR_LABEL), now)
    order.ticket_id, order.community_id, order.status = ticket.id, community_id, "placed"
    order.placed_at, order.placed_by = now, by[:64]
    return ticket


def visible(who: Scope, order: HotlineOrder, area_communities: list[int] | None) -> bool:
    """Placed orders: by their community. Unplaced ones: staff whose jurisdiction covers the importer's node."""
    if order.community_id is not None:
        return can_see_community(who, order.community_id)
    if order.area_level is None:
        return who.is_admin
    return who.is_admin or bool(area_communities) and all(can_see_community(who, c) for c in area_communities)


async def _area_communities(session: AsyncSession, order: HotlineOrder) -> list[int] | None:
    if order.area_level is None or order.area_id is None:
        return None
    place = await places.of_node(session, order.area_level, order.area_id)
    return place.ids if place else []


async def get_visible(session: AsyncSession, who: Scope, order_id: int) -> HotlineOrder:
    order = await session.get(HotlineOrder, order_id)
    if order is None or not visible(who, order, await _area_communities(session, order)):
        raise NotFound("没有找到该 12345 工单")
    return order


async def unplaced(session: AsyncSession, who: Scope, limit: int = 200) -> list[HotlineOrder]:
    rows_ = list(await session.scalars(select(HotlineOrder).where(HotlineOrder.status != "placed")
                                       .order_by(HotlineOrder.received_at, HotlineOrder.id).limit(2000)))
    cache: dict[tuple, list[int] | None] = {}
    out = []
    for order in rows_:
        key = (order.area_level, order.area_id)
        if key not in cache:
            cache[key] = await _area_communities(session, order)
        if visible(who, order, cache[key]):
            out.append(order)
        if len(out) >= limit:
            break
    return out


async def place(session: AsyncSession, services, who: Scope, order_id: int, community_id: int | None,
                estate_id: int | None, by: str, now: datetime) -> Ticket:
    """Place an unplaced order by hand in a community (and estate) of the jurisdiction; files its ticket."""
    order = await get_visible(session, who, order_id)
    if order.status == "placed":
        raise Conflict("该工单已有对应的投诉工单")
    if estate_id is not None:
        estate = await session.get(Estate, estate_id)
        if estate is None:
            raise BadRequest("没有这个小区")
        if community_id is not None and estate.community_id != community_id:
            raise BadRequest("所选小区不属于所选社区")
        community_id = estate.community_id
    if community_id is None:
        raise BadRequest("请选择社区或小区")
    if await session.get(Community, community_id) is None or not can_see_community(who, community_id):
        raise BadRequest("所选社区不在您的辖区内")
    return await _file(session, services, order, community_id, estate_id, by, now)


async def export(session: AsyncSession, who: Scope, mapping: Mapping, now: datetime) -> tuple[list[list], int]:
    """The return rows of the orders (in the jurisdiction) whose tickets were closed since the last export — or
    rated since, so the satisfaction the hotline asks for goes back once known; they are marked exported."""
    stmt = (select(HotlineOrder, Ticket).join(Ticket, Ticket.id == HotlineOrder.ticket_id)
            .where(Ticket.status.in_(DONE),
                   or_(HotlineOrder.exported_at.is_(None),
                       and_(Ticket.rated_at.is_not(None), Ticket.rated_at > HotlineOrder.exported_at)))
            .order_by(HotlineOrder.received_at, HotlineOrder.id))
    if not who.is_admin:
        stmt = stmt.where(HotlineOrder.community_id.in_(sorted(who.community_ids or ())))
    out = []
    for order, ticket in (await session.execute(stmt)).all():
        finished = ticket.resolved_at or ticket.closed_at
        values = {"number": order.number, "result": _result(ticket),
                  "finished_at": finished.astimezone(LOCAL_TZ).strftime(mapping.export_time_format)
                  if finished else "",
                  "satisfaction": mapping.satisfaction.get(ticket.rating, "") if ticket.rating else ""}
        out.append([values[k] for k in mapping.export_columns])
        order.exported_at = now
    await session.flush()
    return out, len(out)


def _result(ticket: Ticket) -> str:
    if ticket.status == "rejected":
        return f"不予受理：{ticket.reject_reason or ''}".strip("：")
    if ticket.closed_reason == "merged":
        return "与同一问题的其他工单合并办理"
    return (ticket.resolution or rules.STATUS_LABELS[ticket.status])[:1000]


def export_xlsx(header: list[str], data: list[list]) -> bytes:
    from openpyxl import Workbook

    from handlers.reports.xlsx import append_text_safely

    book = Workbook()
    ws = book.active
    ws.title = "办理结果"
    ws.append(header)
    for row in data:
        append_text_safely(ws, row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def order_json(order: HotlineOrder) -> dict:
    return {"id": order.id, "number": order.number, "line": order.line, "received_at": order.received_at,
            "caller_name": _mask_name(order.caller_name), "phone_masked": order.phone_masked,
            "address": order.address, "content": mask(order.content)[:500],
            "hotline_category": order.hotline_category, "category": order.category, "deadline_at": order.deadline_at,
            "unit": order.unit, "status": order.status, "candidates": order.candidates,
            "ticket_id": order.ticket_id, "community_id": order.community_id, "exported_at": order.exported_at}


def _mask_name(name: str | None) -> str | None:
    """张** for 张三丰: staff see who called without the full name in lists and exports."""
    if not name:
        return None
    return name[0] + "*" * max(1, len(name) - 1)


__all__ = ["HotlineFileError", "Outcome", "StaffLevel", "export", "import_file", "place", "unplaced"]
