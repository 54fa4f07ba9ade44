"""The actions behind `service.perform`, one function each: they change the ticket, append its timeline event
and push public changes. Only `service.perform` calls them, after the rules allowed the action.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import DomainError
from handlers.console.authz import can_see_community, load_scope
from handlers.privacy.redact import mask
from handlers.tickets import media, notify, rules
from handlers.tickets.rules import LEVEL_LABELS, Actor
from handlers.tickets.sla import sla_of
from storage.models import Estate, Staff
from storage.repositories import tickets as repo
from storage.ticket_models import Ticket, TicketMediation

RATING_LABELS = {1: "非常不满意", 2: "不满意", 3: "一般", 4: "满意", 5: "非常满意"}
LOW_RATING = 2


class TicketError(DomainError):
    """A ticket operation the rules refuse (422, or the status given where it is raised)."""


@dataclass
class Op:
    session: AsyncSession
    services: object
    ticket: Ticket
    actor: Actor
    now: datetime

    @property
    def sla(self):
        return sla_of(self.services)

    async def place(self, level: str | None = None) -> str:
        return await notify.level_name(self.session, self.ticket, level)

    async def record(self, kind: str, text: str = "", *, public: bool, push: str | None = None,
                     data: dict | None = None) -> None:
        t = self.ticket
        repo.add_event(self.session, t, kind=kind, actor=self.actor.name, actor_label=self.actor.label,
                       public=public, text=text, at=self.now, data=data)
        if public and push:
            linked = await repo.linked(self.session, t.id)
            await notify.to_resident(self.session, t, push, actor=self.actor.name, now=self.now, also_linked=linked,
                                     skip_self=self.actor.kind == "resident")  # they get the reply instead

    def deadlines(self, since: datetime) -> None:
        t = self.ticket
        t.level_since = since
        t.sign_due_at, t.resolve_due_at = self.sla.deadlines(since, t.level, t.category)
        t.chased_due_at = t.overdue_at = None


def _text(value, what: str, limit: int = 1000) -> str:
    text = str(value or "").strip()
    if not text:
        raise TicketError(f"请填写{what}")
    if len(text) > limit:
        raise TicketError(f"{what}不能超过 {limit} 字")
    return text


async def _sign(op: Op) -> str:
    t = op.ticket
    t.status, t.signed_at = "assigned", op.now
    t.responded_at = t.responded_at or op.now
    if t.assignee_staff_id is None and t.assignee_partner is None and op.actor.staff_id:
        t.assignee_staff_id, t.assignee_label = op.actor.staff_id, op.actor.label
    await op.record("sign", public=True, push=f"您的投诉 {t.number} 已由{await op.place()}签收，正在办理，"
                    f"预计 {notify.local(t.resolve_due_at)} 前办结。")
    return "已签收"


async def _partner(op: Op, partner: str) -> tuple[str, str]:
    t = op.ticket
    estate = await op.session.get(Estate, t.estate_id) if t.estate_id else None
    if partner in ("property", "developer"):
        company = None
        if estate is not None:
            await op.session.refresh(estate, ["property_company", "developer"])
            company = estate.property_company if partner == "property" else estate.developer
        if company is None:
            raise TicketError("该小区没有登记" + ("物业服务企业" if partner == "property" else "开发建设单位"))
        return f"{partner}:{company.id}", company.name
    if partner.startswith("dept:") and partner[5:].strip():
        name = partner[5:].strip()[:60]
        return f"dept:{name}", name
    raise TicketError("承办单位应为 property（物业服务企业）、developer（开发建设单位）或 dept:部门名称")


async def _assign(op: Op, staff_id: int | None = None, partner: str | None = None, note: str = "") -> str:
    t = op.ticket
    staff: Staff | None = None
    if bool(staff_id) == bool(partner):
        raise TicketError("请选择一位工作人员或一个承办单位")
    if staff_id:
        staff = await op.session.get(Staff, int(staff_id))
        if staff is None or not staff.active or staff.level.value not in (t.level, "admin"):
            raise TicketError(f"只能交办给{LEVEL_LABELS[t.level]}的在岗工作人员")
        if not can_see_community(await load_scope(op.session, staff), t.community_id):
            # whoever owns a ticket must be able to see it: never someone of another community or street
            raise TicketError("只能交办给本辖区的工作人员，该工作人员看不到这件投诉")
        t.assignee_staff_id, t.assignee_partner = staff.id, None
        t.assignee_label = f"{staff.display_name}（{staff.level.label}）"
        public_text = "已安排工作人员办理"
    else:
        t.assignee_partner, t.assignee_label = await _partner(op, partner)
        t.assignee_staff_id = None
        public_text = f"已交由{t.assignee_label}办理"
    t.partner_done_at = t.phone_shared_at = None  # a new hand-over: nothing reported, nothing shared yet
    if t.signed_at is None:
        t.signed_at = op.now
        t.responded_at = t.responded_at or op.now
    t.status = "assigned"
    # "partner" and "due" feed the partners' response and resolution figures (partner_times)
    data = {"assignee": t.assignee_label, "note": note[:200], "partner": t.assignee_partner,
            "due": t.resolve_due_at.isoformat()}
    await op.record("assign", public_text, public=True, data=data,
                    push=f"您的投诉 {t.number}：{public_text}，预计 {notify.local(t.resolve_due_at)} 前办结。")
    if t.assignee_partner is not None:
        await notify.to_partner(op.session, t, f"{await op.place()}将工单 {t.number}（{rules.CATEGORIES[t.category]}）"
                                f"交由贵单位办理：{mask(t.description)[:80]}\n请于 {notify.local(t.resolve_due_at)} 前办结。"
                                "回复「待办」或在工作台「承办工单」查看交办给贵单位的工单。", now=op.now,
                                services=op.services)
    if t.assignee_staff_id is not None:
        await notify.to_assignee(op.session, t, staff, f"{op.actor.label}将工单 {t.number}（"
                                 f"{rules.CATEGORIES[t.category]}）交办给您，请于 {notify.local(t.resolve_due_at)} "
                                 f"前办结。{note[:200]}", now=op.now, services=op.services)
    return f"已交办给{t.assignee_label}"


async def _reply(op: Op, text: str = "") -> str:
    text = _text(text, "答复内容")
    await op.record("reply", text, public=True, push=f"{await op.place()}答复您的投诉 {op.ticket.number}：\n{text}")
    return "已答复居民"


async def _note(op: Op, text: str = "", photos: list | None = None) -> str:
    """An internal note; `photos` ([{media_id, pic_url}], e.g. the evidence a staff member sends after 办结) are
    kept on the event."""
    data = {"photos": [{"media_id": str(p.get("media_id", ""))[:128], "pic_url": str(p.get("pic_url", ""))[:512]}
                       for p in photos[:9]]} if photos else None
    await op.record("note", _text(text, "备注内容"), public=False, data=data)
    return "已添加内部备注"


async def _ask(op: Op, text: str = "") -> str:
    t = op.ticket
    text = _text(text, "需要居民补充的内容")
    t.waiting_since = op.now
    await op.record("ask", text, public=True, push=(
        f"您的投诉 {t.number} 需要您补充情况：{text}\n请回复「补充 {t.number} 您的补充内容」。"
        "在您补充之前，办理时限暂停计算。"))
    return "已请居民补充，办理时限暂停计算"


async def _supplement(op: Op, text: str = "", photos: list | None = None) -> str:
    t = op.ticket
    text = _text(text, "补充内容", 500)
    if t.waiting_since is not None:
        paused = op.sla.calendar.between(t.waiting_since, op.now)
        t.sign_due_at = op.sla.calendar.add(t.sign_due_at, paused)
        t.resolve_due_at = op.sla.calendar.add(t.resolve_due_at, paused)
        t.waiting_since = None
    if photos:
        room = max(0, 9 - len(t.photos or []))
        t.photos = list(t.photos or []) + list(photos)[:room]
        media.enqueue(op.session, t.id, list(photos)[:room], "supplement", op.now)
    await op.record("supplement", mask(text), public=True, data={"photos": len(photos or [])})
    await notify.to_staff(op.session, t, t.level, f"工单 {t.number} 居民已补充情况，办理时限恢复计算。", now=op.now,
                          services=op.services)
    await notify.to_partner(op.session, t, f"工单 {t.number} 居民已补充情况：{mask(text)[:200]}\n办理时限恢复计算。",
                            now=op.now, services=op.services)  # nobody when it is not 交办 to a partner
    return f"已收到您的补充，已转给办理人员。预计 {notify.local(t.resolve_due_at)} 前办结。"


async def _resolve(op: Op, text: str = "") -> str:
    t = op.ticket
    text = _text(text, "办理结果")
    t.status, t.resolved_at, t.resolved_level, t.resolution = "resolved", op.now, t.level, text
    t.waiting_since = None
    await op.record("resolve", text, public=True, push=(
        f"您的投诉 {t.number} 已办结：{text}\n请评价办理结果：回复 1–5 的数字（5 为非常满意），可再附一句话，"
        "例如「5 处理及时」。不满意请回复「不满意」。"))
    return "已办结，已请居民评价"


async def _move_up(op: Op, kind: str, text: str) -> str:
    t = op.ticket
    before, target = t.level, rules.next_level(t.level)
    assert target is not None  # the rules refuse at the top
    t.level, t.status = target, "escalated"
    t.signed_at = t.waiting_since = None
    t.assignee_staff_id = t.assignee_partner = t.assignee_label = None
    t.partner_done_at = t.phone_shared_at = None
    t.reopened, t.escalation_offered = 0, False
    t.resolved_at = t.resolved_level = None
    t.escalations += 1 if kind == "escalate" else 0
    op.deadlines(op.now)
    upper = await op.place(target)
    await op.record(kind, text, public=True, data={"from": before, "to": target},
                    push=f"您的投诉 {t.number} 已转至{upper}办理。{text}".rstrip())
    await notify.to_staff(op.session, t, target, f"工单 {t.number} 已从{LEVEL_LABELS[before]}转至{upper}："
                          f"{text}请于 {notify.local(t.sign_due_at)} 前签收。", now=op.now,
                          kind="ticket_assigned", services=op.services)
    return f"已转至{upper}"


async def _escalate(op: Op, reason: str = "") -> str:
    if op.actor.kind == "resident":
        reason = "居民对处理结果不满意，申请上一级办理。"
    elif op.actor.kind == "system":
        reason = reason or "未在办理时限内办结，已自动升级。"
    else:
        reason = _text(reason, "升级原因", 300).rstrip("。") + "。"
    return await _move_up(op, "escalate", reason)


async def _return(op: Op, rule: str = "") -> str:
    rule = _text(rule, "退单依据（不属于本级职责的规定）", 300)
    return await _move_up(op, "return", f"不属于{LEVEL_LABELS[op.ticket.level]}职责范围（依据：{rule}），由上级重新分派。")


async def _reject(op: Op, reason: str = "") -> str:
    t = op.ticket
    reason = _text(reason, "不予受理的理由", 500)
    t.status, t.reject_reason, t.closed_at, t.waiting_since = "rejected", reason, op.now, None
    t.responded_at = t.responded_at or op.now  # a reasoned refusal is an answer
    await op.record("reject", reason, public=True, push=f"您的投诉 {t.number} 不予受理。理由：{reason}")
    return "已不予受理，理由已告知居民"


async def _close(op: Op, reason: str = "") -> str:
    t = op.ticket
    t.status, t.closed_at = "closed", op.now
    t.closed_reason = "timeout" if op.actor.kind == "system" else "staff"
    text = reason or ("办结后居民未在期限内评价，自动关闭。" if op.actor.kind == "system" else "工作人员关闭")
    await op.record("close", text, public=True, push=f"您的投诉 {t.number} 已关闭：{text}")
    return "已关闭"


async def _rate(op: Op, score: int | None = None, words: str = "") -> str:
    t = op.ticket
    if score is None or not 1 <= int(score) <= 5:
        raise TicketError("评分应为 1 到 5 的整数")
    score, words = int(score), (words or "").strip()[:200]
    t.rating, t.rating_words, t.rated_at = score, words or None, op.now
    if score <= LOW_RATING:
        return await _unhappy(op, words)
    t.status, t.closed_at, t.closed_reason = "closed", op.now, "rated"
    await op.record("rate", f"{score} 分（{RATING_LABELS[score]}）{words}".strip(), public=True,
                    data={"score": score})
    return f"感谢您的评价（{score} 分）！投诉 {t.number} 已关闭。"


async def _unsatisfied(op: Op, words: str = "") -> str:
    t = op.ticket
    t.rating, t.rating_words, t.rated_at = LOW_RATING, (words or "不满意")[:200], op.now
    return await _unhappy(op, words)


async def _unhappy(op: Op, words: str) -> str:
    """A low rating: reopen at the same level once; after that offer escalation (or close at the top)."""
    t = op.ticket
    said = f"{t.rating} 分（{RATING_LABELS[t.rating]}）{words}".strip()
    if t.reopened == 0:
        t.status, t.reopened, t.resolved_at, t.resolved_level = "assigned", 1, None, None
        t.resolve_due_at = op.sla.calendar.add(op.now, op.sla.resolve_limit(t.level, t.category))
        t.chased_due_at = None
        await op.record("reopen", said, public=True, data={"score": t.rating})
        await notify.to_staff(op.session, t, t.level, f"工单 {t.number} 居民不满意，已重新办理。", now=op.now,
                               services=op.services)
        return (f"很抱歉没有让您满意。投诉 {t.number} 已退回{await op.place()}重新办理，"
                f"预计 {notify.local(t.resolve_due_at)} 前给您答复。")
    upper = rules.next_level(t.level)
    if upper is None:
        t.status, t.closed_at, t.closed_reason = "closed", op.now, "rated"
        await op.record("rate", said, public=True, data={"score": t.rating})
        return (f"已记录您的评价。投诉 {t.number} 已由区县办理完毕；如仍有异议，可拨打 12345 政务服务便民热线"
                "或依法申请人民调解。")
    t.escalation_offered = True
    await op.record("rate", said, public=True, data={"score": t.rating, "offered": upper})
    return (f"已记录您的评价。投诉 {t.number} 已重新办理过一次，如仍不满意，可回复「升级 {t.number}」"
            f"申请由{await op.place(upper)}办理。")


async def _link(op: Op, primary: Ticket | None = None) -> str:
    t = op.ticket
    if primary is None or primary.id == t.id:
        raise TicketError("请指定另一张工单作为主工单")
    if primary.duplicate_of_id is not None or primary.status in rules.DONE:
        raise TicketError(f"{primary.number} 已关闭或本身是重复件，不能作为主工单")
    if not op.actor.sees(primary.community_id):
        raise TicketError("主工单不在您的辖区内", 403)
    t.duplicate_of_id, t.status, t.closed_at, t.closed_reason = primary.id, "closed", op.now, "merged"
    t.responded_at = t.responded_at or op.now
    await op.record("link", f"与 {primary.number} 反映的是同一问题，合并办理。", public=True, push=(
        f"您的投诉 {t.number} 与 {primary.number} 反映的是同一问题，将合并办理；后续进展会继续推送给您。"))
    repo.add_event(op.session, primary, kind="linked", actor=op.actor.name, actor_label=op.actor.label,
                   public=False, text=f"合并重复件 {t.number}", at=op.now)
    return f"已将 {t.number} 合并到 {primary.number}"


async def _mediation(op: Op, parties: str = "", agreement: str = "", mediated_on: date | str | None = None,
                     committee: str = "") -> str:
    parties, agreement = _text(parties, "调解当事人", 500), _text(agreement, "调解协议内容", 2000)
    try:
        day = mediated_on if isinstance(mediated_on, date) else date.fromisoformat(str(mediated_on))
    except ValueError:
        raise TicketError("调解日期格式应为 2026-11-26") from None
    op.session.add(TicketMediation(ticket_id=op.ticket.id, parties=parties, agreement=agreement, mediated_on=day,
                                   committee=(committee or "").strip()[:120] or None, created_by=op.actor.name,
                                   created_at=op.now))
    await op.record("mediation", f"经人民调解达成协议（{day.isoformat()}）", public=True,
                    data={"parties": parties[:200]})
    return "已登记调解记录"


async def _chase(op: Op, text: str = "") -> str:
    t = op.ticket
    due = t.sign_due_at if t.signed_at is None else t.resolve_due_at
    what = "签收" if t.signed_at is None else "办结"
    text = (text or "").strip() or f"请于 {notify.local(due)} 前{what}。"
    if op.actor.kind == "system":
        t.chased_due_at = due  # one automatic chase per deadline
    await op.record("chase", text, public=False)
    await notify.to_staff(op.session, t, t.level, f"催办：工单 {t.number} {text}", now=op.now, kind="ticket_chase",
                          services=op.services)
    return "已催办"


async def _partner_sign(op: Op) -> str:
    t = op.ticket
    await op.record("partner_sign", f"{op.actor.label}已签收", public=False)
    await notify.to_staff(op.session, t, t.level, f"工单 {t.number}：{op.actor.label}已签收。", now=op.now,
                          services=op.services)
    return "已签收"


async def _partner_done(op: Op, text: str = "") -> str:
    t = op.ticket
    text = _text(text, "办理结果")
    t.partner_done_at = op.now
    await op.record("partner_done", text, public=False)
    await notify.to_staff(op.session, t, t.level, f"工单 {t.number}：{op.actor.label}报告已办结：{text[:80]}\n"
                          f"请核实后确认办结（工作台，或在微信发送「办结 {t.number} 结果」），或退回承办单位"
                          f"（「退回 {t.number} 理由」）。", now=op.now, services=op.services)
    return "已报告办结，待社区核实后办结"


async def _send_back(op: Op, reason: str = "") -> str:
    """The community did not accept the partner's 办结: back to the partner with the reason (退回承办单位)."""
    t = op.ticket
    reason = _text(reason, "退回理由", 300)
    t.partner_done_at = None
    await op.record("send_back", reason, public=False, data={"partner": t.assignee_label})
    await notify.to_partner(op.session, t, f"{await op.place()}退回工单 {t.number}（{rules.CATEGORIES[t.category]}），"
                            f"请继续办理：{reason}\n请于 {notify.local(t.resolve_due_at)} 前办结后再次报告办结。",
                            now=op.now, services=op.services)
    return f"已退回{t.assignee_label}继续办理"


