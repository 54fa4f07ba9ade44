"""Pure rules of survey campaigns: question validation, who may answer, how one voice is keyed, how a reply is
read as an answer, and the wording of questions and summaries. No database, no clock.

Answers are stored as: rating → int 1–5; single choice → the 1-based option number; multiple choice → a sorted
list of option numbers; comment → text; a skipped optional question → None.

Reading replies (documented in docs/surveys.md):
- a number in half- or full-width digits, or in Chinese (`四`), optionally with 分/号/个 (`4分`); for ratings also
  the exact label (`满意`);
- multiple choice: numbers separated by spaces, commas or 顿号 (`1 3`, `1,3`, `1、3`); a run of digits without
  separators (`13`) means 1 and 3 only when every option number has one digit (at most 9 options), otherwise a
  separator is required; repeats count once;
- `跳过` (or 不填/略过/无) for optional questions; `返回` (or 上一题) goes back one question.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from handlers import vocabulary

KINDS = ("rating", "single", "multiple", "comment")
KIND_LABELS = {"rating": "评分", "single": "单选", "multiple": "多选", "comment": "意见"}
BACK_WORDS = frozenset({"返回", "上一题", "上一步", "回到上一题"})
COMMENT_MAX = 500
_CN = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_ONE = re.compile(r"^(?:第)?(\d{1,2}|[一二两三四五六七八九十])(?:分|号|个|项|星)?$")
_SEPARATED = re.compile(r"^\d{1,2}(?:[\s,，、;；/]+\d{1,2})+$")


# ----- questions -----------------------------------------------------------------------------------------------

def validate_questions(questions: Any) -> list[str]:
    """Problems with a question list, in Chinese (empty when it is usable)."""
    if not isinstance(questions, list) or not questions:
        return ["至少需要一道题"]
    problems, seen = [], set()
    for n, q in enumerate(questions, 1):
        if not isinstance(q, dict):
            problems.append(f"第{n}题格式有误")
            continue
        if q.get("kind") not in KINDS:
            problems.append(f"第{n}题类型应为 rating / single / multiple / comment 之一")
        if not str(q.get("title") or "").strip():
            problems.append(f"第{n}题缺少标题")
        qid = str(q.get("id") or "")
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,15}", qid) or qid in seen:
            problems.append(f"第{n}题的编号（id）缺失、格式不对或重复")
        seen.add(qid)
        if q.get("kind") == "rating" and len(q.get("labels") or []) != 5:
            problems.append(f"第{n}题（评分）需要 5 个等级说明")
        if q.get("kind") in ("single", "multiple"):
            options = q.get("options") or []
            if not 2 <= len(options) <= 20 or not all(str(o).strip() for o in options):
                problems.append(f"第{n}题需要 2 到 20 个非空选项")
    if len(questions) > 30:
        problems.append("题目不能超过 30 道")
    return problems


def is_optional(q: dict) -> bool:
    return q.get("kind") == "comment" or not q.get("required", True)


# ----- eligibility ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """A campaign's eligibility rule. `areas` holds (community_id, estate_id or None for the whole community)."""

    areas: frozenset[tuple[int, int | None]]
    owners_only: bool = True
    per_household: bool = True


@dataclass(frozen=True)
class Voter:
    ref: str
    community_id: int | None
    estate_id: int | None
    role: str | None  # "owner" / "tenant" / None
    building: str | None = None
    room: str | None = None


@dataclass(frozen=True)
class Eligibility:
    ok: bool
    reason: str = ""  # unbound / out_of_scope / not_owner / no_room
    message: str = ""


def in_scope(rule: Rule, voter: Voter) -> bool:
    if voter.community_id is None:
        return False
    return (voter.community_id, None) in rule.areas or (voter.community_id, voter.estate_id) in rule.areas


def eligibility(rule: Rule, voter: Voter) -> Eligibility:
    """Whether `voter` may answer a campaign with `rule` (the household's earlier vote is checked elsewhere)."""
    if voter.community_id is None:
        return Eligibility(False, "unbound", "参与满意度调查需要先绑定您所在的社区和小区，请回复「绑定」。")
    if not in_scope(rule, voter):
        return Eligibility(False, "out_of_scope", "本次调查不包括您绑定的小区。")
    if rule.owners_only and voter.role != "owner":
        return Eligibility(False, "not_owner", "本次调查仅限业主参与（您绑定的身份不是业主）。如身份有误，请回复「绑定」更正。")
    if rule.per_household and not (clean(voter.building) and clean(voter.room)):
        return Eligibility(False, "no_room", "本次调查按户参与，每户一票，需要您的楼号房号。请回复「绑定」补充后再参加。")
    return Eligibility(True)


