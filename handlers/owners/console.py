"""The owners' pages of the console: estates with their roster totals, owners waiting for verification (approve
as owner or as proxy, with the evidence seen), motions (create, turnout while open, result when closed, paper
ballots with their collector, the ballot list for the archive), and an estate's roster (rooms with area and
owners, phones masked) with corrections. Every action is audited; every object is in the caller's jurisdiction.
The JSON API is in api.py.
"""
from __future__ import annotations

from pathlib import Path

from aiohttp import web
from sqlalchemy import select

from bot.errors import DomainError, Invalid
from handlers.console.audit import audit
from handlers.console.guard import committee_allowed, current, db, max_body, require_staff
from handlers.console.render import Form, flash, render, see_other
from handlers.console.state import state_of
from handlers.csv_export import csv_response, to_csv
from handlers.media_links import stored_file_response
from handlers.owners import access, api, attachments, evidence, motions, roster, roster_file, rules
from handlers.owners.roster_file import label
from handlers.owners.verify import place
from storage.models import Estate
from storage.owner_models import OwnerEvidence, RosterRoom
from storage.repositories import owners as repo

HERE = Path(__file__).parent
LABELS = {"owners.room": "修改业主名册", "owners.verify": "核验业主身份", "owners.motion": "创建业主表决事项",
          "owners.paper": "录入纸质表决票", "owners.export": "导出业主表决票", "owners.recount": "复核业主表决计票",
          "owners.disclose": "公示维修资金支出", "owners.attachment": "上传表决事项附件",
          "owners.release": "开启业主委员会起草的表决事项", "owners.edit": "修改表决事项草稿",
          "owners.reject": "驳回业主人工核验申请", "owners.evidence": "查看业主核验材料照片",
          "owners.room.delete": "删除业主名册中的房屋", "owners.withdraw": "撤销业主表决事项",
          "owners.close": "提前结束业主表决", "owners.attachment.delete": "删除表决事项附件",
          "owners.roster": "导入业主名册"}
MOTION_FIELDS = ("estate_id", "title", "body", "kind", "opens_at", "closes_at", "buildings", "topic", "works",
                 "budget", "quotes", "candidates", "seats")


async def _index_context(request: web.Request) -> dict:
    session = db(request)
    estates = list(await session.scalars(access.visible_estates_stmt(request)))
    with_rooms = set(await session.scalars(select(RosterRoom.estate_id).distinct()))
    rows = [(e, await roster.totals(session, e.id)) for e in estates if e.id in with_rooms]
    pending = ([] if access.committee_estate(request) is not None  # owners' names are not the committee's to see
               else await repo.pending_links(session, access.estate_ids_stmt(request)))
    found = await repo.motions(session, estate_ids=access.estate_ids_stmt(request), limit=50)
    names = {e.id: e.name for e in estates}
    user, settings = current(request), state_of(request).services.settings
    return {"estates": estates, "rows": rows,
            "pending": [(link, owner, resident, await _owner_rooms(request, owner),
                         evidence.listing(settings, link.id, await repo.evidence_of(session, resident.id),
                                          user.staff.id, user.now))
                        for link, owner, resident in pending],
            "motions": found, "estate_names": names, "kinds": rules.KINDS, "statuses": motions.STATUS_LABELS,
            "topics": rules.TOPICS, "committee": access.committee_estate(request) is not None,
            "roster_problems": [], "roster_more": 0}


async def _owner_rooms(request: web.Request, owner) -> str:
    from handlers.owners.verify import rooms_text

    return await rooms_text(db(request), owner)


@committee_allowed
@require_staff()
async def index_page(request: web.Request) -> web.Response:
    return render(request, "owners/index.html", title="业主共同决定", form=Form({"kind": "ordinary", "topic": "general"}),
                  **await _index_context(request))


