"""The owners' decision rules (业主共同决定, Civil Code art. 278), as pure functions with exact arithmetic.

Art. 278 (民法典第二百七十八条): every matter needs the participation of owners holding ≥ 2/3 of the exclusive area
(专有部分面积) **and** ≥ 2/3 of the owners by number; an ordinary matter passes with more than half of the
participating area **and** of the participating owners; items 6–8 (raising the repair fund, rebuilding, changing
the use of common parts or running a business on them) need ≥ 3/4 of both. The thresholds come from a city's
entry in `thresholds.yaml` (`load_rule`), and the rule applied is stored with the result (`Rule.as_dict`).

How owners are counted (最高人民法院《关于审理建筑物区分所有权纠纷案件适用法律若干问题的解释》第八条、第九条):
- area: the exclusive area of each room (m², two decimals, `Decimal`), summed exactly;
- headcount: one room is one owner; the rooms held by the same owner(s) count once together. A room's holder is
  the set of its co-owners on the roster (`holder_key`): co-owners of one room are one owner and the room votes
  once; one person holding several rooms alone is one owner. Rooms with no owner on the roster (unsold or not
  yet delivered: the developer's) count together as one owner.
- a room's vote is its first confirmed ballot (a later one from a co-owner is refused; the same voter may change
  it before the close). When one holder's rooms carry different choices (paper ballots), the holder's head goes
  to the choice that carries the larger voted area of its rooms; on equal areas, to the earliest ballot's choice.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

HERE = Path(__file__).parent
THRESHOLDS_FILE = HERE / "thresholds.yaml"
KINDS = {"ordinary": "一般事项", "special": "重大事项（民法典第二百七十八条第一款第六至八项）"}
CHOICES = {"yes": "同意", "no": "反对", "abstain": "弃权"}
CHOICE_WORDS = {"1": "yes", "同意": "yes", "赞成": "yes", "支持": "yes",
                "2": "no", "反对": "no", "不同意": "no",
                "3": "abstain", "弃权": "abstain"}
UNLISTED = "unlisted"  # the holder key of rooms with no owner on the roster
MAX_AREA = Decimal("100000.00")
CENT = Decimal("0.01")


class RuleError(ValueError):
    """A thresholds file or entry that cannot be used; the message is Chinese."""


@dataclass(frozen=True)
class Threshold:
    """`share` of the whole: `strict` means more than the share (过半数), else at least it (三分之二以上)."""

    share: Fraction
    strict: bool = False

    def met(self, part: Fraction | Decimal | int, whole: Fraction | Decimal | int) -> bool:
        part, whole = Fraction(part), Fraction(whole)
        if whole <= 0:
            return False
        return part > self.share * whole if self.strict else part >= self.share * whole

    def describe(self) -> str:
        return f"{'超过' if self.strict else '不少于'}{_fraction_text(self.share)}"

    def as_dict(self) -> dict:
        return {"share": f"{self.share.numerator}/{self.share.denominator}", "strict": self.strict}


@dataclass(frozen=True)
class Rule:
    """The thresholds of one city, named, with the article they come from."""

    city: str
    basis: str
    quorum_area: Threshold
    quorum_heads: Threshold
    ordinary: Threshold
    special: Threshold

    def passing(self, kind: str) -> Threshold:
        return self.special if kind == "special" else self.ordinary

    def as_dict(self, kind: str) -> dict:
        return {"city": self.city, "basis": self.basis, "kind": kind,
                "quorum_area": self.quorum_area.as_dict(), "quorum_heads": self.quorum_heads.as_dict(),
                "pass": self.passing(kind).as_dict()}

    def describe(self, kind: str) -> str:
        passing = self.passing(kind)
        return (f"依据{self.basis}：{KINDS.get(kind, kind)}应由专有部分面积{self.quorum_area.describe()}的业主且人数"
                f"{self.quorum_heads.describe()}的业主参与表决，并经参与表决专有部分面积{passing.describe()}的业主且"
                f"参与表决人数{passing.describe()}的业主同意。")


def _fraction_text(share: Fraction) -> str:
    names = {Fraction(1, 2): "半数", Fraction(2, 3): "三分之二", Fraction(3, 4): "四分之三"}
    return names.get(share, f"{share.numerator}/{share.denominator}")


def _threshold(raw: Any, where: str) -> Threshold:
    if not isinstance(raw, Mapping) or "share" not in raw:
        raise RuleError(f"{where} 应写成 {{share: 2/3, strict: false}}")
    try:
        share = Fraction(str(raw["share"]))
    except (ValueError, ZeroDivisionError):
        raise RuleError(f"{where} 的 share 不是分数：{raw['share']!r}") from None
    if not 0 < share <= 1:
        raise RuleError(f"{where} 的 share 应在 0 和 1 之间")
    strict = raw.get("strict", False)
    if not isinstance(strict, bool):
        raise RuleError(f"{where} 的 strict 应为 true 或 false")
    return Threshold(share, strict)


def parse_rules(data: Any) -> dict[str, Rule]:
    """The rules of every city in a thresholds document (see thresholds.yaml); RuleError on any problem."""
    if not isinstance(data, Mapping) or not isinstance(data.get("cities"), Mapping) or not data["cities"]:
        raise RuleError("表决规则文件应有 cities: 一节，每个城市一条")
    out = {}
    for city, entry in data["cities"].items():
        if not isinstance(entry, Mapping):
            raise RuleError(f"城市 {city} 的规则应为映射")
        out[str(city)] = Rule(str(city), str(entry.get("basis") or "《中华人民共和国民法典》第二百七十八条"),
                              *(_threshold(entry.get(k), f"{city}.{k}")
                                for k in ("quorum_area", "quorum_heads", "ordinary", "special")))
    return out


def load_rule(city: str, path: Path = THRESHOLDS_FILE) -> Rule:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RuleError(f"无法读取表决规则文件 {path}：{exc}") from None
    rules = parse_rules(data)
    if city not in rules:
        raise RuleError(f"表决规则文件中没有城市 {city}（有：{'、'.join(rules)}）")
    return rules[city]


def rule_from_dict(stored: Mapping) -> tuple[Rule, str]:
    """The rule and kind stored with a result (`Rule.as_dict`), for a recount under the same rule."""
    passing = _threshold(stored["pass"], "pass")
    return Rule(stored["city"], stored["basis"], _threshold(stored["quorum_area"], "quorum_area"),
                _threshold(stored["quorum_heads"], "quorum_heads"), passing, passing), stored["kind"]


# ------------------------------------------------------------------------------------------------ values


def parse_area(raw: Any) -> Decimal | None:
    """An exclusive area in m² (at most two decimals, 0 < area ≤ 100000), or None."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, float):  # a spreadsheet cell: its shortest decimal form
        raw = repr(raw)
    text = str(raw).strip().replace("㎡", "").replace("m²", "").replace("平方米", "").replace("平米", "").strip()
    if not re.fullmatch(r"[0-9]{1,6}(?:\.[0-9]{1,2})?|[0-9]{1,6}\.[0-9]{2}0+", text):
        return None
    value = Decimal(text).quantize(CENT, rounding=ROUND_HALF_UP)
    return value if Decimal(0) < value <= MAX_AREA else None