def clean(value: str | None) -> str:
    """Canonical building/room text: NFKC, upper case, no spaces or 号楼/栋/室 decorations."""
    text = unicodedata.normalize("NFKC", value or "").upper()
    return re.sub(r"\s+|号楼|栋|幢|单元|室|号", "", text)


_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百]+")
_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_DECORATION = re.compile(r"号楼|号院|单元|栋|幢|座|门|梯|层|楼|室|户|号")
_TOKEN = re.compile(r"[A-Z]+|\d+|[^\W\d_A-Za-z]+")


def _cn_number(text: str) -> str:
    """一二〇三 → 1203 (digit by digit); 十二 → 12, 二十一 → 21, 三百零五 → 305 (place values)."""
    if not any(c in "十百" for c in text):
        return "".join(str(_CN_DIGIT[c]) for c in text)
    total, digit = 0, 0
    for c in text:
        if c in "十百":
            total += (digit or 1) * (10 if c == "十" else 100)
            digit = 0
        else:
            digit = _CN_DIGIT[c]
    return str(total + digit)


def household_parts(building: str | None, room: str | None) -> list[str]:
    """The flat as a list of parts, the same however it was written: `3-2-501`, `3号楼2单元501室`, `3号楼二单元501`
    and `三号楼二单元五〇一` are all [3, 2, 501]; `A座1201` and `A-1201` are [A, 1201]; names stay (`东区`)."""
    parts: list[str] = []
    for value in (building, room):
        text = unicodedata.normalize("NFKC", value or "").upper()
        text = _CN_NUMBER.sub(lambda m: _cn_number(m.group()), text)
        for token in _TOKEN.findall(_DECORATION.sub(" ", text)):
            parts.append(token.lstrip("0") or "0" if token.isdigit() else token)
    return parts


def household(voter: Voter) -> str:
    """The household in clear (community:estate:flat), only ever hashed before it is stored. Spelling the flat
    another way when binding again does not make a new household."""
    return f"{voter.community_id}:{voter.estate_id or 0}:{'-'.join(household_parts(voter.building, voter.room))}"


def household_hash(secret: bytes, household_text: str) -> str:
    """`h:` + HMAC-SHA256 of the household under the deployment's secret (`LINLI_HOUSEHOLD_KEY`): equal for every
    member of a household and for the same household after a member erased their data and bound again, yet a
    copy of the database alone does not tell which room voted."""
    return "h:" + hmac.new(secret, household_text.encode("utf-8"), hashlib.sha256).hexdigest()


def voter_key(rule: Rule, voter: Voter, secret: bytes) -> str:
    """The key of one voice: the household (keyed hash of community+estate+building+room) or the person (anonymous
    ref)."""
    if rule.per_household:
        return household_hash(secret, household(voter))
    return f"r:{voter.ref}"


# ----- reading replies -----------------------------------------------------------------------------------------

class Back:
    pass


class Skip:
    pass


BACK, SKIP = Back(), Skip()


@dataclass(frozen=True)
class Parsed:
    value: Any = None  # an answer value, BACK or SKIP
    hint: str = ""  # when the reply is not a valid answer

    @property
    def ok(self) -> bool:
        return not self.hint


def normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip().rstrip("。.!！")


def _number(text: str) -> int | None:
    found = _ONE.match(text)
    if not found:
        return None
    raw = found.group(1)
    return int(raw) if raw.isdigit() else _CN[raw]


def _numbers(text: str, count: int) -> list[int] | None:
    if _SEPARATED.match(text):
        return [int(n) for n in re.split(r"[\s,，、;；/]+", text)]
    if re.fullmatch(r"\d+", text):
        if len(text) == 1 or count <= 9:
            return [int(c) for c in text]
        return None  # `13` is ambiguous with 10 or more options
    single = _number(text)
    return [single] if single is not None else None


def hint(q: dict) -> str:
    """The short reminder shown after a reply that is not a valid answer to `q`."""
    tail = "回复「跳过」可不答，" if is_optional(q) else ""
    kind = q.get("kind")
    if kind == "rating":
        head = "请回复 1 到 5 之间的一个数字（5 表示非常满意，1 表示非常不满意）。"
    elif kind == "single":
        head = f"请回复 1 到 {len(q['options'])} 之间的一个数字。"
    elif kind == "multiple":
        head = f"请回复 1 到 {len(q['options'])} 之间的数字，可选多个，用空格或逗号隔开，例如「1 3」。"
    else:
        head = f"请直接回复您的意见（{COMMENT_MAX} 字以内）。"
    return f"{head}{tail}回复「返回」修改上一题，「取消」暂停（已答内容会保存）。"