@committee_allowed
@require_staff()
async def motion_create(request: web.Request) -> web.Response:
    form = await Form.read(request, *MOTION_FIELDS)
    data: dict = dict(form.values)
    data["details"] = {"works": data.pop("works"), "budget": data.pop("budget"), "quotes": data.pop("quotes"),
                       "candidates": data.pop("candidates"), "seats": data.pop("seats")}
    try:
        motion = await access.create_motion(request, data)
    except Invalid as exc:
        for field, message in (exc.details.get("errors") or {"motion": exc.message}).items():
            form.error(field, message)
        return render(request, "owners/index.html", title="业主共同决定", form=form, errors=form.errors,
                      status=422, **await _index_context(request))
    await audit(db(request), current(request), "owners.motion", f"表决事项 {motion.id} {motion.title}"[:256],
                request, community_id=motion.community_id)
    await flash(request, "已创建表决事项。到开始时间后，已核验的业主回复「表决」即可参加。")
    raise see_other(f"/console/owners/motions/{motion.id}")


@max_body(roster_file.MAX_BYTES + 64 * 1024)
@require_staff()
async def roster_post(request: web.Request) -> web.Response:
    """POST /console/owners/roster: import a roster file (.csv / .xlsx) like `linli roster import`: every row
    checked first, every estate in the caller's jurisdiction, nothing imported on any problem (listed by line)."""
    form = await Form.read(request, "file")
    file = form.file("file")
    data = file.file.read(roster_file.MAX_BYTES + 1) if file is not None else b""
    try:
        summary = await api.import_roster(request, data, (file.filename if file is not None else "") or "roster.csv")
    except Invalid as exc:
        problems = [exc.message, *exc.details.get("problems", [])]
    else:
        await flash(request, summary.describe())
        raise see_other("/console/owners")
    context = {**await _index_context(request), "roster_problems": problems[:200],
               "roster_more": max(0, len(problems) - 200)}
    return render(request, "owners/index.html", title="业主共同决定", form=Form({"kind": "ordinary", "topic": "general"}),
                  status=422, **context)


@require_staff()
async def approve_post(request: web.Request) -> web.Response:
    link, owner = await access.owner_link(request)
    form = await Form.read(request, "proxy_name", "evidence")
    if form.get("evidence") != "on":
        await flash(request, "请先查验房产证等材料，并勾选「已查验」。", "error")
        raise see_other("/console/owners")
    await api.approve(request, link, owner, form.get("proxy_name") or None)
    await flash(request, f"已核验：{owner.name}" + (f"（委托代理人 {form.get('proxy_name')}）"
                                                  if form.get("proxy_name") else ""))
    raise see_other("/console/owners")


@require_staff()
async def reject_post(request: web.Request) -> web.Response:
    """POST /console/owners/links/{link_id}/reject: refuse a resident's request for staff verification."""
    link, owner = await access.owner_link(request)
    form = await Form.read(request, "reason")
    try:
        await api.reject(request, link, owner, form.get("reason"))
    except DomainError as exc:
        await flash(request, exc.message, "error")
        raise see_other("/console/owners") from None
    await flash(request, f"已驳回：{owner.name} 的核验申请（材料照片已删除，已通知居民）")
    raise see_other("/console/owners")


@require_staff()
async def revoke_post(request: web.Request) -> web.Response:
    """POST /console/owners/links/{link_id}/revoke: withdraw a verification found wrong (from the roster page)."""
    link, owner = await access.owner_link(request)
    form = await Form.read(request, "reason")
    back = f"/console/owners/estates/{owner.estate_id}"
    try:
        voided = await api.revoke(request, link, owner, form.get("reason"))
    except DomainError as exc:
        await flash(request, exc.message, "error")
        raise see_other(back) from None
    await flash(request, f"已撤销 {owner.name} 的业主身份核验并通知居民" + (f"，作废进行中表决的选票 {voided} 张" if voided else "")
                + "。")
    raise see_other(back)


