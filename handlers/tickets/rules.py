"""The rules of a ticket's life, as pure functions: categories, levels, statuses, which action moves a ticket
from which status to which, who may take it at which level, phone masking and text similarity (free text is
redacted by `handlers.privacy.redact`).

`check(action, actor, ticket)` is the one permission rule; `service.py` calls it for staff, residents and the
scheduler alike, so the console, the API, the command line and the chat cannot disagree.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

CATEGORIES = {
    "property": "物业服务", "repair": "维修", "fees": "收费", "income": "公共收益", "parking": "停车",
    "environment": "噪音/环境", "committee": "业委会", "developer": "开发商质量", "other": "其他",
}
# how a complaint reached us (tickets.channel); "wechat" for everything the chat files
CHANNELS = {"wechat": "微信", "phone": "电话", "visit": "来访", "hotline": "12345", "other": "其他"}
LEVELS = ("community", "street", "district")
LEVEL_LABELS = {"community": "社区", "street": "街道", "district": "区县", "admin": "管理员"}
RANK = {"community": 1, "street": 2, "district": 3, "admin": 4}

STATUS_LABELS = {"received": "已受理", "assigned": "处理中", "resolved": "已办结", "closed": "已关闭",
                 "escalated": "已升级", "rejected": "不予受理"}
# the console's words: 「在办」 is every open status, and an unsigned ticket is 「待签收」 (residents read 已受理)
STAFF_STATUS_LABELS = {**STATUS_LABELS, "received": "待签收"}
OPEN = frozenset({"received", "escalated", "assigned"})  # someone at the ticket's level must act
DONE = frozenset({"closed", "rejected"})

# action → (statuses it may start from, status it leaves; None = unchanged)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "sign": (frozenset({"received", "escalated"}), "assigned"),
    "assign": (OPEN, "assigned"),
    "reply": (OPEN | {"resolved"}, None),
    "note": (frozenset(STATUS_LABELS), None),
    "ask": (frozenset({"assigned"}), None),
    "supplement": (OPEN, None),
    "resolve": (frozenset({"assigned"}), "resolved"),
    "escalate": (OPEN | {"resolved"}, "escalated"),
    "return": (OPEN, "escalated"),
    "reject": (OPEN, "rejected"),
    "close": (frozenset({"resolved"}), "closed"),
    "rate": (frozenset({"resolved"}), "closed"),
    "reopen": (frozenset({"resolved"}), "assigned"),
    "link": (OPEN, "closed"),
    "mediation": (OPEN | {"resolved", "closed"}, None),
    "chase": (OPEN, None),
    "partner_sign": (frozenset({"assigned"}), None),  # a partner organisation acknowledges what was 交办 to it
    "partner_done": (frozenset({"assigned"}), None),  # …and reports it done; the community confirms (resolve)
    "send_back": (frozenset({"assigned"}), None),  # …or sends it back to the partner (退回承办单位) with a reason
    "share_phone": (OPEN | {"resolved"}, None),  # the community shares (or stops sharing) the phone with the partner
}
ACTION_LABELS = {
    "created": "受理", "sign": "签收", "assign": "交办", "reply": "答复", "note": "内部备注", "ask": "请居民补充",
    "supplement": "居民补充", "resolve": "办结", "escalate": "升级", "return": "退单", "reject": "不予受理",
    "close": "关闭", "rate": "评价", "reopen": "重新办理", "link": "合并重复件", "mediation": "调解记录",
    "chase": "催办", "overdue": "超期", "linked": "关联重复件", "phone": "查看电话", "erased": "居民删除个人信息",
    "public_summary": "公开摘要", "media_failed": "附件下载失败", "media_added": "上传附件", "claimed": "居民认领",
    "partner_sign": "承办单位签收", "partner_done": "承办单位报告办结", "send_back": "退回承办单位",
    "share_phone": "向承办单位共享电话",
}
AT_OWN_LEVEL = frozenset({"sign", "assign", "reply", "ask", "resolve", "return", "reject", "close", "link",
                          "mediation", "send_back", "share_phone"})
FROM_ABOVE = frozenset({"note", "chase", "escalate"})  # higher levels supervise: 督办, 提级
BY_RESIDENT = frozenset({"rate", "reopen", "supplement", "escalate"})
BY_SYSTEM = frozenset({"chase", "escalate", "close", "note"})
BY_PARTNER = frozenset({"partner_sign", "reply", "ask", "note", "partner_done"})  # only on what was 交办 to them


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff member (with level), the ticket's resident, or the scheduler."""

    kind: str  # staff / resident / system
    name: str  # staff:<username> / resident / system
    label: str  # shown to staff
    level: str | None = None  # staff: community / street / district / admin
    staff_id: int | None = None
    resident_ref: str | None = None
    communities: frozenset[int] | None = None  # staff: their jurisdiction (None = every community)
    partner: str | None = None  # partner: their organisation (property:ID / developer:ID / dept:名称)

    def sees(self, community_id: int) -> bool:
        return self.kind != "staff" or self.communities is None or community_id in self.communities

    @classmethod
    def system(cls) -> "Actor":
        return cls("system", "system", "系统")


