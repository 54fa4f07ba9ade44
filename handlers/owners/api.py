"""JSON API under /api/v1/owners (Bearer tokens), documented in openapi.yaml beside this file, and the actions
the console pages share with it (each audited).

    GET  /owners/estates/{estate_id}/roster?building=   totals and rooms (owners' phones masked)
    POST /owners/roster                                  import a roster file (base64), as `linli roster import`
    POST /owners/rooms/{room_id}                         correct a room's area and/or owners
    GET  /owners/links                                   residents waiting for staff verification
    POST /owners/links/{link_id}/approve                 verify as owner, or as proxy (proxy_name)
    POST /owners/links/{link_id}/reject                  refuse the resident's request (their evidence deleted)
    POST /owners/links/{link_id}/revoke                  withdraw a verification found wrong (open ballots void)
    GET  /owners/motions                                 motions in the jurisdiction
    POST /owners/motions                                 create a motion
    GET  /owners/motions/{motion_id}                     the motion, turnout (never choices) and, closed, the result
    POST /owners/motions/{motion_id}/ballots             enter a paper ballot (with its collector)
    DELETE /owners/rooms/{room_id}                       delete a room (none of its ballots in any motion)
    POST /owners/motions/{motion_id}/withdraw            withdraw (撤销) a motion not yet closed, with a reason
    POST /owners/motions/{motion_id}/close               close early (every room in scope has voted)
    DELETE /owners/motions/{motion_id}/attachments/{id}  delete a file before the motion opens
    GET  /owners/motions/{motion_id}/recount             the result recomputed from the stored ballots
    GET  /owners/motions/{motion_id}/ballots             the ballot list for the archive (street level and above)
"""
from __future__ import annotations

import base64
from decimal import Decimal

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict, DomainError, Forbidden, Invalid
from handlers.console.api import json_response, read_json
from handlers.console.audit import audit
from handlers.console.authz import at_least
from handlers.console.guard import committee_allowed, current, db, max_body, require_staff
from handlers.console.state import state_of
from handlers.csv_export import csv_response, to_csv
from handlers.owners import access, attachments, evidence, motions, roster, roster_file, rules, verify, voting
from handlers.owners.verify import place
from storage.models import Estate, Resident
from storage.owner_models import Motion, OwnerLink, RosterOwner, RosterRoom
from storage.repositories import owners as repo

PAPER_OUTCOME = {"new": "纸质表决票已录入", "changed": "已更正该房屋的纸质表决票", "same": "与已录入的纸质表决票相同",
                 "taken": "该房屋已在公众号表决，以最先确认的一票为准，纸质票不计入"}


def rule_of(request: web.Request) -> rules.Rule:
    services = state_of(request).services
    found = services.extras.get("owners.rule")
    if found is None:
        try:
            found = services.extras["owners.rule"] = rules.load_rule(services.settings.owners_city)
        except rules.RuleError as exc:
            raise DomainError(f"业主表决规则有误（LINLI_OWNERS_CITY）：{exc}", 503) from None
    return found


def can_export(request: web.Request) -> bool:
    return at_least(current(request).level, access.EXPORT_LEVEL)


# ----- shared actions --------------------------------------------------------------------------------------------

async def approve(request: web.Request, link: OwnerLink, owner: RosterOwner, proxy_name: str | None) -> None:
    user = current(request)
    await verify.approve(db(request), link, staff=f"staff:{user.staff.username}", proxy_name=proxy_name,
                         now=user.now)
    photos = await evidence.delete_now(state_of(request).services, db(request), link.resident_id)
    await verify.tell(db(request), link.resident_id, "您的业主身份已由社区工作人员核验" + (
        "（登记为业主委托代理人）" if proxy_name else "") + "。回复「表决」可参加进行中的业主表决。", user.now)
    estate = await db(request).get(Estate, owner.estate_id)
    await audit(db(request), user, "owners.verify",
                f"业主 {owner.id}（{'委托代理人' if proxy_name else '本人'}），核验记录 {link.id}"
                + (f"，材料照片 {photos} 张已删除" if photos else ""), request,
                community_id=estate.community_id if estate else None)