def area_text(value: Decimal | Fraction) -> str:
    dec = value if isinstance(value, Decimal) else Decimal(value.numerator) / Decimal(value.denominator)
    return f"{dec.quantize(CENT, rounding=ROUND_HALF_UP)}"


def normal_phone(raw: Any) -> str | None:
    """The phone as digits (a leading +86/86 of a mobile dropped), 7–15 digits, or None."""
    if raw is None:
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if isinstance(raw, float) and raw.is_integer():
        raw = str(int(raw))
    digits = re.sub(r"[\s\-()（）+]", "", str(raw))
    if not digits.isascii() or not digits.isdigit():
        return None
    if len(digits) == 13 and digits.startswith("86") and digits[2] == "1":
        digits = digits[2:]
    return digits if 7 <= len(digits) <= 15 else None


def mask_phone(phone: str | None) -> str | None:
    """138****5678: the first three and last four digits."""
    if not phone:
        return None
    if len(phone) <= 7:
        return phone[:1] + "*" * (len(phone) - 3) + phone[-2:]
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def parse_choice(text: str) -> str | None:
    return CHOICE_WORDS.get((text or "").strip().rstrip("。.!！"))


def holder_key(owner_ids: Iterable[int]) -> str:
    """The holder of a room: its co-owners' roster ids (a room without owners: the developer, UNLISTED)."""
    ids = sorted(set(owner_ids))
    return ",".join(str(i) for i in ids) if ids else UNLISTED


