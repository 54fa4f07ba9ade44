"""Import the jurisdiction tree (区县 → 街道 → 社区 → 小区), partners and staff from a CSV or YAML file.

Three steps, so that a bad file never leaves half an organisation behind:

1. `read_org_file(path)` parses the file (pure, no database) into an `OrgPlan`, recording every problem it finds
   with its line number and field; `parse_org_file(path)` does the same but raises `OrgImportError` on problems.
2. `check_org_plan(session, plan)` compares the plan with the database (unknown company/developer/node codes,
   a street that already belongs to another district, ...).
3. `apply_org_plan(session, plan)` raises `OrgImportError` with the problems of steps 1 and 2 together, or
   upserts everything by code inside the caller's transaction and returns an `ImportSummary`.

Re-importing the same file changes nothing; a changed name updates the row. Empty optional fields keep what the
database already has. The file format is documented in docs/org-import.md.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, TypeAlias

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import password_policy
from storage.models import (
    Community,
    Developer,
    District,
    Estate,
    OrgModel,
    PropertyCompany,
    Staff,
    StaffLevel,
    Street,
    utcnow,
)
from storage.passwords import hash_password, verify_password

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MIN_PASSWORD_LENGTH = password_policy.MIN_LENGTH
MAX_HOUSEHOLDS = 1_000_000
IN_CHUNK = 500  # codes per IN (...) query, well under SQLite's parameter limit

KINDS = ("districts", "streets", "communities", "estates", "property_companies", "developers", "staff")
LABEL = {
    "districts": "区县",
    "streets": "街道",
    "communities": "社区",
    "estates": "小区",
    "property_companies": "物业服务企业",
    "developers": "开发建设单位",
    "staff": "工作人员账号",
}
NAME_MAX = {"districts": 64, "streets": 64, "communities": 64, "estates": 64,
            "property_companies": 128, "developers": 128, "staff": 64}
PARENT = {"streets": "districts", "communities": "streets", "estates": "communities"}
PARENT_COLUMN = {"streets": "district_id", "communities": "street_id", "estates": "community_id"}
NodeModel: TypeAlias = OrgModel | type[PropertyCompany] | type[Developer]
NodeRow: TypeAlias = District | Street | Community | Estate | PropertyCompany | Developer
MODEL: dict[str, NodeModel] = {"districts": District, "streets": Street, "communities": Community, "estates": Estate,
                               "property_companies": PropertyCompany, "developers": Developer}
LEVEL_KIND = {"district": "districts", "street": "streets", "community": "communities"}

CSV_REQUIRED = ("district_code", "district", "street_code", "street", "community_code", "community")
CSV_ESTATE = ("estate_code", "estate", "property_company_code", "property_company", "developer_code",
              "developer", "households")
CSV_COLUMNS = CSV_REQUIRED + CSV_ESTATE
NULLS = {"~", "null", "Null", "NULL"}


# --------------------------------------------------------------------------------------------- data types


class OrgImportError(Exception):
    """The file (or its fit with the database) has problems; `problems` lists each in Chinese, by line."""

    def __init__(self, problems: list[str], source: str = ""):
        self.problems = list(problems)
        self.source = source
        name = f"导入文件 {source} " if source else "导入文件"
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{name}有 {len(self.problems)} 处问题，未导入任何数据：\n{lines}")


@dataclass
class Where:
    """The line and the field name (as written in the file) that a value came from."""

    line: int
    field: str

    def __str__(self) -> str:
        return f"第{self.line}行 {self.field}" if self.line else self.field


@dataclass
class NodeSpec:
    """A district, street, community, property-service company or developer declared by the file."""

    code: str
    name: str
    where: dict[str, Where]
    parent: str | None = None  # the parent's code for streets and communities

    @property
    def line(self) -> int:
        return self.where["code"].line


@dataclass
class EstateSpec(NodeSpec):
    property_company: str | None = None
    developer: str | None = None
    households: int | None = None


@dataclass
class StaffSpec:
    username: str
    name: str
    level: StaffLevel
    node: str | None
    where: dict[str, Where]
    password: str | None = field(default=None, repr=False)
    # a partner organisation's account (承办单位, issue 18): a property company's or developer's code, or
    # dept:名称; such an account has no level of its own (stored as community) and no node
    partner: str | None = None


@dataclass
class OrgPlan:
    """What a file declares, keyed by code (staff by username), plus the problems found while reading it."""

    source: str = ""
    districts: dict[str, NodeSpec] = field(default_factory=dict)
    streets: dict[str, NodeSpec] = field(default_factory=dict)
    communities: dict[str, NodeSpec] = field(default_factory=dict)
    estates: dict[str, EstateSpec] = field(default_factory=dict)
    property_companies: dict[str, NodeSpec] = field(default_factory=dict)
    developers: dict[str, NodeSpec] = field(default_factory=dict)
    staff: dict[str, StaffSpec] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    demo: bool = False  # the demo file: its published passwords are allowed, and must be changed at first login

    def table(self, kind: str) -> dict:
        return getattr(self, kind)


@dataclass
class KindCount:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportSummary:
    """Rows created, updated and left unchanged per kind."""

    districts: KindCount = field(default_factory=KindCount)
    streets: KindCount = field(default_factory=KindCount)
    communities: KindCount = field(default_factory=KindCount)
    estates: KindCount = field(default_factory=KindCount)
    property_companies: KindCount = field(default_factory=KindCount)
    developers: KindCount = field(default_factory=KindCount)
    staff: KindCount = field(default_factory=KindCount)

    def count(self, kind: str) -> KindCount:
        return getattr(self, kind)

    @property
    def changed(self) -> int:
        return sum(self.count(k).created + self.count(k).updated for k in KINDS)

    def describe(self) -> str:
        parts = []
        for kind in KINDS:
            c = self.count(kind)
            parts.append(f"{LABEL[kind]}：新建 {c.created}，更新 {c.updated}，未变 {c.unchanged}")
        return "\n".join(parts)


# --------------------------------------------------------------------------------------------- reading


def parse_org_file(path: str | Path, *, demo: bool = False) -> OrgPlan:
    """Read `path` (.csv, .yaml or .yml); raise `OrgImportError` listing every problem found in the file."""
    plan = read_org_file(path, demo=demo)
    if plan.problems:
        raise OrgImportError(plan.problems, plan.source)
    return plan


def read_org_file(path: str | Path, *, demo: bool = False) -> OrgPlan:
    """Read `path` into a plan; problems are collected in `plan.problems` instead of raised."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".yaml", ".yml"):
        return OrgPlan(source=path.name, problems=[f"不支持的文件类型“{path.suffix}”，请使用 .csv、.yaml 或 .yml"])
    try:
        data = path.read_bytes()
    except OSError as exc:
        return OrgPlan(source=path.name, problems=[f"无法读取文件：{exc.strerror or exc}"])
    return parse_org_bytes(data, "csv" if suffix == ".csv" else "yaml", source=path.name, demo=demo)