def _flag(value) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).strip().lower() in ("1", "true", "on", "yes"):
        return True
    if str(value).strip().lower() in ("0", "false", "off", "no", ""):
        return False
    raise TicketError("share 应为 true 或 false")


async def _share_phone(op: Op, share: bool | str = False) -> str:
    """Show (or stop showing) the resident's phone to the partner the ticket was 交办 to; never after erasure."""
    t = op.ticket
    on = _flag(share)
    if on and not t.phone:
        raise TicketError("该工单没有留电话，无法共享")
    if on == (t.phone_shared_at is not None):
        return "已向承办单位共享电话" if on else "未向承办单位共享电话"
    t.phone_shared_at = op.now if on else None
    said = f"已向{t.assignee_label}共享居民电话" if on else f"已停止向{t.assignee_label}共享居民电话"
    await op.record("share_phone", said, public=False, data={"shared": on})
    if on:  # the number itself stays out of the push (kept in the outbox): they read it live
        await notify.to_partner(op.session, t, f"{await op.place()}已向贵单位共享工单 {t.number} 居民的联系电话，"
                                "可在「待办」或工作台「承办工单」查看。", now=op.now, services=op.services)
    return said


ACTIONS = {"sign": _sign, "assign": _assign, "reply": _reply, "note": _note, "ask": _ask,
            "supplement": _supplement, "resolve": _resolve, "escalate": _escalate, "return": _return,
            "reject": _reject, "close": _close, "rate": _rate, "unsatisfied": _unsatisfied, "link": _link,
            "mediation": _mediation, "chase": _chase, "partner_sign": _partner_sign, "partner_done": _partner_done,
            "send_back": _send_back, "share_phone": _share_phone}
STAFF_ACTIONS = ("sign", "assign", "reply", "note", "ask", "resolve", "escalate", "return", "reject", "close",
                 "link", "mediation", "chase", "send_back", "share_phone")
PARTNER_ACTIONS = ("partner_sign", "ask", "reply", "partner_done")  # what a partner does in the console