# ------------------------------------------------------------------------------------------------ counting


@dataclass(frozen=True)
class RoomShare:
    """A room in a vote's scope: its id, building label, exclusive area and holder (`holder_key`)."""

    room_id: int
    building: str
    area: Decimal
    holder: str


@dataclass(frozen=True)
class BallotFact:
    """A counted ballot: the room, the choice, and its order (earlier first) for ties."""

    room_id: int
    choice: str
    order: int


@dataclass
class Measure:
    """One measure (area in m², or heads) of a vote."""

    total: Fraction = Fraction(0)
    voted: Fraction = Fraction(0)
    by_choice: dict[str, Fraction] = field(default_factory=lambda: {c: Fraction(0) for c in CHOICES})

    def as_dict(self, area: bool) -> dict:
        def show(v: Fraction) -> str | int:
            return area_text(v) if area else int(v)
        return {"total": show(self.total), "voted": show(self.voted),
                **{c: show(v) for c, v in self.by_choice.items()}}


@dataclass
class Tally:
    kind: str
    rule: Rule
    area: Measure
    heads: Measure
    quorum_area: bool
    quorum_heads: bool
    pass_area: bool
    pass_heads: bool

    @property
    def quorum(self) -> bool:
        return self.quorum_area and self.quorum_heads

    @property
    def passed(self) -> bool:
        return self.quorum and self.pass_area and self.pass_heads

    def as_dict(self) -> dict:
        return {"kind": self.kind, "rule": self.rule.as_dict(self.kind), "area": self.area.as_dict(True),
                "heads": self.heads.as_dict(False), "quorum_area": self.quorum_area,
                "quorum_heads": self.quorum_heads, "pass_area": self.pass_area, "pass_heads": self.pass_heads,
                "quorum": self.quorum, "passed": self.passed}

    def verdict(self) -> str:
        if not self.quorum:
            missing = [m for m, ok in (("面积", self.quorum_area), ("人数", self.quorum_heads)) if not ok]
            return f"参与表决的{'和'.join(missing)}未达到法定比例，表决无效（未通过）"
        if self.passed:
            return "通过"
        failed = [m for m, ok in (("面积", self.pass_area), ("人数", self.pass_heads)) if not ok]
        return f"未通过（同意的{'和'.join(failed)}未达到法定比例）"


def holder_choices(rooms: Iterable[RoomShare], ballots: Iterable[BallotFact]) -> dict[str, str]:
    """Each voting holder's choice for the headcount: the choice with the larger voted area of its rooms; on equal
    areas, the earliest ballot's."""
    by_room = {r.room_id: r for r in rooms}
    weights: dict[str, dict[str, Decimal]] = {}
    first: dict[str, dict[str, int]] = {}
    for ballot in ballots:
        room = by_room.get(ballot.room_id)
        if room is None:
            continue
        w = weights.setdefault(room.holder, {})
        w[ballot.choice] = w.get(ballot.choice, Decimal(0)) + room.area
        f = first.setdefault(room.holder, {})
        f[ballot.choice] = min(f.get(ballot.choice, ballot.order), ballot.order)
    return {holder: min(w, key=lambda c: (-w[c], first[holder][c])) for holder, w in weights.items()}