@dataclass(frozen=True)
class TicketView:
    """What the rules need to know about a ticket."""

    level: str
    status: str
    resident_ref: str
    waiting: bool = False
    reopened: int = 0
    escalation_offered: bool = False
    in_scope: bool = True  # the staff member's jurisdiction contains the ticket's community
    resident_gone: bool = False  # the resident erased their data: nobody to ask or to hear from
    assignee_partner: str | None = None  # the partner organisation it was 交办 to
    partner_reported: bool = False  # that partner reported it done and the community has not yet sent it back


def next_level(level: str) -> str | None:
    """The level above (社区 → 街道 → 区县); None at the district, which is the top."""
    index = LEVELS.index(level)
    return LEVELS[index + 1] if index + 1 < len(LEVELS) else None


def refusal(action: str, actor: Actor, t: TicketView) -> tuple[int, str] | None:
    """None when `actor` may take `action` on the ticket now, else (403 not theirs to do | 409 not now, reason)."""
    if action not in TRANSITIONS:
        return 404, "未知的操作"
    who = _who(action, actor, t)
    if who:
        return 403, who
    allowed_from, _ = TRANSITIONS[action]
    if t.status not in allowed_from:
        return 409, f"工单当前为「{STATUS_LABELS[t.status]}」，不能{ACTION_LABELS[action]}"
    state = _state_rule(action, actor, t)
    return (409, state) if state else None


def check(action: str, actor: Actor, t: TicketView) -> str | None:
    """None when `actor` may take `action` on the ticket now, else the reason (Chinese)."""
    found = refusal(action, actor, t)
    return found[1] if found else None


def _who(action: str, actor: Actor, t: TicketView) -> str | None:
    if actor.kind == "system":
        return None if action in BY_SYSTEM else "系统不能执行该操作"
    if actor.kind == "partner":
        if actor.partner is None or t.assignee_partner != actor.partner:
            return "该工单未交办给贵单位"
        return None if action in BY_PARTNER else "承办单位不能执行该操作"
    if action in ("partner_sign", "partner_done"):
        return "该操作由承办单位执行"
    if actor.kind == "resident":
        if actor.resident_ref != t.resident_ref:
            return "只能操作本人提交的投诉"
        return None if action in BY_RESIDENT else "居民不能执行该操作"
    if not t.in_scope:
        return "该工单不在您的辖区内"
    if actor.level == "admin":
        return None
    rank, ticket_rank = RANK[actor.level or "community"], RANK[t.level]
    if action == "note":
        return None  # anyone in the jurisdiction may leave an internal note
    if rank == ticket_rank:
        return None if action in AT_OWN_LEVEL | {"escalate"} else "该操作不由工作人员执行"
    if rank > ticket_rank:
        return None if action in FROM_ABOVE else f"该工单在{LEVEL_LABELS[t.level]}办理，请由{LEVEL_LABELS[t.level]}操作"
    return f"该工单已在{LEVEL_LABELS[t.level]}办理，{LEVEL_LABELS[actor.level or 'community']}只能查看和备注"


