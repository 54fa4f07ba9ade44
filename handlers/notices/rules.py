"""The rules of disclosure notices, as pure functions (no database, no server).

- Categories (the policy's 三个公开 plus general notices), their chat short names and delivery category.
- States: draft → scheduled → published → corrected | withdrawn, and which action is allowed in which state.
- Who may approve: the level a notice's scope and category need, and the four-eyes rule.
- Tables: money parsed and totalled with Decimal, CSV import with line-numbered problems.
- The two-line summary pushed with a notice; Markdown → safe HTML lives in `markdown.py` (re-exported here).
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from bot import errors
from handlers.notices.markdown import plain_lines
from handlers.notices.markdown import render as render_markdown
from storage.models import StaffLevel

__all__ = ["render_markdown"]

CATEGORIES = {  # key → full name
    "property": "物业服务事项公示",
    "finance": "收支公示",
    "subsidy": "旧楼区补贴公示",
    "committee": "业委会工作公开",
    "meeting": "联席会议纪要",
    "general": "通知公告",
}
SHORT = {"property": "物业服务", "finance": "收支", "subsidy": "旧楼区补贴", "committee": "业委会",
         "meeting": "联席会议", "general": "通知"}
_WORDS = {**{v: k for k, v in CATEGORIES.items()}, **{v: k for k, v in SHORT.items()},
          "物业": "property", "财务": "finance", "账务": "finance", "补贴": "subsidy", "业主委员会": "committee",
          "会议纪要": "meeting", "会议": "meeting", "纪要": "meeting", "公告": "general", "通知公告": "general"}

STATES = {"draft": "草稿", "scheduled": "待发布", "published": "已发布", "corrected": "已更正", "withdrawn": "已撤回"}
LIVE = ("published", "corrected")  # visible to residents
ACTIONS = {  # action → states it is allowed in
    "edit": ("draft",),
    "submit": ("draft",),
    "approve": ("draft",),
    "publish_due": ("scheduled",),
    "correct": ("published", "corrected"),
    "withdraw": ("draft", "scheduled", "published", "corrected"),
}
SCOPE_LEVELS = ("estate", "community", "street", "district", "all")
SCOPE_LABELS = {"estate": "小区", "community": "社区", "street": "街道", "district": "区", "all": "全市"}
ROLES = {"owner": "业主", "tenant": "租户"}
RANK = {StaffLevel.community: 1, StaffLevel.street: 2, StaffLevel.district: 3, StaffLevel.admin: 4}
_LEVEL_FOR_SCOPE = {"estate": StaffLevel.community, "community": StaffLevel.community, "street": StaffLevel.street,
                    "district": StaffLevel.district, "all": StaffLevel.admin}
FOUR_EYES_EXEMPT = ("meeting",)  # minutes of a recorded meeting are confirmed by its attendees themselves


def category_of(word: str) -> str | None:
    """A category key from a Chinese name or short name (公示 收支 → finance); None if unknown."""
    word = unicodedata.normalize("NFKC", word or "").strip()
    if word in CATEGORIES:
        return word
    return _WORDS.get(word) or _WORDS.get(word.removesuffix("公示").removesuffix("公开"))


def delivery_category(category: str) -> str:
    return "meeting" if category == "meeting" else "notice"


def allowed(action: str, state: str) -> bool:
    return state in ACTIONS.get(action, ())


def state_problem(action: str, state: str) -> str | None:
    if allowed(action, state):
        return None
    verbs = {"edit": "修改", "submit": "提交审核", "approve": "审核发布", "correct": "更正", "withdraw": "撤回", "publish_due": "发布"}
    return f"该公示当前为「{STATES.get(state, state)}」，不能{verbs.get(action, action)}"


def required_level(category: str, scope_level: str) -> StaffLevel:
    """The lowest staff level that may approve: the scope's own level; 旧楼区补贴 needs the street office, which
    organises those disclosures under the policy."""
    level = _LEVEL_FOR_SCOPE[scope_level]
    if category == "subsidy" and RANK[level] < RANK[StaffLevel.street]:
        level = StaffLevel.street
    return level


def four_eyes_exempt(category: str, source: str | None) -> bool:
    """Only the minutes a recorded meeting produced skip the second person; a hand-written notice in the
    meeting category does not (choosing the category must not be a way around the rule)."""
    return category in FOUR_EYES_EXEMPT and (source or "").startswith("meeting:")


def approval_problem(*, level: StaffLevel, is_author: bool, category: str, scope_level: str,
                     in_jurisdiction: bool, four_eyes: bool = True, system: bool = False,
                     exempt: bool = False) -> str | None:
    """Why this staff member may not approve (publish, correct, withdraw) the notice; None when they may.
    `is_author`: they wrote the text to be approved (the draft, or the correction waiting for approval)."""
    if not in_jurisdiction:
        return "该公示的范围超出了您的辖区"
    needed = required_level(category, scope_level)
    if RANK[level] < RANK[needed]:
        return f"{CATEGORIES.get(category, category)}（{SCOPE_LABELS[scope_level]}范围）须由{needed.label}级及以上审核"
    if four_eyes and is_author and not system and not exempt:
        return "不能审核自己撰写的内容，请由同级或上级的另一位工作人员审核"
    return None


def needs_review(*, four_eyes: bool, exempt: bool) -> bool:
    """Whether a draft needs a second person (提交审核 → another staff member approves): always, unless four-eyes
    is switched off or the notice is exempt (minutes a recorded meeting produced)."""
    return four_eyes and not exempt


def reviewer_problem(*, level: StaffLevel, name: str, author: str, category: str, scope_level: str,
                     in_jurisdiction: bool) -> str | None:
    """Why a staff member is not a reviewer of a submitted draft (the 待审核 queue and its push): the approval
    rule with four eyes on — the author never reviews their own draft."""
    return approval_problem(level=level, is_author=name == author, category=category, scope_level=scope_level,
                            in_jurisdiction=in_jurisdiction)


# ---- money and tables ------------------------------------------------------------------------------------------

CENT = Decimal("0.01")
_MONEY_HINT = re.compile(r"元|金额|收入|支出|费|余额|补贴|款|合计|价")
_AMOUNT = re.compile(r"^[-+]?\d+(\.\d{1,2})?$")


class TableError(errors.Invalid):
    """A table that cannot be read; `problems` names each bad cell or line (also in the API's JSON)."""

    def __init__(self, problems: list[str]):
        super().__init__("；".join(problems), problems=problems)
        self.problems = problems


def parse_amount(raw: str) -> Decimal:
    """'¥1,234.5' / '1234.50元' / '（12.00）' / full-width digits → Decimal('1234.50'); ValueError otherwise."""
    text = unicodedata.normalize("NFKC", str(raw)).strip().replace(",", "").replace(" ", "")
    text = text.removeprefix("¥").removeprefix("￥").removesuffix("元")
    if text.startswith("(") and text.endswith(")"):
        text = "-" + text[1:-1]
    if not _AMOUNT.match(text):
        raise ValueError(f"“{raw}”不是金额（例如 1234.50）")
    try:
        return Decimal(text).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValueError(f"“{raw}”不是金额") from None


def format_amount(value: Decimal) -> str:
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


@dataclass(frozen=True)
class Table:
    title: str
    columns: list[str]
    money: list[bool]  # which columns hold amounts (totalled)
    rows: list[list[str]]

    def as_json(self) -> dict:
        return {"title": self.title, "columns": self.columns, "money": self.money, "rows": self.rows}


def table_from(raw: dict, where: str = "表格") -> Table:
    """Validate a table given as JSON ({title, columns, rows, money?}); amounts are normalised to 2 decimals."""
    if not isinstance(raw, dict):
        raise TableError([f"{where}格式有误"])
    columns = [str(c).strip() for c in raw.get("columns") or []]
    rows_in = raw.get("rows") or []
    problems = []
    if not columns or any(not c for c in columns):
        problems.append(f"{where}须有列名且不能为空")
    if len(columns) > 12:
        problems.append(f"{where}最多 12 列")
    if not isinstance(rows_in, list) or len(rows_in) > 500:
        problems.append(f"{where}最多 500 行")
    if problems:
        raise TableError(problems)
    cells = []
    for n, row in enumerate(rows_in, 1):
        row = [("" if c is None else str(c).strip()) for c in (row if isinstance(row, list) else [row])]
        if len(row) != len(columns):
            problems.append(f"{where}第{n}行有 {len(row)} 格，应为 {len(columns)} 格")
        cells.append((row + [""] * len(columns))[:len(columns)])
    money = raw.get("money")
    money = [bool(m) for m in money][:len(columns)] if isinstance(money, list) else guess_money(columns, cells)
    money += [False] * (len(columns) - len(money))
    for n, row in enumerate(cells, 1):
        for j, is_money in enumerate(money):
            if is_money and row[j]:
                try:
                    row[j] = str(parse_amount(row[j]))
                except ValueError as exc:
                    problems.append(f"{where}第{n}行「{columns[j]}」：{exc}")
    if problems:
        raise TableError(problems)
    return Table(str(raw.get("title") or "").strip()[:100], columns, money, cells)


def guess_money(columns: list[str], rows: list[list[str]]) -> list[bool]:
    """A column holds money when its name says so (元, 金额, 收入, 支出, 费…) and at least half of its filled cells
    are amounts (the others are then reported as errors rather than silently dropping the column's total)."""
    guessed = []
    for j, name in enumerate(columns):
        values = [r[j] for r in rows if j < len(r) and r[j]]
        good = 0
        for v in values:
            try:
                parse_amount(v)
                good += 1
            except ValueError:
                pass
        guessed.append(j > 0 and bool(_MONEY_HINT.search(name)) and bool(values) and good * 2 >= len(values))
    return guessed


def totals(table: Table) -> list[Decimal | None]:
    """The sum of each money column (Decimal, exact), None for other columns."""
    sums: list[Decimal | None] = []
    for j, is_money in enumerate(table.money):
        sums.append(sum((Decimal(r[j]) for r in table.rows if r[j]), Decimal("0.00")) if is_money else None)
    return sums


def table_from_csv(text: str, title: str = "") -> Table:
    """CSV (first row = column names; UTF-8 or GBK already decoded) → Table; problems name the line."""
    text = text.lstrip("\ufeff")
    try:
        rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise TableError([f"CSV 格式有误：{exc}"]) from None
    if len(rows) < 2:
        raise TableError(["CSV 至少要有表头和一行数据"])
    header, body = rows[0], rows[1:]
    problems = [f"第{n}行有 {len(r)} 列，表头有 {len(header)} 列" for n, r in enumerate(body, 2)
                if len(r) != len(header)]
    if problems:
        raise TableError(problems)
    try:
        return table_from({"title": title, "columns": header, "rows": body}, "CSV ")
    except TableError as exc:  # renumber to CSV lines (data row n is line n+1)
        raise TableError([re.sub(r"第(\d+)行", lambda m: f"第{int(m.group(1)) + 1}行", p) for p in exc.problems]
                         ) from None


def decode_upload(data: bytes) -> str:
    """Bytes of an uploaded CSV: UTF-8 (with or without BOM), else GBK (as saved by Excel in China)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError(["无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV"])


# ---- summary -----------------------------------------------------------------------------------------------------

LINE_MAX = 40


def _cut(text: str, limit: int = LINE_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary(body: str, tables: list[Table]) -> str:
    """Two lines for the push: the body's first line, then money totals (or the body's next line)."""
    lines = [_cut(x) for x in plain_lines(body)]
    second = None
    for table in tables:
        sums = [f"{c}合计 {format_amount(s)}" for c, s in zip(table.columns, totals(table)) if s is not None]
        if sums:
            second = _cut("，".join(sums))
            break
    picked = lines[:1] + ([second] if second else lines[1:2])
    return "\n".join(picked) or "详见公示全文"