def tally(rooms: Iterable[RoomShare], ballots: Iterable[BallotFact], kind: str, rule: Rule) -> Tally:
    """The result on both measures. `ballots`: at most one per room (the counted ones); others are ignored."""
    rooms = list(rooms)
    by_room = {r.room_id: r for r in rooms}
    counted: dict[int, BallotFact] = {}
    for ballot in sorted(ballots, key=lambda b: b.order):
        if ballot.room_id in by_room and ballot.room_id not in counted and ballot.choice in CHOICES:
            counted[ballot.room_id] = ballot
    area, heads = Measure(), Measure()
    area.total = sum((Fraction(r.area) for r in rooms), Fraction(0))
    heads.total = Fraction(len({r.holder for r in rooms}))
    for ballot in counted.values():
        room = by_room[ballot.room_id]
        area.voted += Fraction(room.area)
        area.by_choice[ballot.choice] += Fraction(room.area)
    for _holder, choice in holder_choices(rooms, counted.values()).items():
        heads.voted += 1
        heads.by_choice[choice] += 1
    passing = rule.passing(kind)
    return Tally(kind, rule, area, heads,
                 quorum_area=rule.quorum_area.met(area.voted, area.total),
                 quorum_heads=rule.quorum_heads.met(heads.voted, heads.total),
                 pass_area=passing.met(area.by_choice["yes"], area.voted),
                 pass_heads=passing.met(heads.by_choice["yes"], heads.voted))


@dataclass(frozen=True)
class Turnout:
    building: str
    rooms: int
    voted_rooms: int
    area: Fraction
    voted_area: Fraction
    heads: int
    voted_heads: int

    def as_dict(self) -> dict:
        return {"building": self.building, "rooms": self.rooms, "voted_rooms": self.voted_rooms,
                "area": area_text(self.area), "voted_area": area_text(self.voted_area), "heads": self.heads,
                "voted_heads": self.voted_heads}


def turnout(rooms: Iterable[RoomShare], voted_room_ids: Iterable[int]) -> list[Turnout]:
    """Participation per building (area and headcount within the building), never how anyone voted."""
    voted = set(voted_room_ids)
    groups: dict[str, list[RoomShare]] = {}
    for room in rooms:
        groups.setdefault(room.building, []).append(room)
    out = []
    for building in sorted(groups, key=building_order):
        members = groups[building]
        out.append(Turnout(building, len(members), sum(1 for r in members if r.room_id in voted),
                           sum((Fraction(r.area) for r in members), Fraction(0)),
                           sum((Fraction(r.area) for r in members if r.room_id in voted), Fraction(0)),
                           len({r.holder for r in members}),
                           len({r.holder for r in members if r.room_id in voted})))
    return out


def building_order(label: str) -> tuple:
    digits = re.match(r"[0-9]+", label)
    return (0, int(digits.group()), label) if digits else (1, 0, label)


def share_text(part: Fraction, whole: Fraction) -> str:
    if whole <= 0:
        return "—"
    pct = Decimal(part.numerator * 100 * whole.denominator) / Decimal(part.denominator * whole.numerator)
    return f"{pct.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"



# ------------------------------------------------------------------------------------------------ elections

TOPICS = {"general": "一般表决事项", "repair_fund": "维修资金使用", "election": "业主委员会选举"}
MAX_CANDIDATES = 30


def parse_picks(text: str, candidates: int, seats: int) -> str | None:
    """An election ballot as typed: candidate numbers (「1 3」「1、3」, at most `seats`, distinct) → "c:0,2";
    「弃权」 → "abstain"; None when unclear."""
    cleaned = (text or "").strip().rstrip("。.!！")
    if cleaned in ("弃权", "3弃权"):
        return "abstain"
    numbers = re.split(r"[\s,，、;；]+", cleaned)
    if not numbers or not all(n.isascii() and n.isdigit() and len(n) <= 3 for n in numbers):
        return None
    picked = sorted({int(n) - 1 for n in numbers})
    if len(picked) != len(numbers) or len(picked) > seats or any(not 0 <= p < candidates for p in picked):
        return None
    return "c:" + ",".join(str(p) for p in picked)


def picks_of(choice: str) -> list[int]:
    """The candidate indices of an election ballot's choice ("c:0,2"); none for "abstain"."""
    if not choice.startswith("c:") or choice == "c:":
        return []
    return [int(p) for p in choice[2:].split(",")]