def parse_answer(q: dict, text: str) -> Parsed:
    """Read the resident's reply to question `q`: a value, BACK, SKIP, or a hint when it is not valid."""
    cleaned = normal(text)
    if cleaned in BACK_WORDS:
        return Parsed(BACK)
    if vocabulary.is_skip(cleaned) and is_optional(q):
        return Parsed(SKIP)
    kind = q.get("kind")
    if kind == "comment":
        if not cleaned or vocabulary.is_skip(cleaned):
            return Parsed(hint=hint(q))
        original = (text or "").strip()
        if len(original) > COMMENT_MAX:
            return Parsed(hint=f"意见请控制在 {COMMENT_MAX} 字以内（您写了 {len(original)} 字）。")
        return Parsed(original)
    if vocabulary.is_skip(cleaned):
        return Parsed(hint="本题必答，不能跳过。" + hint(q))
    if kind == "rating":
        if cleaned in q["labels"]:
            return Parsed(q["labels"].index(cleaned) + 1)
        n = _number(cleaned)
        return Parsed(n) if n is not None and 1 <= n <= 5 else Parsed(hint=hint(q))
    options = q["options"]
    if kind == "single":
        if cleaned in options:
            return Parsed(options.index(cleaned) + 1)
        n = _number(cleaned)
        return Parsed(n) if n is not None and 1 <= n <= len(options) else Parsed(hint=hint(q))
    picked = _numbers(cleaned, len(options))
    if not picked or any(not 1 <= n <= len(options) for n in picked):
        return Parsed(hint=hint(q))
    return Parsed(sorted(set(picked)))


def valid_value(q: dict, value: Any) -> bool:
    """Whether a stored value (e.g. from the API or a draft) is a valid answer to `q`."""
    kind = q.get("kind")
    if value is None:
        return is_optional(q)
    if kind == "rating":
        return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5
    if kind == "single":
        return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= len(q["options"])
    if kind == "multiple":
        return (isinstance(value, list) and bool(value) and len(set(value)) == len(value)
                and all(isinstance(v, int) and 1 <= v <= len(q["options"]) for v in value))
    return isinstance(value, str) and 0 < len(value) <= COMMENT_MAX


def first_missing(questions: list[dict], answers: dict) -> int | None:
    """Index of the first question without a stored answer (a skip counts as an answer), or None."""
    for i, q in enumerate(questions):
        if q["id"] not in answers or not valid_value(q, answers[q["id"]]):
            return i
    return None


# ----- wording -------------------------------------------------------------------------------------------------

def answer_label(q: dict, value: Any) -> str:
    if value is None:
        return "（未填）"
    kind = q.get("kind")
    if kind == "rating":
        return f"{value} 分 {q['labels'][value - 1]}"
    if kind == "single":
        return q["options"][value - 1]
    if kind == "multiple":
        return "、".join(q["options"][v - 1] for v in value)
    return str(value)


def question_text(q: dict, index: int, total: int, title: str = "") -> str:
    head = f"【{title}】" if title else ""
    lines = [f"{head}第 {index + 1}/{total} 题（{KIND_LABELS[q['kind']]}）：{q['title']}", q.get("text") or ""]
    if q["kind"] == "rating":
        lines += [f"{n}. {label}" for n, label in enumerate(q["labels"], 1)]
        lines.append("请回复 1–5 的数字（5 最满意）。")
    elif q["kind"] in ("single", "multiple"):
        lines += [f"{n}. {option}" for n, option in enumerate(q["options"], 1)]
        lines.append("请回复数字，可选多个，如「1 3」。" if q["kind"] == "multiple" else "请回复数字。")
    else:
        lines.append("请直接回复文字。")
    extras = ["「跳过」不答"] if is_optional(q) else []
    if index > 0:
        extras.append("「返回」改上一题")
    if extras:
        lines.append("可回复" + "，".join(extras) + "。")
    return "\n".join(line for line in lines if line)


def summary_text(questions: list[dict], answers: dict) -> str:
    lines = ["请核对您的回答："]
    for n, q in enumerate(questions, 1):
        lines.append(f"{n}. {q['title']}：{answer_label(q, answers.get(q['id']))}")
    lines.append("回复「确认」提交；回复题号（如「3」）修改该题；回复「返回」修改最后一题。")
    return "\n".join(lines)


def read_jump(text: str, total: int) -> int | None:
    """On the summary: a question number to change (0-based), or None."""
    n = _number(normal(text).removeprefix("修改"))
    return n - 1 if n is not None and 1 <= n <= total else None