@require_staff()
async def evidence_view(request: web.Request) -> web.StreamResponse:
    """GET /console/owners/links/{link_id}/evidence/{token}: a photo the resident sent for their request, by a
    signed link made for this staff account (30 minutes); 404 for anyone else, or once it is deleted."""
    link, owner = await access.owner_link(request)
    user, services = current(request), state_of(request).services
    row_id = evidence.read_staff_link(services.settings, request.match_info.get("token", ""), user.staff.id,
                                      user.now)
    item = await db(request).get(OwnerEvidence, row_id) if row_id else None
    if (item is None or item.resident_id != link.resident_id or link.status != "unverified"
            or item.status != "stored" or not item.key or evidence.photo_extension(item.content_type) is None):
        raise web.HTTPNotFound(text="照片不存在、已删除或链接已过期")
    estate = await db(request).get(Estate, owner.estate_id)
    await audit(db(request), user, "owners.evidence", f"业主 {owner.id}，核验记录 {link.id}，照片 {item.id}", request,
                community_id=estate.community_id if estate else None)
    return await stored_file_response(services, item.key, item.size, item.content_type,
                                      f"evidence-{item.id}.{evidence.photo_extension(item.content_type)}", inline=True)


@committee_allowed
@require_staff()
async def motion_page(request: web.Request) -> web.Response:
    motion = await access.motion(request)
    session = db(request)
    estate = await session.get(Estate, motion.estate_id)
    return render(request, "owners/motion.html", title=motion.title, m=motion, estate=estate,
                  turnout=await motions.turnout(session, motion), kinds=rules.KINDS, choices=_paper_choices(motion),
                  topics=rules.TOPICS,
                  statuses=motions.STATUS_LABELS, rule_text=_rule_text(request, motion),
                  is_open=motions.is_open(motion, current(request).now), form=Form(),
                  can_export=api.can_export(request),
                  attachments=attachments.listing(await repo.attachments_of(session, motion.id), motion.id),
                  can_delete_files=not attachments.locked(motion, current(request).now),
                  can_attach=attachments.refusal(motion, "application/pdf", 1, 0, current(request).now) is None,
                  purposes=attachments.PURPOSES, committee=access.committee_estate(request) is not None,
                  local=motions.local_input)


def _paper_choices(motion) -> list[tuple[str, str]]:
    if motion.topic != "election":
        return list(rules.CHOICES.items())
    details = motion.details or {}
    names, seats = list(details.get("candidates") or []), int(details.get("seats") or 1)
    options = [("abstain", "弃权")]
    if seats == 1 or len(names) <= 6:  # every combination up to the seats (small elections); else the API
        from itertools import combinations

        for size in range(1, seats + 1):
            for combo in combinations(range(len(names)), size):
                options.append(("c:" + ",".join(map(str, combo)), "、".join(names[i] for i in combo)))
    return options


@committee_allowed
@require_staff()
async def edit_post(request: web.Request) -> web.Response:
    """POST /console/owners/motions/{motion_id}/edit: change a draft (the committee's, before staff open it)."""
    motion = await access.motion(request)
    form = await Form.read(request, *MOTION_FIELDS)
    data: dict = dict(form.values)
    data["details"] = {"works": data.pop("works"), "budget": data.pop("budget"), "quotes": data.pop("quotes"),
                       "candidates": data.pop("candidates"), "seats": data.pop("seats")}
    try:
        await access.edit_draft(request, motion, data)
    except DomainError as exc:
        await flash(request, exc.message, "error")
        raise see_other(f"/console/owners/motions/{motion.id}") from None
    await audit(db(request), current(request), "owners.edit", f"表决事项 {motion.id} {motion.title}"[:256],
                request, community_id=motion.community_id)
    await flash(request, "已修改草稿。")
    raise see_other(f"/console/owners/motions/{motion.id}")


