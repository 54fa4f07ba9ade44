"""The scorecard's documented, configurable parameters: component weights per subject kind, the thresholds that
flag thin samples, the ticket-volume scale, credit for late disclosures, how far back a survey counts, the trend
length and which ticket categories count against whom. Defaults are below; docs/scorecards.md explains each.

Set them in a YAML file named by `LINLI_SCORECARD_FILE` (same keys as `DEFAULTS`), and/or per setting:

    LINLI_SCORECARD_WEIGHTS_PROPERTY=survey:40,response:10,resolution:15,ticket_satisfaction:10,volume:5,\
                                     escalation:5,disclosure:15   (one line)
    LINLI_SCORECARD_WEIGHTS_DEVELOPER=survey:50,response:10,resolution:20,ticket_satisfaction:10,volume:5,escalation:5
    LINLI_SCORECARD_MIN_RESPONSES=30     LINLI_SCORECARD_MIN_TICKETS=10     LINLI_SCORECARD_VOLUME_CEILING=20
    LINLI_SCORECARD_LATE_CREDIT=0.5      LINLI_SCORECARD_SURVEY_MONTHS=12   LINLI_SCORECARD_TREND_PERIODS=6

The environment overrides the file; a weights setting replaces only the components it names (0 drops one).
A bad value raises `ScorecardConfigError` naming the setting.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from handlers.surveys.tally import THIN
from handlers.tickets.rules import CATEGORIES

KINDS = ("property", "developer")
COMPONENTS = {
    "survey": "满意度调查满意率",
    "response": "投诉响应率",
    "resolution": "投诉解决率",
    "ticket_satisfaction": "办结后满意率",
    "volume": "投诉量（每千户）",
    "escalation": "不出社区（未升级）",
    "disclosure": "公示按时率",
}
DEFAULT_WEIGHTS = {
    "property": {"survey": 40, "response": 10, "resolution": 15, "ticket_satisfaction": 10, "volume": 5,
                 "escalation": 5, "disclosure": 15},
    "developer": {"survey": 50, "response": 10, "resolution": 20, "ticket_satisfaction": 10, "volume": 5,
                  "escalation": 5},
}
DEFAULT_CATEGORIES = {"property": [c for c in CATEGORIES if c != "developer"], "developer": ["developer"]}


class ScorecardConfigError(ValueError):
    """A bad scorecard setting; the message (Chinese) names it."""


@dataclass(frozen=True)
class ScorecardConfig:
    weights: dict[str, dict[str, float]] = field(default_factory=lambda: {k: dict(v) for k, v in
                                                                          DEFAULT_WEIGHTS.items()})
    min_responses: int = THIN  # fewer survey responses: flagged 样本不足, not ranked
    min_tickets: int = 10  # a ticket rate with a smaller denominator is left out of the composite
    volume_ceiling: float = 20.0  # tickets per 1,000 households per 30 days that score 0 (0 tickets score 100)
    late_credit: float = 0.5  # a late disclosure counts this much of an on-time one
    survey_months: int = 12  # a campaign counts for periods ending up to this many months after it closed
    trend_periods: int = 6
    categories: dict[str, list[str]] = field(default_factory=lambda: {k: list(v) for k, v in
                                                                      DEFAULT_CATEGORIES.items()})

    def weights_for(self, kind: str) -> dict[str, float]:
        return self.weights[kind]


def _number(name: str, raw, low: float, high: float, integer: bool = False) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ScorecardConfigError(f"{name}：应为数字，而不是「{raw}」") from None
    if not low <= value <= high or (integer and not value.is_integer()):
        kind = "整数" if integer else "数"
        raise ScorecardConfigError(f"{name}：应为 {low:g} 到 {high:g} 之间的{kind}（现为 {raw}）")
    return int(value) if integer else value


def _weights(name: str, kind: str, raw, base: dict[str, float]) -> dict[str, float]:
    if isinstance(raw, dict):
        pairs = list(raw.items())
    else:
        pairs = []
        for part in str(raw).replace("，", ",").split(","):
            if part.strip():
                if ":" not in part:
                    raise ScorecardConfigError(f"{name}：「{part.strip()}」应写成 组成项:权重，例如 survey:40")
                key, value = part.split(":", 1)
                pairs.append((key, value))
    allowed = set(DEFAULT_WEIGHTS[kind])
    out = dict(base)
    for key, value in pairs:
        key = str(key).strip()
        if key not in allowed:
            raise ScorecardConfigError(f"{name}：没有「{key}」这一组成项（可用：{', '.join(sorted(allowed))}）")
        out[key] = _number(f"{name}（{key}）", value, 0, 1000)
    if not any(out.values()):
        raise ScorecardConfigError(f"{name}：至少一项权重应大于 0")
    return out


def _categories(name: str, raw) -> list[str]:
    items = raw if isinstance(raw, list) else [p for p in str(raw).replace("，", ",").split(",")]
    out = [str(c).strip() for c in items if str(c).strip()]
    unknown = [c for c in out if c not in CATEGORIES]
    if unknown or not out:
        raise ScorecardConfigError(f"{name}：工单类别应为 {', '.join(CATEGORIES)} 中的一个或多个")
    return out


def from_mapping(values: dict) -> ScorecardConfig:
    """Build from the YAML file's shape (keys as in `ScorecardConfig`, weights per kind)."""
    if not isinstance(values, dict):
        raise ScorecardConfigError("评分配置文件应为键值对（见 docs/scorecards.md）")
    known = {"weights", "min_responses", "min_tickets", "volume_ceiling", "late_credit", "survey_months",
             "trend_periods", "categories"}
    extra = sorted(set(values) - known)
    if extra:
        raise ScorecardConfigError(f"评分配置：不认识的设置 {', '.join(extra)}")
    weights = {k: dict(v) for k, v in DEFAULT_WEIGHTS.items()}
    for kind, raw in (values.get("weights") or {}).items():
        if kind not in KINDS:
            raise ScorecardConfigError(f"weights：对象类型应为 property 或 developer，而不是「{kind}」")
        weights[kind] = _weights(f"weights.{kind}", kind, raw, weights[kind])
    categories = {k: list(v) for k, v in DEFAULT_CATEGORIES.items()}
    for kind, raw in (values.get("categories") or {}).items():
        if kind not in KINDS:
            raise ScorecardConfigError(f"categories：对象类型应为 property 或 developer，而不是「{kind}」")
        categories[kind] = _categories(f"categories.{kind}", raw)
    return ScorecardConfig(
        weights=weights,
        min_responses=_number("min_responses", values.get("min_responses", THIN), 1, 100000, True),
        min_tickets=_number("min_tickets", values.get("min_tickets", 10), 1, 100000, True),
        volume_ceiling=_number("volume_ceiling", values.get("volume_ceiling", 20), 0.1, 100000),
        late_credit=_number("late_credit", values.get("late_credit", 0.5), 0, 1),
        survey_months=_number("survey_months", values.get("survey_months", 12), 1, 120, True),
        trend_periods=_number("trend_periods", values.get("trend_periods", 6), 2, 24, True),
        categories=categories)


