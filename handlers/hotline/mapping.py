"""The column mapping between a city hotline's spreadsheets and linli: which header holds which field of a work
order, how times are written, how the hotline's categories map to ours, and the columns of the return file.

The default is Tianjin's 12345 export (`tianjin.yaml` beside this file); `LINLI_HOTLINE_MAPPING_FILE` points at
another city's. `load(path)` validates the file and raises `MappingError` with every problem (Chinese).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from handlers.tickets.rules import CATEGORIES

DEFAULT = Path(__file__).with_name("tianjin.yaml")
FIELDS = {"number": "工单编号", "received_at": "受理时间", "caller_name": "来电人", "phone": "联系电话",
          "address": "问题地址", "content": "诉求内容", "category": "问题分类", "deadline": "办理时限",
          "unit": "承办单位"}
REQUIRED = ("number", "received_at", "address", "content")
EXPORT_FIELDS = ("number", "result", "finished_at", "satisfaction")
EXPORT_HEADERS = ("工单编号", "办理结果", "办结时间", "回访满意度")


class MappingError(ValueError):
    """A mapping file that cannot be used; the message lists every problem."""


@dataclass(frozen=True)
class Mapping:
    name: str
    columns: dict[str, tuple[str, ...]]  # field → accepted header names
    time_formats: tuple[str, ...]
    categories: tuple[tuple[str, str], ...]  # (word in the hotline's category, our category), in order
    export_columns: dict[str, str] = field(default_factory=dict)  # field → header of the return file
    export_time_format: str = "%Y-%m-%d %H:%M:%S"
    satisfaction: dict[int, str] = field(default_factory=dict)

    def label(self, name: str) -> str:
        """How the spreadsheet calls a field (its first accepted header)."""
        return self.columns.get(name, (FIELDS[name],))[0]


def _strings(value, where: str, problems: list[str]) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    out = tuple(str(v).strip() for v in items if v is not None and str(v).strip())
    if not out:
        problems.append(f"{where} 应为列名或列名列表")
    return out


def parse(data: dict, source: str = "") -> Mapping:
    problems: list[str] = []
    if not isinstance(data, dict):
        raise MappingError(f"{source}：应为 YAML 映射（键: 值）")
    columns_raw = data.get("columns") or {}
    columns: dict[str, tuple[str, ...]] = {}
    if not isinstance(columns_raw, dict):
        problems.append("columns 应为「字段: 列名」的映射")
        columns_raw = {}
    for name, value in columns_raw.items():
        if name not in FIELDS:
            problems.append(f"columns.{name}：没有这个字段（可用：{', '.join(FIELDS)}）")
            continue
        columns[name] = _strings(value, f"columns.{name}", problems)
    for name in REQUIRED:
        if name not in columns:
            problems.append(f"columns.{name}（{FIELDS[name]}）必须给出")
    formats = tuple(str(f) for f in (data.get("time_formats") or []) if str(f).strip()) or ("%Y-%m-%d %H:%M:%S",)
    categories = []
    for word, code in (data.get("categories") or {}).items():
        if code not in CATEGORIES:
            problems.append(f"categories.{word}：没有「{code}」这个投诉类别（可用：{', '.join(CATEGORIES)}）")
        else:
            categories.append((str(word), code))
    export = data.get("export") or {}
    export_columns = {k: str(v) for k, v in (export.get("columns") or {}).items()}
    for name in export_columns:
        if name not in EXPORT_FIELDS:
            problems.append(f"export.columns.{name}：没有这个字段（可用：{', '.join(EXPORT_FIELDS)}）")
    satisfaction = {}
    for key, label in (export.get("satisfaction") or {}).items():
        try:
            satisfaction[int(key)] = str(label)
        except (TypeError, ValueError):
            problems.append(f"export.satisfaction.{key}：应为 1–5 的评分")
    if problems:
        raise MappingError(f"{source}：" + "；".join(problems))
    return Mapping(str(data.get("name") or "12345 热线"), columns, formats, tuple(categories),
                   export_columns or dict(zip(EXPORT_FIELDS, EXPORT_HEADERS)),
                   str(export.get("time_format") or "%Y-%m-%d %H:%M:%S"), satisfaction)


def load(path: str | Path | None = None) -> Mapping:
    """The mapping in `path` (the Tianjin default when None). Raises MappingError."""
    target = Path(path) if path else DEFAULT
    try:
        data = yaml.safe_load(target.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MappingError(f"无法读取 12345 列对应文件 {target}：{exc}") from None
    return parse(data, str(target))
