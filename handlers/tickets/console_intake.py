"""登记来电来访: staff record a complaint received by phone, at the office or from the 12345 hotline (caller name,
phone, estate and building, category, description, channel). It becomes a ticket like any other
(`service.file_received`, at the community level of the estate), its channel shown and counted in the figures;
the caller later links it to their WeChat with 「关联投诉」 (handlers/tickets/claim.py).

Only estates inside the caller's jurisdiction can be chosen; the phone is kept for the call-back and shown masked
everywhere else (and never logged).
"""
from __future__ import annotations

import unicodedata
from datetime import datetime

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Invalid
from handlers.console.api import json_response, read_json
from handlers.console.audit import audit
from handlers.console.authz import can_see_community, visible_communities
from handlers.console.guard import current, db, require_staff
from handlers.console.render import Form, flash, render, see_other
from handlers.console.state import state_of
from handlers.tickets import intake, rules, service
from handlers.tickets.rules import CATEGORIES, CHANNELS
from storage.models import Community, Estate

INTAKE_CHANNELS = {code: CHANNELS[code] for code in ("phone", "visit", "hotline", "other")}
FIELDS = ("caller_name", "phone", "estate_id", "building", "category", "description", "channel")
LINK_HINT = "请告诉来电人：关注本公众号并绑定后回复「关联投诉」，用登记的手机号即可查看进度、接收办理进展。"


def check(values: dict) -> tuple[dict, dict[str, str]]:
    """The cleaned form and the problems by field (Chinese). Pure: the estate's jurisdiction is checked apart."""
    clean, problems = {}, {}
    name = unicodedata.normalize("NFKC", str(values.get("caller_name") or "")).strip()
    if not name:
        problems["caller_name"] = "请填写来电人或来访人的称呼（如 王女士）"
    elif len(name) > 32:
        problems["caller_name"] = "称呼不能超过 32 个字"
    clean["caller_name"] = name[:32]
    raw_phone = str(values.get("phone") or "").strip()
    phone = rules.find_phone(raw_phone) if raw_phone else None
    if raw_phone and (phone is None or len(raw_phone) > 20):
        problems["phone"] = "电话号码有误：请填 11 位手机号（如 13812345678）或带区号的座机号（如 022-23456789）"
    clean["phone"] = phone
    channel = str(values.get("channel") or "")
    if channel not in INTAKE_CHANNELS:
        problems["channel"] = "请选择受理渠道：" + " / ".join(INTAKE_CHANNELS.values())
    elif channel in ("phone", "hotline") and not phone:
        problems.setdefault("phone", "电话和 12345 受理的投诉须留下回电号码")
    clean["channel"] = channel
    category = str(values.get("category") or "")
    if category not in CATEGORIES:
        problems["category"] = "请选择投诉类别"
    clean["category"] = category
    description = str(values.get("description") or "").strip()
    problem = intake.description_problem(description)
    if problem:
        problems["description"] = problem
    clean["description"] = description
    building = unicodedata.normalize("NFKC", str(values.get("building") or "")).strip()
    if len(building) > 16:
        problems["building"] = "楼号不能超过 16 个字（如 3号楼 或 3-2）"
    clean["building"] = building or None
    raw_estate = values.get("estate_id")
    estate_id = raw_estate if isinstance(raw_estate, int) and not isinstance(raw_estate, bool) else (
        int(raw_estate) if isinstance(raw_estate, str) and raw_estate.isdigit() and len(raw_estate) < 10 else None)
    if estate_id is None:
        problems["estate_id"] = "请选择小区"
    clean["estate_id"] = estate_id
    return clean, problems


async def estate_choices(session: AsyncSession, scope) -> list[tuple[str, list[tuple[int, str]]]]:
    """(community name, [(estate id, estate name)]) inside the jurisdiction."""
    rows = (await session.execute(
        select(Community.name, Estate.id, Estate.name).join(Estate, Estate.community_id == Community.id)
        .where(Community.id.in_(visible_communities(scope))).order_by(Community.code, Estate.name))).all()
    grouped: dict[str, list[tuple[int, str]]] = {}
    for community, estate_id, estate in rows:
        grouped.setdefault(community, []).append((estate_id, estate))
    return list(grouped.items())


async def file(request: web.Request, values: dict) -> tuple[object | None, dict[str, str]]:
    """File the ticket from the form or JSON values; (ticket, {}) or (None, problems)."""
    user, session = current(request), db(request)
    clean, problems = check(values)
    estate = await session.get(Estate, clean["estate_id"]) if clean["estate_id"] else None
    if clean["estate_id"] and (estate is None or not can_see_community(user.scope, estate.community_id)):
        problems["estate_id"] = "请选择您辖区内的小区"
    if problems:
        return None, problems
    assert estate is not None
    now: datetime = user.now
    ticket = await service.file_received(session, state_of(request).services, service.Received(
        community_id=estate.community_id, estate_id=estate.id, category=clean["category"],
        description=clean["description"], channel=clean["channel"], received_at=now, phone=clean["phone"],
        caller_name=clean["caller_name"], building=clean["building"], actor=f"staff:{user.staff.username}",
        actor_label=f"{user.staff.display_name}（{user.level.label}）"), now)
    await audit(session, user, "ticket.intake", f"{ticket.number} {INTAKE_CHANNELS[clean['channel']]}", request,
                community_id=ticket.community_id)
    return ticket, {}


async def _page(request: web.Request, values: dict, problems: dict[str, str], status: int = 200) -> web.Response:
    return render(request, "tickets/intake.html", status=status, title="登记来电来访投诉", values=values,
                  errors=problems, estates=await estate_choices(db(request), current(request).scope), categories=CATEGORIES,
                  channels=INTAKE_CHANNELS)


@require_staff()
async def intake_page(request: web.Request) -> web.Response:
    return await _page(request, {"channel": "phone"}, {})


@require_staff()
async def intake_post(request: web.Request) -> web.Response:
    values = (await Form.read(request, *FIELDS)).values
    ticket, problems = await file(request, values)
    if ticket is None:
        return await _page(request, values, problems, status=400)
    await flash(request, f"已登记投诉 {ticket.number}（{INTAKE_CHANNELS[values['channel']]}）。{LINK_HINT}")
    raise see_other(f"/console/tickets/{ticket.id}")


@require_staff()
async def api_intake(request: web.Request) -> web.Response:
    body = await read_json(request)
    ticket, problems = await file(request, body if isinstance(body, dict) else {})
    if ticket is None:
        raise Invalid("登记信息有误：" + "；".join(problems.values()), errors=problems)
    return json_response({"id": ticket.id, "number": ticket.number, "channel": ticket.channel,
                          "phone_masked": ticket.phone_masked, "message": LINK_HINT}, status=201)