async def reject(request: web.Request, link: OwnerLink, owner: RosterOwner, reason: str | None) -> int:
    """Refuse a resident's request for staff verification: their unverified links in the estate go, their photos
    are deleted, they are told (with the reason). Returns how many requests (links) were withdrawn."""
    user = current(request)
    reason = " ".join(str(reason or "").split())[:200]
    if link.status == "verified":
        raise Conflict("已核验的业主不能驳回；如核验有误，请在小区业主名册中「撤销核验」")
    removed = await verify.refuse(db(request), link.resident_id, owner.estate_id)
    photos = await evidence.delete_now(state_of(request).services, db(request), link.resident_id)
    await verify.tell(db(request), link.resident_id, "您的业主身份人工核验申请未通过" + (f"：{reason}" if reason else "")
                      + "。如有疑问请联系社区工作人员，或回复「核验」重新申请。", user.now)
    estate = await db(request).get(Estate, owner.estate_id)
    await audit(db(request), user, "owners.reject",
                f"业主 {owner.id}，核验记录 {link.id}：驳回 {removed} 项申请，材料照片 {photos} 张已删除"
                + (f"（{reason}）" if reason else ""), request,
                community_id=estate.community_id if estate else None)
    return removed


async def revoke(request: web.Request, link: OwnerLink, owner: RosterOwner, reason: str | None) -> int:
    """Withdraw a verification found wrong: the resident is 未核验 again and told why; their chat ballots in open
    motions for the owner's rooms are void. Returns how many ballots were voided."""
    user = current(request)
    reason = " ".join(str(reason or "").split())[:200]
    if not reason:
        raise Invalid("请写明撤销核验的原因（推送给居民，记入操作日志）", errors={"reason": "请填写原因"})
    voided = await verify.revoke(db(request), link)
    await verify.tell(db(request), link.resident_id, f"社区工作人员撤销了您的业主身份核验：{reason}"
                      + ("。您在进行中的表决里投出的选票已作废" if voided else "")
                      + "。如有疑问请联系社区工作人员，或回复「核验」重新申请。", user.now)
    estate = await db(request).get(Estate, owner.estate_id)
    await audit(db(request), user, "owners.revoke",
                f"业主 {owner.id}，核验记录 {link.id}：撤销核验（{reason}）" + (f"，作废选票 {voided} 张" if voided else ""),
                request, community_id=estate.community_id if estate else None)
    return voided


async def paper(request: web.Request, motion: Motion, room_id: int, choice: str, collector: str, proxy: bool):
    user = current(request)
    cast = await voting.cast_paper(db(request), motion, room_id, choice, collector=collector,
                                   staff=f"staff:{user.staff.username}", proxy=proxy, now=user.now)
    await audit(db(request), user, "owners.paper", f"表决事项 {motion.id} 房屋 {room_id}：{cast.outcome}", request,
                community_id=motion.community_id)
    return cast


async def export_rows(request: web.Request, motion: Motion) -> list[list]:
    if not can_export(request):
        raise Forbidden("表决票清单由街道及以上工作人员导出存档")
    if motion.status != "closed":
        raise Conflict("表决结束后才能导出表决票清单（进行中只公布参与情况，不公布任何人的表决意见）")
    rows = await motions.ballot_rows(db(request), motion)
    await audit(db(request), current(request), "owners.export", f"表决事项 {motion.id}：{len(rows)} 张", request,
                community_id=motion.community_id)
    return rows


async def correct(request: web.Request, room: RosterRoom, area: str | None, owners_text: str | None) -> list[str]:
    user = current(request)
    changes = await roster.correct_room(db(request), room, area=area, owners_text=owners_text, now=user.now)
    if changes:
        estate = await db(request).get(Estate, room.estate_id)
        await audit(db(request), user, "owners.room", f"{place(room)}：{'；'.join(changes)}"[:256], request,
                    community_id=estate.community_id if estate else None)
    return changes