def _state_rule(action: str, actor: Actor, t: TicketView) -> str | None:
    if action in ("escalate", "return") and next_level(t.level) is None:
        return "区县是最高一级，不能再升级或退回；请办结或不予受理"
    if action == "escalate" and t.status == "resolved" and not (actor.kind == "resident" and t.escalation_offered):
        return "已办结的工单只能由居民在不满意时申请升级"
    if action == "escalate" and actor.kind == "resident" and not t.escalation_offered:
        return "重新办理后仍不满意时才能申请升级"
    if action == "ask" and t.resident_gone:
        return "居民已删除个人信息，无法再请其补充"
    if action == "ask" and t.waiting:
        return "已在等待居民补充"
    if action == "supplement" and not t.waiting:
        return "该工单没有在等待您补充"
    if actor.kind == "partner" and t.status not in OPEN:
        return "工单已办结，承办单位无需再办理"
    if action in ("send_back", "share_phone") and t.assignee_partner is None:
        return "该工单没有交办给承办单位"
    if action == "send_back" and not t.partner_reported:
        return "承办单位尚未报告办结，不能退回"
    if action == "partner_done" and t.partner_reported:
        return "已报告办结，等待社区核实"
    if action == "share_phone" and t.resident_gone:
        return "居民已删除个人信息，没有可共享的电话"
    if action == "reopen" and t.reopened >= 1:
        return "该工单已重新办理过一次"
    return None


def replied_since_signed(kinds: list[str]) -> bool:
    """Whether the resident has been answered since the ticket was last signed at its present level."""
    replied = False
    for kind in kinds:
        if kind in ("sign", "escalate", "return", "reopen"):
            replied = False
        elif kind == "reply":
            replied = True
    return replied


def next_step(status: str, allowed: list[str] | tuple[str, ...], replied: bool) -> str | None:
    """The ticket page's one primary button (签收 → 答复/交办 → 办结); everything else is under 更多操作.

    The action the ticket page offers as its primary button, or None when the caller has nothing to do next.

    Unsigned → 签收; signed but the resident has had no answer yet → 答复 (交办 sits beside it); answered →
    办结. Only actions the caller may take are offered (`allowed` comes from `check`)."""
    if status in ("received", "escalated") and "sign" in allowed:
        return "sign"
    if status == "assigned":
        for step in (("resolve",) if replied else ("reply", "resolve")):
            if step in allowed:
                return step
    return None


def status_after(action: str, status: str) -> str:
    return TRANSITIONS[action][1] or status


# ---- phone numbers -------------------------------------------------------------------------------------
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[ -]?(\d{7,8})(?!\d)")


def find_phone(text: str) -> str | None:
    """The first mobile or landline number in `text`, normalised (13812345678 / 022-23456789)."""
    text = unicodedata.normalize("NFKC", text)
    found = _MOBILE.search(text)
    if found:
        return "".join(found.groups())
    found = _LANDLINE.search(text)
    return f"{found.group(1)}-{found.group(2)}" if found else None


def mask_phone(phone: str | None) -> str | None:
    """138****5678 for a mobile; 022-****6789 for a landline."""
    if not phone:
        return None
    if "-" in phone:
        area, number = phone.split("-", 1)
        return f"{area}-{'*' * (len(number) - 4)}{number[-4:]}"
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


# ---- similarity (duplicates) ---------------------------------------------------------------------------
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def _grams(text: str) -> set[str]:
    clean = _NOISE.sub("", unicodedata.normalize("NFKC", text).lower())
    return {clean[i:i + 2] for i in range(len(clean) - 1)} or ({clean} if clean else set())


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of character bigrams (0–1), robust to punctuation and spacing."""
    ga, gb = _grams(a), _grams(b)
    return len(ga & gb) / len(ga | gb) if ga and gb else 0.0


def is_duplicate(category_a: str, text_a: str, category_b: str, text_b: str, threshold: float = 0.5) -> bool:
    return category_a == category_b and similarity(text_a, text_b) >= threshold