SETTINGS = {"scorecard_min_responses": "min_responses", "scorecard_min_tickets": "min_tickets",
            "scorecard_volume_ceiling": "volume_ceiling", "scorecard_late_credit": "late_credit",
            "scorecard_survey_months": "survey_months", "scorecard_trend_periods": "trend_periods"}


def from_settings(settings) -> ScorecardConfig:
    """The deployment's configuration: the YAML file (if any), then LINLI_SCORECARD_* settings on top."""
    values: dict = {}
    path = settings.scorecard_file if settings is not None else None
    if path:
        try:
            values = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ScorecardConfigError(f"LINLI_SCORECARD_FILE={path}：无法读取：{exc}") from None
        if not isinstance(values, dict):
            raise ScorecardConfigError(f"LINLI_SCORECARD_FILE={path}：应为键值对")
    if settings is None:
        return from_mapping(values)
    for attr, key in SETTINGS.items():
        if getattr(settings, attr) is not None:
            values[key] = getattr(settings, attr)
    for kind in KINDS:
        raw = settings.scorecard_weights.get(kind.upper())
        if raw:
            base = from_mapping({"weights": values.get("weights") or {}}).weights[kind]
            values["weights"] = {**(values.get("weights") or {}),
                                 kind: _weights(f"LINLI_SCORECARD_WEIGHTS_{kind.upper()}", kind, raw, base)}
    return from_mapping(values)


def config_of(services) -> ScorecardConfig:
    """The configuration for these services (parsed once, kept in `services.extras`)."""
    found = services.extras.get("scorecards.config")
    if found is None:
        found = services.extras["scorecards.config"] = from_settings(services.settings)
    return found