async def import_roster(request: web.Request, data: bytes, filename: str) -> roster.ImportSummary:
    """A roster file as `linli roster import` reads it (the same parser, every row checked first, nothing written
    on any problem), each estate in the caller's jurisdiction; audited. Raises Invalid listing the problems."""
    if not data:
        raise Invalid("请选择名册文件（.csv 或 .xlsx）", problems=[])
    if len(data) > roster_file.MAX_BYTES:
        raise Invalid(f"文件超过 {roster_file.MAX_BYTES // (1024 * 1024)} MB，请按小区分成几个文件导入", problems=[])
    session, user = db(request), current(request)
    allowed = set(await session.scalars(access.estate_ids_stmt(request)))
    try:
        summary = await roster.apply_plan(session, roster_file.parse(data, filename), user.now, allowed_estates=allowed)
    except roster_file.RosterFileError as exc:
        raise Invalid(exc.message, problems=exc.problems) from None
    await audit(session, user, "owners.roster", f"{filename[:80]}：{summary.describe()}"[:256], request)
    return summary


async def delete_room(request: web.Request, room: RosterRoom) -> int:
    user = current(request)
    where = place(room)
    estate = await db(request).get(Estate, room.estate_id)
    community_id = estate.community_id if estate else None
    households = await roster.delete_room(db(request), room)
    await audit(db(request), user, "owners.room.delete", f"删除房屋 {room.id} {where}"[:256], request,
                community_id=community_id)
    return households


async def withdraw(request: web.Request, motion: Motion, reason: str | None) -> int:
    user = current(request)
    if access.committee_estate(request) is not None and motion.status != "draft":
        raise Forbidden("业主委员会只能撤销自己尚未开启的草稿；已开启的表决由街道或社区工作人员撤销")
    told = await motions.withdraw(db(request), motion, reason or "", user.now, by=f"staff:{user.staff.username}",
                                  settings=state_of(request).services.settings)
    await audit(db(request), user, "owners.withdraw",
                f"表决事项 {motion.id} {motion.title}：撤销（{(motion.result or {}).get('withdrawn', {}).get('reason', '')}）"
                [:256], request, community_id=motion.community_id)
    return told


async def close_early(request: web.Request, motion: Motion) -> None:
    user = current(request)
    await motions.close_early(db(request), motion, rule_of(request), user.now, by=f"staff:{user.staff.username}",
                              settings=state_of(request).services.settings)
    await audit(db(request), user, "owners.close", f"表决事项 {motion.id} {motion.title}：提前结束"[:256], request,
                community_id=motion.community_id)


async def room_rows(session: AsyncSession, estate_id: int, buildings: list[str]) -> list[dict]:
    owners = {o.id: o for o in await repo.owners_of(session, estate_id)}
    verified: dict[int, list[dict]] = {}
    for link in await repo.verified_links_of(session, list(owners)):
        verified.setdefault(link.owner_id, []).append({"link_id": link.id, "method": link.method,
                                                       "proxy_name": link.proxy_name})
    out = []
    for row in sorted(await repo.share_rows(session, estate_id, buildings),
                      key=lambda r: (rules.building_order(r.building), r.unit, r.room)):
        out.append({"id": row.room_id, "building": row.building, "unit": row.unit, "room": row.room,
                    "area": rules.area_text(Decimal(row.area_cents) / 100),
                    "owners": [{"id": o, "name": owners[o].name, "phone_masked": owners[o].phone_masked,
                                "verified": verified.get(o, [])} for o in row.owner_ids if o in owners]})
    return out


def motion_json(m: Motion) -> dict:
    return {"id": m.id, "estate_id": m.estate_id, "community_id": m.community_id, "buildings": list(m.buildings),
            "title": m.title, "body": m.body, "kind": m.kind, "topic": m.topic, "details": m.details,
            "disclosure_ref": m.disclosure_ref, "status": m.status, "opens_at": m.opens_at,
            "closes_at": m.closes_at, "created_by": m.created_by, "closed_at": m.closed_at, "rule": m.rule,
            "result": m.result, "notice_ref": m.notice_ref}


# ----- routes ----------------------------------------------------------------------------------------------------

@require_staff()
async def api_roster(request: web.Request) -> web.Response:
    estate = await access.estate(request)
    session = db(request)
    building = request.query.get("building")
    return json_response({"estate_id": estate.id, "totals": (await roster.totals(session, estate.id)).as_dict(),
                          "buildings": await repo.buildings_of(session, estate.id),
                          "rooms": await room_rows(session, estate.id, [building] if building else [])})