def parse_org_bytes(data: bytes, kind: str, source: str = "", *, demo: bool = False) -> OrgPlan:
    """Parse file contents of `kind` "csv" or "yaml"; problems are collected in `plan.problems`. `demo`: the
    demo organisation, whose staff passwords are published (not checked; marked to be changed at first login)."""
    builder = _PlanBuilder(OrgPlan(source=source, demo=demo))
    text = decode_text(data)
    if text is None:
        builder.problem(0, "文件编码无法识别，请另存为 UTF-8（或 Excel 默认的 GBK）编码")
    elif kind == "csv":
        _read_csv(text, builder)
    else:
        _read_yaml(text, builder)
    return builder.finish()


def decode_text(data: bytes) -> str | None:
    """UTF-8 with or without BOM, UTF-16 with BOM, else GBK/GB18030 (Excel's default on Chinese Windows)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


class _PlanBuilder:
    """Merges declarations into a plan, recording (line, message) problems as it goes."""

    def __init__(self, plan: OrgPlan):
        self.plan = plan
        self.problems: list[tuple[int, str]] = []

    def problem(self, line: int, message: str) -> None:
        self.problems.append((line, message))

    def at(self, where: Where, message: str) -> None:
        self.problem(where.line, f"{where}：{message}")

    def finish(self) -> OrgPlan:
        self.plan.problems = [message for _, message in sorted(self.problems, key=lambda p: p[0])]
        return self.plan

    # ---- field checks

    def code(self, kind: str, raw: str, where: Where) -> str | None:
        value = raw.strip().upper()
        if not value:
            self.at(where, f"缺少{LABEL[kind]}编码")
            return None
        if not CODE_RE.match(value):
            shown = raw.strip().replace("\n", "\\n")
            self.at(where, f"{LABEL[kind]}编码“{shown}”格式不正确（只能用字母、数字、“-”和“_”，最长 32 位）")
            return None
        return value

    def name(self, kind: str, raw: str, where: Where) -> str | None:
        value = raw.strip()
        if not value:
            self.at(where, f"缺少{LABEL[kind]}名称")
            return None
        if any(unicodedata.category(ch) == "Cc" for ch in value):
            shown = value.replace("\r", "").replace("\n", "\\n")
            self.at(where, f"{LABEL[kind]}名称“{shown}”不能包含换行等控制字符")
            return None
        if len(value) > NAME_MAX[kind]:
            self.at(where, f"{LABEL[kind]}名称“{value}”超过 {NAME_MAX[kind]} 个字")
            return None
        return value

    def households(self, raw: str, where: Where) -> int | None:
        value = raw.strip().replace(",", "").replace("，", "")
        if not value:
            return None
        try:
            number = int(value)
        except ValueError:
            number = 0
        if number <= 0 or number > MAX_HOUSEHOLDS:
            self.at(where, f"户数“{raw.strip()}”必须是正整数")
            return None
        return number

    # ---- declarations

    def node(self, kind: str, raw_code: str, raw_name: str, where: dict[str, Where],
             parent: str | None = None) -> str | None:
        """Declare a district/street/community/company/developer; returns its code if the code is valid."""
        code = self.code(kind, raw_code, where["code"])
        name = self.name(kind, raw_name, where["name"])
        if code is None or name is None:
            return code
        self._merge(kind, NodeSpec(code, name, where, parent))
        return code

    def estate(self, spec: EstateSpec) -> None:
        self._merge("estates", spec)

    def reference(self, kind: str, raw_code: str, where: Where) -> str | None:
        """A company/developer code an estate points to: declared elsewhere in the file or in the database."""
        if not raw_code.strip():
            return None
        return self.code(kind, raw_code, where)

    def _merge(self, kind: str, spec: NodeSpec) -> None:
        table = self.plan.table(kind)
        first = table.get(spec.code)
        if first is None:
            table[spec.code] = spec
            return
        label = LABEL[kind]
        if first.name != spec.name:
            self.at(spec.where["name"],
                    f"{label}编码 {spec.code} 的名称“{spec.name}”与第{first.line}行的“{first.name}”不一致")
        if kind in PARENT and first.parent and spec.parent and first.parent != spec.parent:
            parent_label = LABEL[PARENT[kind]]
            self.at(spec.where["code"], f"{label} {spec.code} 不能同时属于两个{parent_label}"
                                        f"（第{first.line}行为 {first.parent}，此处为 {spec.parent}）")
        if isinstance(first, EstateSpec) and isinstance(spec, EstateSpec):
            self._merge_estate(first, spec)

    def _merge_estate(self, first: EstateSpec, spec: EstateSpec) -> None:
        for attr in ("property_company", "developer", "households"):
            old, new = getattr(first, attr), getattr(spec, attr)
            if old is not None and new is not None and old != new:
                self.at(spec.where[attr], f"小区 {spec.code} 的 {spec.where[attr].field}“{new}”"
                                          f"与第{first.line}行的“{old}”不一致")
            elif old is None and new is not None:
                setattr(first, attr, new)

    def staff(self, spec: StaffSpec) -> None:
        first = self.plan.staff.get(spec.username)
        if first is not None:
            self.at(spec.where["username"], f"账号 {spec.username} 重复（第{first.where['username'].line}行已定义）")
            return
        self.plan.staff[spec.username] = spec


# --------------------------------------------------------------------------------------------- CSV


def _read_csv(text: str, builder: _PlanBuilder) -> None:
    text = text.lstrip("\ufeff")
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows = _numbered_rows(reader)
    header = next(rows, None)
    if header is None:
        builder.problem(1, "第1行：文件为空，缺少表头")
        return
    header_line, cells = header
    columns = _csv_header(cells, header_line, builder)
    if columns is None:
        return
    for line, row in rows:
        record = _csv_record(columns, row, line, builder)
        if record is not None:
            _csv_row(record, line, builder)


def _numbered_rows(reader) -> Iterator[tuple[int, list[str]]]:
    """Yield (physical line where the record starts, cells), skipping blank lines and rows of empty cells."""
    previous = 0
    try:
        for row in reader:
            line = previous + 1
            previous = reader.line_num
            if any(cell.strip() for cell in row):
                yield line, row
    except csv.Error as exc:
        yield previous + 1, ["\0csv-error", str(exc)]


def _csv_header(cells: list[str], line: int, builder: _PlanBuilder) -> list[str] | None:
    columns = [c.strip().lower() for c in cells]
    unknown = [c for c in columns if c and c not in CSV_COLUMNS]
    duplicated = sorted({c for c in columns if c and columns.count(c) > 1})
    missing = [c for c in CSV_REQUIRED if c not in columns]
    if unknown:
        builder.problem(line, f"第{line}行 表头：未知的列 {', '.join(unknown)}（可用列：{','.join(CSV_COLUMNS)}）")
    if duplicated:
        builder.problem(line, f"第{line}行 表头：列 {', '.join(duplicated)} 重复")
    if missing:
        builder.problem(line, f"第{line}行 表头：缺少必需的列 {', '.join(missing)}")
    if "estate" in columns and "estate_code" not in columns:
        builder.problem(line, f"第{line}行 表头：有 estate 列时必须有 estate_code 列")
    return None if unknown or duplicated or missing else columns


def _csv_record(columns: list[str], row: list[str], line: int, builder: _PlanBuilder) -> dict[str, str] | None:
    if row and row[0] == "\0csv-error":
        builder.problem(line, f"第{line}行：CSV 格式错误（{row[1]}），请检查引号是否成对")
        return None
    extra = [cell for cell in row[len(columns):] if cell.strip()]
    if extra:
        builder.problem(line, f"第{line}行：有 {len(row)} 列，多于表头的 {len(columns)} 列（多出的内容：{extra[0]}）")
        return None
    record = {column: "" for column in CSV_COLUMNS}
    for column, cell in zip(columns, row):
        if column:
            record[column] = cell.strip()
    return record


def _csv_row(record: dict[str, str], line: int, builder: _PlanBuilder) -> None:
    def where(*names: str) -> dict[str, Where]:
        return {key: Where(line, column) for key, column in zip(("code", "name"), names)}

    district = builder.node("districts", record["district_code"], record["district"],
                            where("district_code", "district"))
    street = builder.node("streets", record["street_code"], record["street"],
                          where("street_code", "street"), parent=district)
    community = builder.node("communities", record["community_code"], record["community"],
                             where("community_code", "community"), parent=street)
    if not record["estate_code"]:
        filled = [c for c in CSV_ESTATE if record[c]]
        if filled:
            builder.problem(line, f"第{line}行 estate_code：缺少小区编码（该行填写了 {', '.join(filled)}）")
        return
    company = _csv_partner("property_companies", record, "property_company", line, builder)
    developer = _csv_partner("developers", record, "developer", line, builder)
    _csv_estate(record, line, builder, community, company, developer)


def _csv_partner(kind: str, record: dict[str, str], column: str, line: int,
                 builder: _PlanBuilder) -> str | None:
    """An estate's company or developer: declared here when named, else only referenced by code."""
    code_column = f"{column}_code"
    raw_code, raw_name = record[code_column], record[column]
    if not raw_code and raw_name:
        builder.problem(line, f"第{line}行 {code_column}：填写了{LABEL[kind]}名称“{raw_name}”但缺少编码")
        return None
    if raw_name:
        where = {"code": Where(line, code_column), "name": Where(line, column)}
        return builder.node(kind, raw_code, raw_name, where)
    return builder.reference(kind, raw_code, Where(line, code_column))