def valid_election_choice(choice: str, candidates: int, seats: int) -> bool:
    if choice == "abstain":
        return True
    if not re.fullmatch(r"c:[0-9]{1,2}(?:,[0-9]{1,2})*", choice or ""):
        return False
    picks = picks_of(choice)
    return len(set(picks)) == len(picks) <= seats and all(0 <= p < candidates for p in picks) and \
        picks == sorted(picks)


@dataclass
class Election:
    rule: Rule
    area: Measure
    heads: Measure
    candidates: list[dict]  # {"name", "area", "heads", "pass_area", "pass_heads", "elected"}
    quorum_area: bool
    quorum_heads: bool
    seats: int

    @property
    def quorum(self) -> bool:
        return self.quorum_area and self.quorum_heads

    @property
    def elected(self) -> list[str]:
        return [c["name"] for c in self.candidates if c["elected"]]

    def as_dict(self) -> dict:
        return {"kind": "ordinary", "topic": "election", "rule": self.rule.as_dict("ordinary"), "seats": self.seats,
                "area": {"total": area_text(self.area.total), "voted": area_text(self.area.voted)},
                "heads": {"total": int(self.heads.total), "voted": int(self.heads.voted)},
                "quorum_area": self.quorum_area, "quorum_heads": self.quorum_heads, "quorum": self.quorum,
                "candidates": self.candidates, "elected": self.elected, "passed": bool(self.elected)}

    def verdict(self) -> str:
        if not self.quorum:
            return "参与表决的面积或人数未达到法定比例，选举无效"
        if not self.elected:
            return "没有候选人获得参与表决面积和人数的双过半数，无人当选"
        return "当选：" + "、".join(self.elected)


def election(rooms: Iterable[RoomShare], ballots: Iterable[BallotFact], candidates: list[str], seats: int,
             rule: Rule) -> Election:
    """Committee election (art. 278 item 2, an ordinary matter): the quorum on both measures as for any matter;
    each candidate needs more than half of the participating area **and** of the participating owners (the
    city's ordinary threshold); when more candidates pass than there are seats, the seats go by owners' votes,
    then area, then the order on the ballot."""
    rooms = list(rooms)
    by_room = {r.room_id: r for r in rooms}
    counted: dict[int, BallotFact] = {}
    for ballot in sorted(ballots, key=lambda b: b.order):
        if ballot.room_id in by_room and ballot.room_id not in counted and \
                valid_election_choice(ballot.choice, len(candidates), seats):
            counted[ballot.room_id] = ballot
    area, heads = Measure(), Measure()
    area.total = sum((Fraction(r.area) for r in rooms), Fraction(0))
    heads.total = Fraction(len({r.holder for r in rooms}))
    area.voted = sum((Fraction(by_room[b.room_id].area) for b in counted.values()), Fraction(0))
    holders = holder_choices(rooms, counted.values())
    heads.voted = Fraction(len(holders))
    rows: list[dict] = []
    keys: list[tuple] = []
    for index, name in enumerate(candidates):
        yes_area = sum((Fraction(by_room[b.room_id].area) for b in counted.values() if index in picks_of(b.choice)),
                       Fraction(0))
        yes_heads = sum(1 for choice in holders.values() if index in picks_of(choice))
        rows.append({"name": name, "area": area_text(yes_area), "heads": yes_heads,
                     "pass_area": rule.ordinary.met(yes_area, area.voted),
                     "pass_heads": rule.ordinary.met(yes_heads, heads.voted), "elected": False})
        keys.append((-yes_heads, -yes_area, index))
    quorum_area = rule.quorum_area.met(area.voted, area.total)
    quorum_heads = rule.quorum_heads.met(heads.voted, heads.total)
    if quorum_area and quorum_heads:
        passing = sorted((i for i, r in enumerate(rows) if r["pass_area"] and r["pass_heads"]), key=lambda i: keys[i])
        for i in passing[:seats]:
            rows[i]["elected"] = True
    return Election(rule, area, heads, rows, quorum_area, quorum_heads, seats)