@require_staff()
async def api_room(request: web.Request) -> web.Response:
    room = await access.room(request)
    body = await read_json(request)
    changes = await correct(request, room, body.get("area"), body.get("owners"))
    rows = [r for r in await room_rows(db(request), room.estate_id, [room.building]) if r["id"] == room.id]
    return json_response({"changes": changes, "room": rows[0] if rows else None})


@max_body(roster_file.MAX_BYTES * 4 // 3 + 64 * 1024)
@require_staff()
async def api_roster_import(request: web.Request) -> web.Response:
    body = await read_json(request)
    filename = str(body.get("filename") or "roster.csv")[:200]
    try:
        data = base64.b64decode(str(body.get("content_base64") or ""), validate=True)
    except (ValueError, TypeError):
        raise Invalid("content_base64 不是有效的 base64", problems=[]) from None
    summary = await import_roster(request, data, filename)
    return json_response({"message": summary.describe(), "rows": summary.rows, "estates": summary.estates,
                          "rooms_new": summary.rooms_new, "rooms_changed": summary.rooms_changed,
                          "owners_new": summary.owners_new, "repeated": summary.repeated})


@require_staff()
async def api_room_delete(request: web.Request) -> web.Response:
    room = await access.room(request)
    room_id = room.id
    return json_response({"deleted": room_id, "households": await delete_room(request, room)})


@require_staff()
async def api_links(request: web.Request) -> web.Response:
    found = await repo.pending_links(db(request), access.estate_ids_stmt(request))
    return json_response({"items": [await _link_json(request, link, owner, resident)
                                    for link, owner, resident in found]})


async def _link_json(request: web.Request, link: OwnerLink, owner: RosterOwner, resident: Resident) -> dict:
    return {"id": link.id, "status": link.status, "owner_id": owner.id, "owner_name": owner.name,
            "phone_masked": owner.phone_masked, "owner_rooms": await verify.rooms_text(db(request), owner),
            "resident_building": resident.building, "resident_room": resident.room, "created_at": link.created_at,
            "evidence_photos": len(await repo.evidence_of(db(request), resident.id))}


@require_staff()
async def api_approve(request: web.Request) -> web.Response:
    link, owner = await access.owner_link(request)
    body = await read_json(request)
    if body.get("evidence_seen") is not True:
        raise Forbidden("请先查验房产证等材料（evidence_seen: true）")
    await approve(request, link, owner, body.get("proxy_name"))
    return json_response({"id": link.id, "status": link.status, "method": link.method,
                          "proxy_name": link.proxy_name})


@require_staff()
async def api_reject(request: web.Request) -> web.Response:
    link, owner = await access.owner_link(request)
    body = await read_json(request) if request.body_exists else {}
    reason = body.get("reason")
    removed = await reject(request, link, owner, reason if isinstance(reason, str) else None)
    return json_response({"id": link.id, "status": "rejected", "requests_withdrawn": removed})


@require_staff()
async def api_revoke(request: web.Request) -> web.Response:
    link, owner = await access.owner_link(request)
    body = await read_json(request)
    reason = body.get("reason")
    link_id = link.id
    voided = await revoke(request, link, owner, reason if isinstance(reason, str) else None)
    return json_response({"id": link_id, "status": "revoked", "ballots_voided": voided})


@committee_allowed
@require_staff()
async def api_motions(request: web.Request) -> web.Response:
    status = request.query.get("status")
    found = await repo.motions(db(request), estate_ids=access.estate_ids_stmt(request),
                               statuses=[status] if status in motions.STATUS_LABELS else [], limit=200)
    return json_response({"items": [motion_json(m) for m in found]})


@committee_allowed
@require_staff()
async def api_create(request: web.Request) -> web.Response:
    motion = await access.create_motion(request, await read_json(request))
    await audit(db(request), current(request), "owners.motion", f"表决事项 {motion.id} {motion.title}"[:256],
                request, community_id=motion.community_id)
    return json_response(motion_json(motion), 201)


@committee_allowed
@require_staff()
async def api_motion(request: web.Request) -> web.Response:
    motion = await access.motion(request)
    return json_response({**motion_json(motion), "turnout": await motions.turnout(db(request), motion)})


async def release(request: web.Request, motion: Motion) -> str:
    new = await motions.release(db(request), motion, current(request).now)
    await audit(db(request), current(request), "owners.release", f"表决事项 {motion.id} {motion.title}"[:256],
                request, community_id=motion.community_id)
    return new


@require_staff()
async def api_release(request: web.Request) -> web.Response:
    motion = await access.motion(request)
    await release(request, motion)
    return json_response(motion_json(motion))


@committee_allowed
@require_staff()
async def api_withdraw(request: web.Request) -> web.Response:
    motion = await access.motion(request)
    body = await read_json(request)
    reason = body.get("reason")
    await withdraw(request, motion, reason if isinstance(reason, str) else None)
    return json_response(motion_json(motion))


@require_staff()
async def api_close(request: web.Request) -> web.Response:
    motion = await access.motion(request)
    await close_early(request, motion)
    return json_response(motion_json(motion))


@require_staff()
async def api_paper(request: web.Request) -> web.Response:
    motion = await access.motion(request)
    body = await read_json(request)
    cast = await paper(request, motion, int(body["room_id"]), body["choice"], body.get("collector") or "",
                       bool(body.get("proxy")))
    return json_response({"outcome": cast.outcome, "message": PAPER_OUTCOME[cast.outcome]},
                         201 if cast.outcome == "new" else 200)


async def disclose(request: web.Request, motion: Motion, text: str) -> str:
    user = current(request)
    ref = await motions.disclose(db(request), motion, text, author=f"staff:{user.staff.username}", now=user.now,
                                 settings=state_of(request).services.settings)
    await audit(db(request), user, "owners.disclose", f"表决事项 {motion.id} → {ref}", request,
                community_id=motion.community_id)
    return ref


@require_staff()
async def api_disclose(request: web.Request) -> web.Response:
    motion = await access.motion(request)
    body = await read_json(request)
    return json_response({"disclosure_ref": await disclose(request, motion, body["text"])}, 201)


@committee_allowed
@require_staff()
async def api_recount(request: web.Request) -> web.Response:
    motion = await access.motion(request)
    result = await motions.recount(db(request), motion)
    stored = {k: (motion.result or {}).get(k) for k in result}
    await audit(db(request), current(request), "owners.recount", f"表决事项 {motion.id}", request,
                community_id=motion.community_id)
    return json_response({"recount": result, "matches": stored == result})


@require_staff(access.EXPORT_LEVEL)
async def api_ballots(request: web.Request) -> web.Response:
    motion = await access.motion(request)
    rows = await export_rows(request, motion)
    if request.query.get("format") == "csv":
        return csv_response(to_csv([motions.BALLOT_COLUMNS, *rows]), f"motion-{motion.id}-ballots.csv")
    return json_response({"columns": motions.BALLOT_COLUMNS, "rows": rows})


ROUTES = [
    ("GET", "/owners/estates/{estate_id}/roster", api_roster),
    ("POST", "/owners/roster", api_roster_import),
    ("POST", "/owners/rooms/{room_id}", api_room),
    ("DELETE", "/owners/rooms/{room_id}", api_room_delete),
    ("GET", "/owners/links", api_links),
    ("POST", "/owners/links/{link_id}/approve", api_approve),
    ("POST", "/owners/links/{link_id}/revoke", api_revoke),
    ("POST", "/owners/links/{link_id}/reject", api_reject),
    ("GET", "/owners/motions", api_motions),
    ("POST", "/owners/motions", api_create),
    ("GET", "/owners/motions/{motion_id}", api_motion),
    ("POST", "/owners/motions/{motion_id}/ballots", api_paper),
    ("POST", "/owners/motions/{motion_id}/release", api_release),
    ("POST", "/owners/motions/{motion_id}/withdraw", api_withdraw),
    ("POST", "/owners/motions/{motion_id}/close", api_close),
    ("POST", "/owners/motions/{motion_id}/disclosure", api_disclose),
    ("GET", "/owners/motions/{motion_id}/recount", api_recount),
    ("GET", "/owners/motions/{motion_id}/ballots", api_ballots),
    ("GET", "/owners/motions/{motion_id}/attachments", attachments.api_list),
    ("DELETE", "/owners/motions/{motion_id}/attachments/{attachment_id}", attachments.api_delete),
]