def _csv_estate(record: dict[str, str], line: int, builder: _PlanBuilder, community: str | None,
                company: str | None, developer: str | None) -> None:
    where = {"code": Where(line, "estate_code"), "name": Where(line, "estate"),
             "property_company": Where(line, "property_company_code"),
             "developer": Where(line, "developer_code"), "households": Where(line, "households")}
    code = builder.code("estates", record["estate_code"], where["code"])
    name = builder.name("estates", record["estate"], where["name"])
    households = builder.households(record["households"], where["households"])
    if code and name:
        builder.estate(EstateSpec(code, name, where, community, company, developer, households))


# --------------------------------------------------------------------------------------------- YAML


class _StringLoader(yaml.SafeLoader):
    """Every plain scalar stays a string: a code like 0012 or a name like "no" must not become a number/bool."""

    yaml_implicit_resolvers: dict = {}


TOP_KEYS = ("districts", "property_companies", "developers", "staff")
NODE_KEYS = {
    "districts": ("code", "name", "streets"),
    "streets": ("code", "name", "communities"),
    "communities": ("code", "name", "estates"),
    "estates": ("code", "name", "property_company", "developer", "households"),
    "property_companies": ("code", "name"),
    "developers": ("code", "name"),
    "staff": ("username", "name", "level", "node", "password", "partner"),
}
CHILDREN = {"districts": "streets", "streets": "communities", "communities": "estates"}


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _read_yaml(text: str, builder: _PlanBuilder) -> None:
    try:
        root = yaml.compose(text.lstrip("\ufeff"), Loader=_StringLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        builder.problem(line, f"第{line}行：YAML 格式错误（{exc.problem or exc}）")
        return
    except yaml.YAMLError as exc:
        builder.problem(0, f"YAML 格式错误（{exc}）")
        return
    if root is None:
        builder.problem(1, "第1行：文件为空")
        return
    top = _yaml_mapping(root, "文件顶层", TOP_KEYS, builder)
    if top is None:
        return
    for kind in ("property_companies", "developers"):
        for item in _yaml_list(top.get(kind), kind, builder):
            _yaml_partner(kind, item, builder)
    for item in _yaml_list(top.get("districts"), "districts", builder):
        _yaml_node("districts", item, None, builder)
    for item in _yaml_list(top.get("staff"), "staff", builder):
        _yaml_staff(item, builder)


def _yaml_mapping(node: yaml.Node, what: str, allowed: Iterable[str], builder: _PlanBuilder) -> dict | None:
    """The mapping's keys → (key node, value node); unknown and repeated keys are problems."""
    line = _line(node)
    if not isinstance(node, yaml.MappingNode):
        builder.problem(line, f"第{line}行：{what}应为“字段: 值”的映射")
        return None
    allowed = tuple(allowed)
    entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
        key_line = _line(key_node)
        if key not in allowed:
            builder.problem(key_line, f"第{key_line}行 {key}：未知字段（{what}可用字段：{', '.join(allowed)}）")
        elif key in entries:
            builder.problem(key_line, f"第{key_line}行 {key}：字段重复（第{_line(entries[key][0])}行已填写）")
        else:
            entries[key] = (key_node, value_node)
    return entries


def _yaml_list(entry: tuple[yaml.Node, yaml.Node] | None, key: str, builder: _PlanBuilder) -> list[yaml.Node]:
    if entry is None:
        return []
    key_node, node = entry
    if isinstance(node, yaml.ScalarNode) and _scalar_text(node) == "":
        return []
    if not isinstance(node, yaml.SequenceNode):
        line = _line(key_node)
        builder.problem(line, f"第{line}行 {key}：应为列表（每项以“- ”开头）")
        return []
    return list(node.value)


def _scalar_text(node: yaml.Node) -> str:
    value = node.value.strip() if isinstance(node, yaml.ScalarNode) else ""
    return "" if value in NULLS else value


def _yaml_field(entries: dict, owner: yaml.Node, key: str, builder: _PlanBuilder) -> tuple[str, Where]:
    """A scalar field's text ("" when absent) and where it is (the owner's line when absent)."""
    entry = entries.get(key)
    if entry is None:
        return "", Where(_line(owner), key)
    key_node, value_node = entry
    where = Where(_line(key_node), key)
    if not isinstance(value_node, yaml.ScalarNode):
        builder.at(where, "应为单个值")
        return "", where
    return _scalar_text(value_node), where


def _yaml_partner(kind: str, item: yaml.Node, builder: _PlanBuilder) -> None:
    entries = _yaml_mapping(item, LABEL[kind], NODE_KEYS[kind], builder)
    if entries is None:
        return
    code, code_at = _yaml_field(entries, item, "code", builder)
    name, name_at = _yaml_field(entries, item, "name", builder)
    builder.node(kind, code, name, {"code": code_at, "name": name_at})


def _yaml_node(kind: str, item: yaml.Node, parent: str | None, builder: _PlanBuilder) -> None:
    """A district, street or community with its children, or an estate."""
    entries = _yaml_mapping(item, LABEL[kind], NODE_KEYS[kind], builder)
    if entries is None:
        return
    if kind == "estates":
        _yaml_estate(entries, item, parent, builder)
        return
    code, code_at = _yaml_field(entries, item, "code", builder)
    name, name_at = _yaml_field(entries, item, "name", builder)
    declared = builder.node(kind, code, name, {"code": code_at, "name": name_at}, parent=parent)
    child_kind = CHILDREN[kind]
    for child in _yaml_list(entries.get(child_kind), child_kind, builder):
        _yaml_node(child_kind, child, declared, builder)


def _yaml_estate(entries: dict, item: yaml.Node, community: str | None, builder: _PlanBuilder) -> None:
    values = {key: _yaml_field(entries, item, key, builder) for key in NODE_KEYS["estates"]}
    where = {key: at for key, (_, at) in values.items()}
    code = builder.code("estates", values["code"][0], where["code"])
    name = builder.name("estates", values["name"][0], where["name"])
    company = builder.reference("property_companies", values["property_company"][0], where["property_company"])
    developer = builder.reference("developers", values["developer"][0], where["developer"])
    households = builder.households(values["households"][0], where["households"])
    if code and name:
        builder.estate(EstateSpec(code, name, where, community, company, developer, households))


def _yaml_staff(item: yaml.Node, builder: _PlanBuilder) -> None:
    entries = _yaml_mapping(item, LABEL["staff"], NODE_KEYS["staff"], builder)
    if entries is None:
        return
    values = {key: _yaml_field(entries, item, key, builder) for key in NODE_KEYS["staff"]}
    where = {key: at for key, (_, at) in values.items()}
    username = _staff_username(values["username"][0], where["username"], builder)
    name = builder.name("staff", values["name"][0], where["name"])
    if "partner" in entries:
        level: StaffLevel | None = StaffLevel.community
        node, partner = None, _staff_partner(values, where, builder)
    else:
        level = _staff_level(values["level"][0], where["level"], builder)
        node, partner = _staff_node(level, values["node"][0], where["node"], builder), None
    password = _staff_password(entries, where["password"], builder, username or values["username"][0])
    if username and name and level and (node or partner or level is StaffLevel.admin):
        # Kept even with a bad password (already reported) so the node is still checked against the database.
        builder.staff(StaffSpec(username, name, level, node, where, password, partner))


def _staff_partner(values: dict[str, tuple[str, Where]], where: dict[str, Where], builder: _PlanBuilder
                   ) -> str | None:
    """A partner account's organisation: a company's or developer's code (upper case) or dept:名称; such an
    account has no level or node."""
    for key in ("level", "node"):
        if values[key][0]:
            builder.at(where[key], "承办单位账号没有级别和所属节点，不应填写 level、node")
    raw = values["partner"][0]
    if raw.startswith("dept:"):
        name = raw[5:].strip()
        if not name or len(name) > 60 or any(unicodedata.category(ch) == "Cc" for ch in name):
            builder.at(where["partner"], f"部门名称“{name}”应为 1–60 个字，不能包含换行")
            return None
        return f"dept:{name}"
    value = raw.strip().upper()
    if not value or not CODE_RE.match(value):
        builder.at(where["partner"], f"承办单位“{raw}”应为物业服务企业或开发建设单位的编码，或“dept:部门名称”")
        return None
    return value


def _staff_username(raw: str, where: Where, builder: _PlanBuilder) -> str | None:
    if not raw:
        builder.at(where, "缺少账号用户名")
        return None
    if not USERNAME_RE.match(raw):
        builder.at(where, f"用户名“{raw}”格式不正确（只能用字母、数字、“.”、“-”和“_”，最长 64 位）")
        return None
    return raw


def _staff_level(raw: str, where: Where, builder: _PlanBuilder) -> StaffLevel | None:
    try:
        return StaffLevel(raw.strip().lower())
    except ValueError:
        builder.at(where, f"级别“{raw}”不正确，应为 community、street、district 或 admin 之一")
        return None


def _staff_node(level: StaffLevel | None, raw: str, where: Where, builder: _PlanBuilder) -> str | None:
    if level is None:
        return None
    if level is StaffLevel.admin:
        if raw:
            builder.at(where, "管理员账号不属于任何节点，不应填写 node")
        return None
    return builder.code(LEVEL_KIND[level.value], raw, where)


def _staff_password(entries: dict, where: Where, builder: _PlanBuilder, username: str) -> str | None:
    """The plain password; None when absent or invalid (an invalid one is reported)."""
    entry = entries.get("password")
    if entry is None:
        return None
    node = entry[1]
    raw = node.value if isinstance(node, yaml.ScalarNode) else ""
    problem = "密码不能为空" if not raw else None if builder.plan.demo else password_policy.problem(raw, username)
    if problem:
        builder.at(where, problem)
        return None
    return raw


# --------------------------------------------------------------------------------------------- database


@dataclass
class _Existing:
    """Rows already in the database for the codes a plan mentions, with their parents' codes."""

    rows: dict[str, dict[str, NodeRow]] = field(default_factory=dict)
    parents: dict[str, dict[str, str]] = field(default_factory=dict)
    staff: dict[str, Staff] = field(default_factory=dict)


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    values = sorted(set(values))
    for start in range(0, len(values), IN_CHUNK):
        yield values[start:start + IN_CHUNK]


def _wanted_codes(plan: OrgPlan) -> dict[str, set[str]]:
    """Per kind, every code the plan declares or refers to."""
    wanted = {kind: set(plan.table(kind)) for kind in MODEL}
    for estate in plan.estates.values():
        if estate.property_company:
            wanted["property_companies"].add(estate.property_company)
        if estate.developer:
            wanted["developers"].add(estate.developer)
    for spec in plan.staff.values():
        if spec.partner and not spec.partner.startswith("dept:"):
            wanted["property_companies"].add(spec.partner)
            wanted["developers"].add(spec.partner)
        elif spec.node and spec.level.value in LEVEL_KIND:
            wanted[LEVEL_KIND[spec.level.value]].add(spec.node)
    return wanted


async def _load_existing(session: AsyncSession, plan: OrgPlan) -> _Existing:
    existing = _Existing()
    for kind, codes in _wanted_codes(plan).items():
        model = MODEL[kind]
        existing.rows[kind], existing.parents[kind] = {}, {}
        parent_model = MODEL.get(PARENT.get(kind, ""))
        for chunk in _chunks(codes):
            if parent_model is None:
                found: Iterable[NodeRow] = await session.scalars(select(model).where(model.code.in_(chunk)))
                existing.rows[kind].update({row.code: row for row in found})
                continue
            stmt = select(model, parent_model.code).join(parent_model).where(model.code.in_(chunk))
            for row, parent_code in (await session.execute(stmt)).all():
                existing.rows[kind][row.code] = row
                existing.parents[kind][row.code] = parent_code
    for chunk in _chunks(plan.staff):
        staff = await session.scalars(select(Staff).where(Staff.username.in_(chunk)))
        existing.staff.update({row.username: row for row in staff})
    return existing


def _db_problems(plan: OrgPlan, existing: _Existing) -> list[tuple[int, str]]:
    problems: list[tuple[int, str]] = []
    for kind in PARENT:
        for code, spec in plan.table(kind).items():
            db_parent = existing.parents[kind].get(code)
            if db_parent is not None and spec.parent and db_parent != spec.parent:
                where = spec.where["code"]
                problems.append((where.line, f"{where}：{LABEL[kind]} {code} 在数据库中属于{LABEL[PARENT[kind]]} "
                                             f"{db_parent}，不能改为属于 {spec.parent}"))
    for estate in plan.estates.values():
        for kind, attr in (("property_companies", "property_company"), ("developers", "developer")):
            code = getattr(estate, attr)
            if code and code not in plan.table(kind) and code not in existing.rows[kind]:
                where = estate.where[attr]
                problems.append((where.line, f"{where}：{LABEL[kind]}编码 {code} 未在文件中定义，数据库中也没有"))
    for spec in plan.staff.values():
        problems += _staff_kind_problems(spec, existing)
        if spec.partner:
            if not spec.partner.startswith("dept:") and not any(
                    spec.partner in plan.table(kind) or spec.partner in existing.rows[kind]
                    for kind in ("property_companies", "developers")):
                where = spec.where["partner"]
                problems.append((where.line, f"{where}：承办单位编码 {spec.partner} 不是文件中或数据库中的物业服务企业、"
                                             "开发建设单位"))
            continue
        node_kind = LEVEL_KIND.get(spec.level.value)
        if node_kind and spec.node not in plan.table(node_kind) and spec.node not in existing.rows[node_kind]:
            where = spec.where["node"]
            problems.append((where.line, f"{where}：{LABEL[node_kind]}编码 {spec.node} 未在文件中定义，数据库中也没有"))
    return problems


def _staff_kind_problems(spec: StaffSpec, existing: _Existing) -> list[tuple[int, str]]:
    """An existing account keeps its kind: import does not turn staff into a partner's account or back, nor
    touch an owners' committee's account."""
    row = existing.staff.get(spec.username)
    if row is None:
        return []
    where = spec.where["username"]
    if row.committee_estate_id is not None:
        return [(where.line, f"{where}：账号 {spec.username} 在数据库中是业主委员会账号，不能用导入修改")]
    if bool(row.partner) != bool(spec.partner):
        now, then = ("工作人员", "承办单位") if spec.partner else ("承办单位", "工作人员")
        return [(where.line, f"{where}：账号 {spec.username} 在数据库中是{now}账号，不能改为{then}账号")]
    return []


async def check_org_plan(session: AsyncSession, plan: OrgPlan) -> list[str]:
    """Every problem of the plan: those found in the file, then conflicts with the database, by line."""
    existing = await _load_existing(session, plan)
    return _all_problems(plan, existing)


def _all_problems(plan: OrgPlan, existing: _Existing) -> list[str]:
    db = _db_problems(plan, existing)
    if not db:
        return list(plan.problems)
    # File problems are already sorted; merge the database ones in by line (messages start with 第N行).
    ordered = [(_line_of(message), message) for message in plan.problems] + db
    return [message for _, message in sorted(ordered, key=lambda p: p[0])]


def _line_of(message: str) -> int:
    match = re.match(r"第(\d+)行", message)
    return int(match.group(1)) if match else 0


async def apply_org_plan(session: AsyncSession, plan: OrgPlan) -> ImportSummary:
    """Upsert the plan by code in the caller's transaction (never commits); raise `OrgImportError` first if
    the file or its fit with the database has any problem, so nothing is written at all."""
    existing = await _load_existing(session, plan)
    problems = _all_problems(plan, existing)
    if problems:
        raise OrgImportError(problems, plan.source)
    summary = ImportSummary()
    for kind in ("property_companies", "developers", "districts", "streets", "communities", "estates"):
        for spec in plan.table(kind).values():
            _upsert(session, kind, spec, _values(kind, spec, existing), existing, summary.count(kind))
        await session.flush()  # ids for the next level
    for spec in plan.staff.values():
        await _upsert_staff(session, spec, existing, summary.staff, demo=plan.demo)
    await session.flush()
    return summary


async def import_org_file(session: AsyncSession, path: str | Path, *, demo: bool = False) -> ImportSummary:
    """Read and apply `path`; raises `OrgImportError` listing every problem, with nothing written."""
    return await apply_org_plan(session, read_org_file(path, demo=demo))


def _values(kind: str, spec: NodeSpec, existing: _Existing) -> dict[str, object]:
    """The column values the file sets; empty optional estate fields keep what the database has."""
    values: dict[str, object] = {"name": spec.name}
    if kind in PARENT:
        assert spec.parent is not None, "read_org_file gives every street, community and estate its parent"
        parent = existing.rows[PARENT[kind]][spec.parent]
        values[PARENT_COLUMN[kind]] = parent.id
    if isinstance(spec, EstateSpec):
        if spec.property_company:
            values["property_company_id"] = existing.rows["property_companies"][spec.property_company].id
        if spec.developer:
            values["developer_id"] = existing.rows["developers"][spec.developer].id
        if spec.households is not None:
            values["households"] = spec.households
    return values


def _upsert(session: AsyncSession, kind: str, spec: NodeSpec, values: dict[str, object], existing: _Existing,
            count: KindCount) -> None:
    row = existing.rows[kind].get(spec.code)
    if row is None:
        row = MODEL[kind](code=spec.code, **values)
        session.add(row)
        existing.rows[kind][spec.code] = row
        count.created += 1
    elif _assign(row, values):
        count.updated += 1
    else:
        count.unchanged += 1


def _assign(row: object, values: dict[str, object]) -> bool:
    """Set the values that differ; True if any did."""
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


async def _upsert_staff(session: AsyncSession, spec: StaffSpec, existing: _Existing, count: KindCount, *,
                        demo: bool = False) -> None:
    """Create or update one account. A password the file sets on an existing account is an admin's reset: the
    account's sessions end and its API tokens are revoked. Demo accounts (published password) are marked to
    change it at first login."""
    values: dict[str, object] = {"display_name": spec.name, "level": spec.level,
                                 **await _staff_scope(session, spec, existing)}
    if spec.partner:
        values["partner"] = _partner_key(spec.partner, existing)
    row = existing.staff.get(spec.username)
    if row is None:
        row = Staff(username=spec.username, must_change_password=demo and bool(spec.password), **values)
        if spec.password:
            row.password_hash = hash_password(spec.password)
        session.add(row)
        existing.staff[spec.username] = row
        count.created += 1
        return
    changed = _assign(row, values)
    if spec.password and not verify_password(spec.password, row.password_hash):
        from storage.repositories import staff as staff_repo

        await staff_repo.set_password(session, row, hash_password(spec.password), utcnow())
        changed = True
    if demo and spec.password and not row.must_change_password:
        row.must_change_password = True  # still (or again) the published password
        changed = True
    if changed:
        count.updated += 1
    else:
        count.unchanged += 1


def _partner_key(code: str, existing: _Existing) -> str:
    """tickets.assignee_partner's form of an organisation: property:ID / developer:ID / dept:名称 (a code that is
    both a company's and a developer's is the company, as in `staff_repo.resolve_partner`)."""
    if code.startswith("dept:"):
        return code
    company = existing.rows["property_companies"].get(code)
    if company is not None:
        return f"property:{company.id}"
    return f"developer:{existing.rows['developers'][code].id}"


async def _staff_scope(session: AsyncSession, spec: StaffSpec, existing: _Existing) -> dict[str, int | None]:
    """The staff row's node ids: its own node and that node's ancestors (none for an admin)."""
    scope: dict[str, int | None] = {"district_id": None, "street_id": None, "community_id": None}
    if spec.level is StaffLevel.admin or spec.partner:
        return scope
    assert spec.node is not None, "read_org_file gives every non-admin account a node"
    node: NodeRow | None = existing.rows[LEVEL_KIND[spec.level.value]][spec.node]
    if isinstance(node, Community):
        scope["community_id"] = node.id
        node = await session.get(Street, node.street_id)
    if isinstance(node, Street):
        scope["street_id"] = node.id
        node = await session.get(District, node.district_id)
    if node is not None:
        scope["district_id"] = node.id
    return scope
