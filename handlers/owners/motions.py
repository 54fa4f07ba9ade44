"""Motions put to the owners (表决事项): creating one, the open/close transitions, turnout while open (per building,
area and headcount, never choices), the tally at the close (rooms frozen, the rule stored with the result, a
notice published with the totals and per-building turnout), a recount from the stored ballots, the ballot list for
the street's archive, and reminders to verified owners who have not voted.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import Content, Scope, create_broadcast
from bot.errors import Conflict, Invalid
from bot.localtime import LOCAL_TZ
from handlers.owners import roster, rules
from storage.models import Estate
from storage.owner_models import Motion
from storage.repositories import owners as repo

log = logging.getLogger("linli.owners")
STATUS_LABELS = {"scheduled": "未开始", "open": "表决中", "closed": "已结束"}
CHANNEL_LABELS = {"chat": "公众号", "paper": "纸质表决票"}
REMIND_GAP = timedelta(hours=24)
NOTICE_CATEGORY = "committee"  # handlers.notices.rules.CATEGORIES: 业委会工作公开 (owners' matters)


def local(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Draft:
    title: str
    body: str
    kind: str
    opens_at: datetime
    closes_at: datetime
    buildings: list[str]


def check_draft(title: str, body: str, kind: str, opens_at: datetime | None, closes_at: datetime | None,
                buildings: list[str], known_buildings: list[str]) -> Draft:
    errors = {}
    title, body = (title or "").strip(), (body or "").strip()
    if not title or len(title) > 200:
        errors["title"] = "请填写标题（最多 200 字）"
    if not body or len(body) > 20000:
        errors["body"] = "请填写表决事项的全文（最多 20000 字）"
    if kind not in rules.KINDS:
        errors["kind"] = "请选择事项类别"
    if opens_at is None or closes_at is None:
        errors["closes_at"] = "请填写开始和截止时间"
    elif closes_at <= opens_at:
        errors["closes_at"] = "截止时间应晚于开始时间"
    unknown = [b for b in buildings if b not in known_buildings]
    if unknown:
        errors["buildings"] = f"名册中没有这些楼：{'、'.join(unknown)}"
    if errors:
        raise Invalid("；".join(errors.values()), errors=errors)
    assert opens_at is not None and closes_at is not None
    return Draft(title, body, kind, opens_at, closes_at, sorted(set(buildings)))


async def create(session: AsyncSession, estate: Estate, draft: Draft, *, author: str, now: datetime) -> Motion:
    if not await repo.buildings_of(session, estate.id):
        raise Invalid("该小区还没有业主名册，请先导入名册（linli roster import）")
    motion = Motion(estate_id=estate.id, community_id=estate.community_id, buildings=draft.buildings,
                    title=draft.title, body=draft.body, kind=draft.kind, opens_at=draft.opens_at,
                    closes_at=draft.closes_at, created_by=author[:64], created_at=now,
                    status="open" if draft.opens_at <= now else "scheduled")
    session.add(motion)
    await session.flush()
    return motion


def is_open(motion: Motion, now: datetime) -> bool:
    return motion.status in ("scheduled", "open") and motion.opens_at <= now < motion.closes_at


async def turnout(session: AsyncSession, motion: Motion) -> dict:
    """Participation while open (or at the close, frozen): totals and per building; never any choice."""
    shares = await _shares(session, motion)
    voted = await repo.voted_room_ids(session, motion.id)
    rows = rules.turnout(shares, voted)
    whole = rules.turnout([replace(s, building="*") for s in shares], voted)
    total = whole[0] if whole else rules.Turnout("*", 0, 0, Fraction(0), Fraction(0), 0, 0)
    return {"buildings": [t.as_dict() for t in rows], "rooms": total.rooms, "voted_rooms": total.voted_rooms,
            "area": rules.area_text(total.area), "voted_area": rules.area_text(total.voted_area),
            "heads": total.heads, "voted_heads": total.voted_heads,
            "area_share": rules.share_text(total.voted_area, total.area),
            "heads_share": rules.share_text(Fraction(total.voted_heads), Fraction(total.heads))}


async def _shares(session: AsyncSession, motion: Motion) -> list[rules.RoomShare]:
    if motion.status == "closed":
        return [rules.RoomShare(r.room_id, r.building, Decimal(r.area_cents) / 100, r.holder)
                for r in await repo.frozen_rooms(session, motion.id)]
    return await roster.shares(session, motion.estate_id, motion.buildings)


async def facts(session: AsyncSession, motion: Motion) -> list[rules.BallotFact]:
    return [rules.BallotFact(b.room_id, b.choice, b.id) for b in await repo.ballots_of(session, motion.id)]


async def recount(session: AsyncSession, motion: Motion) -> dict:
    """The result recomputed from the frozen rooms and the stored ballots under the stored rule."""
    if motion.status != "closed" or motion.rule is None:
        raise Conflict("表决结束后才能复核计票")
    rule, kind = rules.rule_from_dict(motion.rule)
    shares = await _shares(session, motion)
    return rules.tally(shares, await facts(session, motion), kind, rule).as_dict()


async def close(session: AsyncSession, motion: Motion, rule: rules.Rule, now: datetime, *, base_url: str | None,
                settings=None) -> bool:
    """Freeze the rooms, tally, store the rule and result, publish the notice. False when another closed it."""
    if not await repo.set_status(session, motion.id, ("scheduled", "open"), "closed", closed_at=now):
        return False
    await session.refresh(motion)
    shares = await roster.shares(session, motion.estate_id, motion.buildings)
    await repo.freeze_rooms(session, motion.id, [(s.room_id, s.building, int(s.area * 100), s.holder)
                                                 for s in shares])
    result = rules.tally(shares, await facts(session, motion), motion.kind, rule)
    motion.rule = rule.as_dict(motion.kind)
    motion.result = {**result.as_dict(), "verdict": result.verdict(), "turnout": await turnout(session, motion)}
    motion.notice_ref = await publish(session, motion, result, settings=settings, now=now)
    log.info("owners: motion %s closed: %s", motion.id, result.verdict())
    return True


def notice_text(motion: Motion, estate_name: str, result: rules.Tally, turnout_rows: list[dict]) -> tuple:
    area, heads = result.area, result.heads
    title = f"业主共同决定表决结果：{motion.title}"[:120]
    lines = [f"{estate_name}{'（' + '、'.join(b + '号楼' for b in motion.buildings) + '）' if motion.buildings else ''}"
             f"业主表决事项「{motion.title}」已于 {local(motion.closes_at)} 截止，结果：**{result.verdict()}**。",
             "", result.rule.describe(motion.kind), "",
             f"- 专有部分总面积 {rules.area_text(area.total)} 平方米，参与表决 {rules.area_text(area.voted)} 平方米"
             f"（{rules.share_text(area.voted, area.total)}）；同意 {rules.area_text(area.by_choice['yes'])} 平方米"
             f"（占参与表决面积 {rules.share_text(area.by_choice['yes'], area.voted)}），反对 "
             f"{rules.area_text(area.by_choice['no'])}，弃权 {rules.area_text(area.by_choice['abstain'])}。",
             f"- 业主总人数 {int(heads.total)} 人，参与表决 {int(heads.voted)} 人"
             f"（{rules.share_text(heads.voted, heads.total)}）；同意 {int(heads.by_choice['yes'])} 人"
             f"（占参与表决人数 {rules.share_text(heads.by_choice['yes'], heads.voted)}），反对 "
             f"{int(heads.by_choice['no'])} 人，弃权 {int(heads.by_choice['abstain'])} 人。",
             "", "人数按专有部分计算，一名业主拥有多个专有部分的按一人计算，共有一个专有部分的按一人计算。"]
    tables = [{"title": "各楼参与表决情况", "columns": ["楼号", "总面积（㎡）", "参与面积（㎡）", "总人数", "参与人数"],
               "rows": [[f"{t['building']}号楼", t["area"], t["voted_area"], t["heads"], t["voted_heads"]]
                        for t in turnout_rows]}]
    return title, "\n".join(lines), tables


async def publish(session: AsyncSession, motion: Motion, result: rules.Tally, *, settings=None,
                  now: datetime) -> str:
    estate = await session.get(Estate, motion.estate_id)
    assert estate is not None
    rows = (await turnout(session, motion))["buildings"]
    title, body, tables = notice_text(motion, estate.name, result, rows)
    from handlers.notices.service import publish_system_notice

    notice = await publish_system_notice(session, category=NOTICE_CATEGORY, title=title, body=body,
                                         scope_level="estate", scope_ids=[estate.id], author="owners",
                                         source=f"motion:{motion.id}", tables=tables, now=now, settings=settings)
    return f"notice:{notice.id}"


async def open_due(session: AsyncSession, now: datetime) -> list[int]:
    opened = []
    for motion_id in await repo.due_to_open(session, now):
        if await repo.set_status(session, motion_id, ("scheduled",), "open"):
            opened.append(motion_id)
    return opened


async def close_due(session: AsyncSession, now: datetime, rule: rules.Rule, *, settings=None) -> list[int]:
    closed = []
    for motion_id in await repo.due_to_close(session, now):
        motion = await repo.get_motion(session, motion_id)
        if motion is not None and await close(session, motion, rule, now, base_url=None, settings=settings):
            closed.append(motion_id)
    return closed


async def remind_due(session: AsyncSession, now: datetime) -> list[tuple[int, int]]:
    """At most one reminder a day per open motion, to verified owners whose rooms have no ballot yet."""
    sent = []
    for motion in await repo.motions(session, statuses=["open"], limit=1000):
        if motion.closes_at <= now or motion.opens_at + timedelta(hours=12) > now:
            continue
        if not await repo.claim_reminder(session, motion.id, now - REMIND_GAP, now):
            continue
        who = await repo.verified_residents_without_ballot(session, motion)
        if who:
            await create_broadcast(
                session, category="notice", scope=Scope.of_residents([r.id for r in who]),
                content=Content(f"业主表决事项「{motion.title}」将于 {local(motion.closes_at)} 截止，您名下的房屋尚未表决。"
                                "回复「表决」即可参加。", title="业主表决提醒", summary=motion.title[:60]),
                created_by="owners", source=f"motion:{motion.id}:remind:{now:%Y%m%d%H}", now=now)
        sent.append((motion.id, len(who)))
    return sent


async def ballot_rows(session: AsyncSession, motion: Motion) -> list[list]:
    """The ballot list for the archive (staff only): room, area, choice, channel, collector, times."""
    rooms = {r.id: r for r in await repo.rooms_of(session, motion.estate_id)}
    out = []
    for b in await repo.ballots_of(session, motion.id):
        room = rooms.get(b.room_id)
        out.append([room.building if room else "", room.unit if room else "", room.room if room else "",
                    rules.area_text(Decimal(room.area_cents) / 100) if room else "", rules.CHOICES[b.choice],
                    CHANNEL_LABELS.get(b.channel, b.channel), "是" if b.proxy else "", b.collector or "",
                    local(b.cast_at), local(b.updated_at)])
    return out


BALLOT_COLUMNS = ["楼号", "单元", "房号", "专有部分面积（㎡）", "表决意见", "方式", "委托代理", "收票人", "投票时间",
                  "最后修改时间"]
