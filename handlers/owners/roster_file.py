"""Reading a household roster file (.csv or .xlsx, as the property company or housing authority keeps it) into a
plan, with every bad row reported by its line; nothing touches the database here.

One row per owner of a room (a room with two co-owners has two rows; a room with no owner on record, one row with
the owner's columns empty). Columns, by their Chinese header (English aliases accepted):

| 列 | 含义 |
|---|---|
| 小区编码 (estate_code) | the estate's code in the org tree (`linli org import`) |
| 楼号 (building) | building label, e.g. 3 |
| 单元 (unit) | unit label; may be empty |
| 房号 (room) | room label, e.g. 501 |
| 专有部分面积 (area) | m², at most two decimals |
| 业主姓名 (owner) | may be empty for a room without an owner on record |
| 联系电话 (phone) | the owner's phone, used for verification; may be empty |
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from handlers.hotline.sheet import SheetError, read
from handlers.owners import rules

COLUMNS = {"estate_code": ("小区编码", "estate_code"), "building": ("楼号", "楼栋", "building"),
           "unit": ("单元", "unit"), "room": ("房号", "室号", "room"),
           "area": ("专有部分面积", "建筑面积", "面积", "area"), "owner": ("业主姓名", "业主", "owner"),
           "phone": ("联系电话", "电话", "手机", "phone")}
REQUIRED = ("estate_code", "building", "room", "area")
MAX_LABEL = {"building": 32, "unit": 16, "room": 32}
MAX_PROBLEMS = 500
MAX_BYTES = 20 * 1024 * 1024  # one file, by the CLI or the console's upload


class RosterFileError(ValueError):
    """The file has problems; nothing was imported. `problems`: each in Chinese, with its line."""

    def __init__(self, problems: list[str], source: str = ""):
        self.problems = problems
        self.message = f"名册文件{(' ' + source) if source else ''}有 {len(problems)} 处问题，未导入任何数据"
        super().__init__(self.message)


@dataclass
class RoomPlan:
    estate_code: str
    building: str
    unit: str
    room: str
    area: Decimal
    line: int
    owners: list[tuple[str, str | None]] = field(default_factory=list)  # (name, phone digits)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.estate_code, self.building, self.unit, self.room)


@dataclass
class RosterPlan:
    rooms: dict[tuple[str, str, str, str], RoomPlan] = field(default_factory=dict)
    rows: int = 0
    repeated: int = 0

    @property
    def estate_codes(self) -> set[str]:
        return {key[0] for key in self.rooms}


def label(raw) -> str:
    """A building/unit/room label: NFKC, spaces gone, a float cell's `.0` dropped, 号楼/栋/单元/室 kept out."""
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = unicodedata.normalize("NFKC", str(raw)).strip().replace(" ", "")
    for suffix in ("号楼", "栋", "幢", "单元", "室", "门"):
        text = text.removesuffix(suffix)
    return text


def _columns(header: list[str]) -> tuple[dict[str, int], list[str]]:
    found, problems = {}, []
    names = [unicodedata.normalize("NFKC", h or "").strip().lower() for h in header]
    for key, aliases in COLUMNS.items():
        for alias in aliases:
            if alias.lower() in names:
                found[key] = names.index(alias.lower())
                break
    missing = [COLUMNS[k][0] for k in REQUIRED if k not in found]
    if missing:
        problems.append(f"表头缺少列：{'、'.join(missing)}（应有 小区编码、楼号、单元、房号、专有部分面积、业主姓名、联系电话）")
    return found, problems


def parse(data: bytes, filename: str) -> RosterPlan:
    """The plan of a roster file; RosterFileError with every problem (by line) when anything is wrong."""
    try:
        sheet = read(data, filename)
    except SheetError as exc:
        raise RosterFileError([str(exc).replace("12345 平台导出的", "名册")], filename) from None
    columns, problems = _columns(sheet.header)
    if problems:
        raise RosterFileError(problems, filename)
    plan = RosterPlan()
    seen: set[tuple] = set()

    def cell(values: list, key: str):
        index = columns.get(key)
        return values[index] if index is not None and index < len(values) else None

    for line, values in sheet.rows:
        plan.rows += 1
        row_problems = []
        code = label(cell(values, "estate_code")).upper()
        parts = {k: label(cell(values, k)) for k in ("building", "unit", "room")}
        if not code:
            row_problems.append("小区编码为空")
        for key in ("building", "room"):
            if not parts[key]:
                row_problems.append(f"{COLUMNS[key][0]}为空")
        for key, limit in MAX_LABEL.items():
            if len(parts[key]) > limit:
                row_problems.append(f"{COLUMNS[key][0]}过长（最多 {limit} 个字）")
        area = rules.parse_area(cell(values, "area"))
        if area is None:
            row_problems.append(f"专有部分面积「{cell(values, 'area') or ''}」无效（应为大于 0 的平方米数，最多两位小数）")
        raw_name = cell(values, "owner")
        name = unicodedata.normalize("NFKC", str(raw_name)).strip() if raw_name not in (None, "") else ""
        raw_phone = cell(values, "phone")
        phone = rules.normal_phone(raw_phone) if raw_phone not in (None, "") else None
        if raw_phone not in (None, "") and phone is None:
            row_problems.append("联系电话无效（应为 7–15 位数字）")
        if phone and not name:
            row_problems.append("有联系电话但没有业主姓名")
        if len(name) > 64:
            row_problems.append("业主姓名过长（最多 64 个字）")
        if row_problems:
            problems.append(f"第{line}行：{'；'.join(row_problems)}")
            if len(problems) >= MAX_PROBLEMS:
                problems.append(f"问题过多，只列出前 {MAX_PROBLEMS} 处")
                break
            continue
        assert area is not None
        key = (code, parts["building"], parts["unit"], parts["room"])
        exact = (*key, area, name, phone)
        if exact in seen:
            plan.repeated += 1
            continue
        seen.add(exact)
        room = plan.rooms.get(key)
        if room is None:
            room = plan.rooms[key] = RoomPlan(*key, area=area, line=line)
        elif room.area != area:
            problems.append(f"第{line}行：同一房屋在第{room.line}行的面积是 {room.area}，此处是 {area}")
            continue
        if name:
            if any(n == name and p == phone for n, p in room.owners):
                plan.repeated += 1
                continue
            room.owners.append((name, phone))
    if problems:
        raise RosterFileError(problems, filename)
    if not plan.rooms:
        raise RosterFileError(["文件中没有房屋数据"], filename)
    return plan


def place_text(building: str, unit: str, room: str) -> str:
    return f"{building}号楼{unit + '单元' if unit else ''}{room}室"