@require_staff()
async def release_post(request: web.Request) -> web.Response:
    """POST /console/owners/motions/{motion_id}/release: staff open a motion the owners' committee drafted."""
    motion = await access.motion(request)
    try:
        await api.release(request, motion)
    except DomainError as exc:
        await flash(request, exc.message, "error")
        raise see_other(f"/console/owners/motions/{motion.id}") from None
    await flash(request, "已开启：到开始时间后，已核验的业主即可表决。")
    raise see_other(f"/console/owners/motions/{motion.id}")


async def _motion_action(request: web.Request, action, done: str, *fields: str) -> web.Response:
    motion = await access.motion(request)
    form = await Form.read(request, *fields)
    try:
        await action(request, motion, *[form.get(f) for f in fields])
    except DomainError as exc:
        await flash(request, exc.message, "error")
        raise see_other(f"/console/owners/motions/{motion.id}") from None
    await flash(request, done)
    raise see_other(f"/console/owners/motions/{motion.id}")


@committee_allowed
@require_staff()
async def withdraw_post(request: web.Request) -> web.Response:
    """POST /console/owners/motions/{motion_id}/withdraw: 撤销, with a reason."""
    return await _motion_action(request, api.withdraw, "已撤销。已开始的表决不再计票，已表决的业主会收到通知，撤销公告已发布。",
                                "reason")


@require_staff()
async def close_post(request: web.Request) -> web.Response:
    """POST /console/owners/motions/{motion_id}/close: close early (every room in scope has voted)."""
    return await _motion_action(request, api.close_early, "已提前结束表决，结果已计出并公示。")


@require_staff()
async def disclose_post(request: web.Request) -> web.Response:
    motion = await access.motion(request)
    form = await Form.read(request, "text")
    try:
        ref = await api.disclose(request, motion, form.get("text"))
    except DomainError as exc:
        await flash(request, exc.message, "error")
        raise see_other(f"/console/owners/motions/{motion.id}") from None
    await flash(request, f"已公示维修资金支出（{ref}）。")
    raise see_other(f"/console/owners/motions/{motion.id}")


def _rule_text(request: web.Request, motion) -> str:
    if motion.rule:
        rule, kind = rules.rule_from_dict(motion.rule)
        return rule.describe(kind)
    return api.rule_of(request).describe(motion.kind)


@require_staff()
async def paper_post(request: web.Request) -> web.Response:
    motion = await access.motion(request)
    form = await Form.read(request, "building", "unit", "room", "choice", "collector", "proxy")
    try:
        room = await _room_by_labels(request, motion.estate_id, form)
        cast = await api.paper(request, motion, room.id, form.get("choice"), form.get("collector"),
                               form.get("proxy") == "on")
    except DomainError as exc:
        await flash(request, exc.message, "error")
        raise see_other(f"/console/owners/motions/{motion.id}") from None
    await flash(request, f"{place(room)}：" + api.PAPER_OUTCOME[cast.outcome],
                "ok" if cast.outcome != "taken" else "error")
    raise see_other(f"/console/owners/motions/{motion.id}")


async def _room_by_labels(request: web.Request, estate_id: int, form: Form) -> RosterRoom:
    building, unit, number = label(form.get("building")), label(form.get("unit")), label(form.get("room"))
    found = await db(request).scalar(select(RosterRoom).where(
        RosterRoom.estate_id == estate_id, RosterRoom.building == building, RosterRoom.unit == unit,
        RosterRoom.room == number))
    if found is None:
        raise Invalid("名册中没有这套房屋，请核对楼号、单元和房号")
    return found


@require_staff(access.EXPORT_LEVEL)
async def export_page(request: web.Request) -> web.Response:
    motion = await access.motion(request)
    rows = await api.export_rows(request, motion)
    return csv_response(to_csv([motions.BALLOT_COLUMNS, *rows]), f"motion-{motion.id}-ballots.csv")


