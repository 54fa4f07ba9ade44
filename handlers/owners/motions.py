"""Motions put to the owners (表决事项): creating one, the open/close transitions, turnout while open (per building,
area and headcount, never choices), the tally at the close (rooms frozen, the rule stored with the result, a
notice published with the totals and per-building turnout), a recount from the stored ballots, the ballot list for
the street's archive, and reminders to verified owners who have not voted. A motion may be withdrawn (撤销)
before its close, with a reason (once it opened: no tally, the owners who voted are told, a notice says so), and
closed early only when every room in its scope has voted (docs/owners-votes.md).
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
from bot.localtime import LOCAL_TZ, local_text
from handlers.owners import committee, roster, rules
from storage.models import Estate
from storage.owner_models import Motion
from storage.repositories import owners as repo

log = logging.getLogger("linli.owners")
STATUS_LABELS = {"draft": "待开启（业主委员会起草）", "scheduled": "未开始", "open": "表决中", "closed": "已结束",
                 "withdrawn": "已撤销"}
WITHDRAWABLE = ("draft", "scheduled", "open")
CHANNEL_LABELS = {"chat": "公众号", "paper": "纸质表决票"}
REMIND_GAP = timedelta(hours=24)
NOTICE_CATEGORY = "committee"  # handlers.notices.rules.CATEGORIES: 业委会工作公开 (owners' matters)


def local_input(moment: datetime) -> str:
    """A moment as a datetime-local form value (Beijing time)."""
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")


def local(moment: datetime) -> str:
    """A moment as residents and staff read it (bot.localtime's one formatter)."""
    return local_text(moment)


@dataclass(frozen=True)
class Draft:
    title: str
    body: str
    kind: str
    opens_at: datetime
    closes_at: datetime
    buildings: list[str]
    topic: str = "general"
    details: dict | None = None


def _texts(raw, limit: int, each: int) -> list[str] | None:
    if isinstance(raw, str):
        raw = [p for p in raw.replace("，", ",").replace("、", ",").replace("\n", ",").split(",")]
    if not isinstance(raw, list):
        return None
    items = [str(x).strip() for x in raw if str(x).strip()]
    return items if len(items) <= limit and all(len(x) <= each for x in items) else None


def check_details(topic: str, details: dict | None, errors: dict) -> dict | None:
    """The topic's own fields: a repair fund's works, budget and quotes; an election's candidates and seats."""
    details = details if isinstance(details, dict) else {}
    if topic == "repair_fund":
        works, budget = str(details.get("works") or "").strip(), str(details.get("budget") or "").strip()
        quotes = _texts(details.get("quotes") or [], 10, 200)
        if not works or len(works) > 2000:
            errors["works"] = "请填写维修工程内容（最多 2000 字）"
        if not budget or len(budget) > 64:
            errors["budget"] = "请填写预算金额（最多 64 字）"
        if quotes is None:
            errors["quotes"] = "报价最多 10 条，每条最多 200 字"
        return {"works": works, "budget": budget, "quotes": quotes or []}
    if topic == "election":
        candidates = _texts(details.get("candidates") or [], rules.MAX_CANDIDATES, 32)
        raw_seats = details.get("seats")
        seats = int(raw_seats) if isinstance(raw_seats, int) or (isinstance(raw_seats, str) and raw_seats.isascii()
                                                                 and raw_seats.isdigit() and len(raw_seats) < 4) \
            else 0
        if not candidates:
            errors["candidates"] = f"请填写候选人（1–{rules.MAX_CANDIDATES} 人，每人最多 32 字）"
        elif len(set(candidates)) != len(candidates):
            errors["candidates"] = "候选人姓名重复"
        elif not 1 <= seats <= len(candidates):
            errors["seats"] = "应选名额应为 1 到候选人数之间"
        return {"candidates": candidates or [], "seats": seats}
    return None


def check_draft(title: str, body: str, kind: str, opens_at: datetime | None, closes_at: datetime | None,
                buildings: list[str], known_buildings: list[str], topic: str = "general",
                details: dict | None = None) -> Draft:
    errors: dict[str, str] = {}
    title, body = (title or "").strip(), (body or "").strip()
    if topic not in rules.TOPICS:
        errors["topic"] = "请选择事项种类"
    elif topic != "general":
        kind = "ordinary"  # using the repair fund and electing the committee: art. 278 items 2 and 5
    checked = check_details(topic, details, errors)
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
    return Draft(title, body, kind, opens_at, closes_at, sorted(set(buildings)), topic, checked)


async def create(session: AsyncSession, estate: Estate, draft: Draft, *, author: str, now: datetime,
                 pending: bool = False) -> Motion:
    if not await repo.buildings_of(session, estate.id):
        raise Invalid("该小区还没有业主名册，请先导入名册（linli roster import）")
    motion = Motion(estate_id=estate.id, community_id=estate.community_id, buildings=draft.buildings,
                    title=draft.title, body=draft.body, kind=draft.kind, topic=draft.topic, details=draft.details,
                    opens_at=draft.opens_at,
                    closes_at=draft.closes_at, created_by=author[:64], created_at=now,
                    status="draft" if pending else "open" if draft.opens_at <= now else "scheduled")
    session.add(motion)
    await session.flush()
    return motion


async def release(session: AsyncSession, motion: Motion, now: datetime) -> str:
    """Street or community staff open a motion the owners' committee drafted: it is then scheduled (or open at
    once when its opening time has come). Returns the new status."""
    if motion.status != "draft":
        raise Conflict("这项表决不是待开启的草稿")
    if motion.closes_at <= now:
        raise Invalid("截止时间已过，不能开启；请业主委员会重新起草")
    new = "open" if motion.opens_at <= now else "scheduled"
    if not await repo.set_status(session, motion.id, ("draft",), new):
        raise Conflict("这项表决已被其他人开启")
    await session.refresh(motion)
    await committee.notify(session, motion, "released", now)
    return new


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
    return count(motion, shares, await facts(session, motion), rule).as_dict()


def count(motion: Motion, shares: list[rules.RoomShare], ballots: list[rules.BallotFact],
          rule: rules.Rule) -> rules.Tally | rules.Election:
    if motion.topic == "election":
        details = motion.details or {}
        return rules.election(shares, ballots, list(details.get("candidates") or []), int(details.get("seats") or 1),
                              rule)
    return rules.tally(shares, ballots, motion.kind, rule)


def choice_text(motion: Motion, choice: str) -> str:
    if motion.topic == "election" and choice != "abstain":
        names = list((motion.details or {}).get("candidates") or [])
        return "选举：" + "、".join(names[i] if i < len(names) else "?" for i in rules.picks_of(choice))
    return rules.CHOICES.get(choice, choice)


def valid_choice(motion: Motion, choice: str) -> bool:
    if motion.topic == "election":
        details = motion.details or {}
        return rules.valid_election_choice(choice, len(details.get("candidates") or []),
                                           int(details.get("seats") or 1))
    return choice in rules.CHOICES


async def close(session: AsyncSession, motion: Motion, rule: rules.Rule, now: datetime, *,
                base_url: str | None = None, settings=None) -> bool:
    """Freeze the rooms, tally, store the rule and result, publish the notice. False when another closed it."""
    if not await repo.set_status(session, motion.id, ("scheduled", "open"), "closed", closed_at=now):
        return False
    await session.refresh(motion)
    shares = await roster.shares(session, motion.estate_id, motion.buildings)
    await repo.freeze_rooms(session, motion.id, [(s.room_id, s.building, int(s.area * 100), s.holder)
                                                 for s in shares])
    result = count(motion, shares, await facts(session, motion), rule)
    motion.rule = rule.as_dict(motion.kind)
    motion.result = {**result.as_dict(), "verdict": result.verdict(), "turnout": await turnout(session, motion)}
    motion.notice_ref = await publish(session, motion, result, settings=settings, now=now)
    await committee.notify(session, motion, "closed", now, result.verdict())
    log.info("owners: motion %s closed: %s", motion.id, result.verdict())
    return True


def early_close_refusal(motion: Motion, rooms: int, voted: int, now: datetime) -> str | None:
    """Why a motion may not be closed before its time (Chinese), or None: only an open motion in which every room
    of its scope has voted (turnout can grow no more; the owners lose only the chance to change their vote)."""
    if motion.status not in ("scheduled", "open") or not is_open(motion, now):
        return "只有表决中的事项可以提前结束"
    if rooms == 0 or voted < rooms:
        return f"表决范围内还有 {rooms - voted} 套房屋未表决，不能提前结束（全部房屋都已表决时才可以），请到截止时间自动结束"
    return None


async def close_early(session: AsyncSession, motion: Motion, rule: rules.Rule, now: datetime, *,
                      by: str, settings=None) -> None:
    """Close an open motion now, every room of its scope having voted; the planned close is kept in the result."""
    shares = await roster.shares(session, motion.estate_id, motion.buildings)
    voted = set(await repo.voted_room_ids(session, motion.id))
    problem = early_close_refusal(motion, len(shares), len({s.room_id for s in shares} & voted), now)
    if problem:
        raise Conflict(problem)
    planned = motion.closes_at
    motion.closes_at = now
    await session.flush()
    if not await close(session, motion, rule, now, settings=settings):
        raise Conflict("这项表决已经结束")
    motion.result = {**(motion.result or {}), "closed_early": {"planned_close": local(planned), "by": by[:64]}}


async def withdraw(session: AsyncSession, motion: Motion, reason: str, now: datetime, *, by: str,
                   settings=None) -> int:
    """Withdraw (撤销) a motion not yet closed: no tally; the ballots stay in the archive but count for nothing.
    Once it had opened, the owners who voted in chat are told and a notice is published in the estate. Returns
    how many residents were told."""
    reason = " ".join(str(reason or "").split())
    if not reason or len(reason) > 500:
        raise Invalid("请写明撤销原因（最多 500 字）", errors={"reason": "请写明撤销原因"})
    if motion.status not in WITHDRAWABLE:
        raise Conflict("已结束或已撤销的表决不能撤销")
    opened = motion.status == "open" or (motion.status == "scheduled" and motion.opens_at <= now)
    ballots = await repo.ballot_count(session, motion.id)
    if not await repo.set_status(session, motion.id, WITHDRAWABLE, "withdrawn", closed_at=now):
        raise Conflict("这项表决已经结束或已被撤销")
    await session.refresh(motion)
    motion.result = {"withdrawn": {"reason": reason, "by": by[:64], "at": now.isoformat(), "ballots": ballots,
                                   "had_opened": opened}}
    await committee.notify(session, motion, "withdrawn", now, reason)
    if not opened:
        return 0
    voters = await repo.chat_voter_ids(session, motion.id)
    if voters:
        await create_broadcast(
            session, category="notice", scope=Scope.of_residents(voters),
            content=Content(f"业主表决事项「{motion.title}」已撤销：{reason}。您的表决不再计票，无需任何操作。",
                            title="业主表决已撤销", summary=motion.title[:60]),
            created_by="owners", source=f"motion:{motion.id}:withdrawn", now=now)
    estate = await session.get(Estate, motion.estate_id)
    from handlers.notices.service import publish_system_notice

    notice = await publish_system_notice(
        session, category=NOTICE_CATEGORY, title=f"业主表决事项撤销公告：{motion.title}"[:120],
        body=(f"{estate.name if estate else ''}业主共同决定事项「{motion.title}」（原定 {local(motion.opens_at)} 至 "
              f"{local(motion.closes_at)} 表决）已于 {local(now)} 撤销，不再计票、不产生表决结果。\n撤销原因：{reason}"),
        scope_level="estate", scope_ids=[motion.estate_id], author="owners", source=f"motion:{motion.id}:withdrawn",
        now=now, settings=settings)
    motion.notice_ref = f"notice:{notice.id}"
    return len(voters)


def notice_text(motion: Motion, estate_name: str, result: rules.Tally | rules.Election,
                turnout_rows: list[dict]) -> tuple:
    if isinstance(result, rules.Election):
        return election_text(motion, estate_name, result, turnout_rows)
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


def _turnout_table(turnout_rows: list[dict]) -> dict:
    return {"title": "各楼参与表决情况", "columns": ["楼号", "总面积（㎡）", "参与面积（㎡）", "总人数", "参与人数"],
            "rows": [[f"{t['building']}号楼", t["area"], t["voted_area"], t["heads"], t["voted_heads"]]
                     for t in turnout_rows]}


def election_text(motion: Motion, estate_name: str, result: rules.Election, turnout_rows: list[dict]) -> tuple:
    area, heads = result.area, result.heads
    title = f"业主委员会选举结果：{motion.title}"[:120]
    lines = [f"{estate_name}业主委员会选举「{motion.title}」（应选 {result.seats} 名）已于 {local(motion.closes_at)} 截止，"
             f"结果：**{result.verdict()}**。", "",
             "依据《中华人民共和国民法典》第二百七十八条：选举业主委员会应由专有部分面积和人数均占三分之二以上的业主参与表决，"
             "每位候选人须经参与表决专有部分面积过半数且参与表决人数过半数的业主同意；同意的候选人多于应选名额时，"
             "按得票人数、再按得票面积依次当选。", "",
             f"- 专有部分总面积 {rules.area_text(area.total)} 平方米，参与表决 {rules.area_text(area.voted)} 平方米"
             f"（{rules.share_text(area.voted, area.total)}）。",
             f"- 业主总人数 {int(heads.total)} 人，参与表决 {int(heads.voted)} 人（{rules.share_text(heads.voted, heads.total)}）。"]
    tables = [{"title": "候选人得票", "columns": ["候选人", "得票面积（㎡）", "得票人数", "当选"],
               "rows": [[c["name"], c["area"], c["heads"], "是" if c["elected"] else ""] for c in result.candidates]},
              _turnout_table(turnout_rows)]
    return title, "\n".join(lines), tables


async def publish(session: AsyncSession, motion: Motion, result: rules.Tally | rules.Election, *, settings=None,
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
            motion = await repo.get_motion(session, motion_id)
            if motion is not None:
                await committee.notify(session, motion, "open", now)
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
                    rules.area_text(Decimal(room.area_cents) / 100) if room else "", choice_text(motion, b.choice),
                    CHANNEL_LABELS.get(b.channel, b.channel), "是" if b.proxy else "", b.collector or "",
                    local(b.cast_at), local(b.updated_at)])
    return out