@require_staff()
async def estate_page(request: web.Request) -> web.Response:
    estate = await access.estate(request)
    session = db(request)
    buildings = sorted(await repo.buildings_of(session, estate.id), key=lambda b: rules.building_order(b))
    chosen = request.query.get("building")
    if chosen not in buildings:
        chosen = buildings[0] if buildings else None
    rooms = await api.room_rows(session, estate.id, [chosen] if chosen else [])
    return render(request, "owners/estate.html", title=f"{estate.name} 业主名册", estate=estate,
                  totals=await roster.totals(session, estate.id), buildings=buildings, chosen=chosen, rooms=rooms,
)


@require_staff()
async def room_delete_post(request: web.Request) -> web.Response:
    """POST /console/owners/rooms/{room_id}/delete"""
    room = await access.room(request)
    await Form.read(request)
    estate_id, building, where = room.estate_id, room.building, place(room)
    try:
        households = await api.delete_room(request, room)
    except DomainError as exc:
        await flash(request, f"{where}：{exc.message}", "error")
        raise see_other(f"/console/owners/estates/{estate_id}?building={building}") from None
    await flash(request, f"已删除 {where}。小区现有 {households} 户。")
    raise see_other(f"/console/owners/estates/{estate_id}?building={building}")


@require_staff()
async def room_post(request: web.Request) -> web.Response:
    room = await access.room(request)
    form = await Form.read(request, "area", "owners")
    try:
        changes = await api.correct(request, room, form.get("area"), form.values.get("owners", ""))
    except DomainError as exc:
        await flash(request, exc.message, "error")
        raise see_other(f"/console/owners/estates/{room.estate_id}?building={room.building}") from None
    await flash(request, f"{place(room)}：" + ("；".join(changes) if changes else "没有改动"))
    raise see_other(f"/console/owners/estates/{room.estate_id}?building={room.building}")


def console(registry) -> None:
    registry.labels(LABELS)
    registry.templates(HERE / "templates")
    registry.openapi(HERE / "openapi.yaml")
    registry.nav("业主表决", "/console/owners", order=42)
    registry.page("GET", "/owners", index_page)
    registry.page("POST", "/owners/motions", motion_create)
    registry.page("POST", "/owners/roster", roster_post)
    registry.page("POST", "/owners/links/{link_id}/approve", approve_post)
    registry.page("POST", "/owners/links/{link_id}/reject", reject_post)
    registry.page("POST", "/owners/links/{link_id}/revoke", revoke_post)
    registry.page("GET", "/owners/links/{link_id}/evidence/{token}", evidence_view)
    registry.page("GET", "/owners/motions/{motion_id}", motion_page)
    registry.page("POST", "/owners/motions/{motion_id}/paper", paper_post)
    registry.page("GET", "/owners/motions/{motion_id}/ballots.csv", export_page)
    registry.page("POST", "/owners/motions/{motion_id}/disclosure", disclose_post)
    registry.page("POST", "/owners/motions/{motion_id}/release", release_post)
    registry.page("POST", "/owners/motions/{motion_id}/edit", edit_post)
    registry.page("POST", "/owners/motions/{motion_id}/withdraw", withdraw_post)
    registry.page("POST", "/owners/motions/{motion_id}/close", close_post)
    registry.page("POST", "/owners/motions/{motion_id}/attachments", attachments.upload)
    registry.page("GET", "/owners/motions/{motion_id}/attachments/{attachment_id}", attachments.download)
    registry.page("POST", "/owners/motions/{motion_id}/attachments/{attachment_id}/delete", attachments.delete_post)
    registry.page("GET", "/owners/estates/{estate_id}", estate_page)
    registry.page("POST", "/owners/rooms/{room_id}", room_post)
    registry.page("POST", "/owners/rooms/{room_id}/delete", room_delete_post)
    for method, path, handler in api.ROUTES:
        registry.api(method, path, handler)