BALLOT_COLUMNS = ["楼号", "单元", "房号", "专有部分面积（㎡）", "表决意见", "方式", "委托代理", "收票人", "投票时间",
                  "最后修改时间"]


async def disclose(session: AsyncSession, motion: Motion, text: str, *, author: str, now: datetime,
                   settings=None) -> str:
    """The spending of a passed repair-fund motion, disclosed as a notice (收支公示) linked to the motion."""
    text = (text or "").strip()
    if motion.topic != "repair_fund":
        raise Invalid("只有维修资金使用事项需要公示支出")
    if motion.status != "closed" or not (motion.result or {}).get("passed"):
        raise Conflict("表决通过后才能公示维修资金的支出")
    if motion.disclosure_ref:
        raise Conflict(f"已公示过（{motion.disclosure_ref}），如需更正请在公示管理中更正")
    if not text or len(text) > 20000:
        raise Invalid("请填写支出情况（最多 20000 字）", errors={"text": "必填"})
    estate = await session.get(Estate, motion.estate_id)
    assert estate is not None
    details = motion.details or {}
    body = (f"依据业主表决事项「{motion.title}」（{local(motion.closes_at)} 表决通过，结果公示 {motion.notice_ref}），"
            f"维修工程：{details.get('works', '')}；预算：{details.get('budget', '')}。\n\n支出情况：\n{text}")
    from handlers.notices.service import publish_system_notice

    notice = await publish_system_notice(session, category="finance", title=f"维修资金使用情况公示：{motion.title}"[:120],
                                         body=body, scope_level="estate", scope_ids=[estate.id],
                                         author=author[:64], source=f"motion:{motion.id}:spending", now=now,
                                         settings=settings)
    motion.disclosure_ref = f"notice:{notice.id}"
    return motion.disclosure_ref
