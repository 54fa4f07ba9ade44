"""Delivery settings, read from `settings.extra` (raw `LINLI_DELIVERY_*` values) and validated at start.

Keys (all optional; see docs/delivery.md):
    LINLI_DELIVERY_RATE              messages per second for all workers together; 0 = no limit (default 50)
    LINLI_DELIVERY_BATCH             deliveries claimed per batch (200)
    LINLI_DELIVERY_LANES             claim→send→record loops per worker process (4)
    LINLI_DELIVERY_CONCURRENCY       concurrent HTTP requests per lane (32)
    LINLI_DELIVERY_LEASE_SECONDS     a claimed batch belongs to its worker this long (60)
    LINLI_DELIVERY_MAX_ATTEMPTS      tries for -1 / timeouts / dropped connections before `failed` (5)
    LINLI_DELIVERY_RETRY_BASE        first retry delay in seconds, doubled each time (2) ...
    LINLI_DELIVERY_RETRY_MAX         ... up to this cap (300)
    LINLI_DELIVERY_CS_RESERVE        客服 window messages left for the bot's own replies (1 of WeChat's 5)
    LINLI_DELIVERY_EXPAND_BATCH      residents examined per expansion step (5000)
    LINLI_DELIVERY_POLL              seconds between looks for work when idle (1)
    LINLI_DELIVERY_IN_WEB            1 = `linli serve` also runs a sender and (under a lock) the scheduler (0)
    LINLI_DELIVERY_SUBSCRIBE_<CAT>   订阅通知 template id for category NOTICE / MEETING / SURVEY / TICKET
    LINLI_DELIVERY_TEMPLATE_<CAT>    template-message template id for the category
    LINLI_DELIVERY_FIELDS_<CAT>      template data keys ← content fields, e.g. `thing1=title,thing2=summary,time3=date`
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from bot.settings import Settings, SettingsError

CATEGORIES = ("notice", "meeting", "survey", "ticket")
CONTENT_FIELDS = ("title", "summary", "text", "link", "date", "category")
DEFAULT_FIELDS = {"title": "title", "content": "summary", "date": "date"}
WINDOW_QUOTA = 5  # 客服 messages WeChat allows within 48 h of a resident's message
WINDOW_HOURS = 48


@dataclass(frozen=True)
class CategoryChannels:
    subscribe: str | None = None
    template: str | None = None
    fields: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_FIELDS))


@dataclass(frozen=True)
class DeliveryConfig:
    rate: float = 50.0
    batch: int = 200
    lanes: int = 4
    concurrency: int = 32
    lease_seconds: float = 60.0
    max_attempts: int = 8  # 2+4+…+128 s: a send rides out about four minutes of WeChat answering -1
    retry_base: float = 2.0
    retry_max: float = 300.0
    cs_reserve: int = 1
    expand_batch: int = 5000
    poll: float = 1.0
    in_web: bool = False
    channels: Mapping[str, CategoryChannels] = field(default_factory=dict)

    def for_category(self, category: str) -> CategoryChannels:
        return self.channels.get(category) or CategoryChannels()

    def retry_delay(self, attempts: int) -> float:
        return min(self.retry_max, self.retry_base * 2 ** max(0, attempts - 1))

    @classmethod
    def from_settings(cls, settings: Settings) -> "DeliveryConfig":
        return parse(settings.extra)


_NUMBERS = {  # env suffix → (attribute, type, minimum)
    "RATE": ("rate", float, 0.0), "BATCH": ("batch", int, 1), "LANES": ("lanes", int, 1),
    "CONCURRENCY": ("concurrency", int, 1), "LEASE_SECONDS": ("lease_seconds", float, 1.0),
    "MAX_ATTEMPTS": ("max_attempts", int, 1), "RETRY_BASE": ("retry_base", float, 0.0),
    "RETRY_MAX": ("retry_max", float, 0.0), "CS_RESERVE": ("cs_reserve", int, 0),
    "EXPAND_BATCH": ("expand_batch", int, 1), "POLL": ("poll", float, 0.01),
}


def parse(extra: Mapping[str, str]) -> DeliveryConfig:
    """Build the config from raw values; raise SettingsError naming every bad variable (in Chinese)."""
    problems: list[str] = []
    kwargs: dict[str, object] = {}
    for suffix, (attr, kind, minimum) in _NUMBERS.items():
        raw = (extra.get(f"LINLI_DELIVERY_{suffix}") or "").strip()
        if not raw:
            continue
        try:
            value = kind(raw)
            if value < minimum:
                raise ValueError
            kwargs[attr] = value
        except ValueError:
            problems.append(f"LINLI_DELIVERY_{suffix}={raw}：应为不小于 {minimum} 的{'整数' if kind is int else '数'}")
    in_web = (extra.get("LINLI_DELIVERY_IN_WEB") or "0").strip().lower()
    if in_web not in ("0", "1", "true", "false", "yes", "no"):
        problems.append(f"LINLI_DELIVERY_IN_WEB={in_web}：应为 0 或 1")
    kwargs["in_web"] = in_web in ("1", "true", "yes")
    kwargs["channels"] = {cat: _channels(extra, cat, problems) for cat in CATEGORIES}
    if problems:
        raise SettingsError(problems)
    return DeliveryConfig(**kwargs)  # type: ignore[arg-type]


def _channels(extra: Mapping[str, str], category: str, problems: list[str]) -> CategoryChannels:
    key = category.upper()
    subscribe = (extra.get(f"LINLI_DELIVERY_SUBSCRIBE_{key}") or "").strip() or None
    template = (extra.get(f"LINLI_DELIVERY_TEMPLATE_{key}") or "").strip() or None
    raw = (extra.get(f"LINLI_DELIVERY_FIELDS_{key}") or "").strip()
    fields = dict(DEFAULT_FIELDS)
    if raw:
        fields = {}
        for part in raw.split(","):
            name, _, source = part.partition("=")
            name, source = name.strip(), source.strip()
            if not name or source not in CONTENT_FIELDS:
                problems.append(f"LINLI_DELIVERY_FIELDS_{key}={raw}：每项应为「模板字段=内容字段」，内容字段取 "
                                + " / ".join(CONTENT_FIELDS))
                break
            fields[name] = source
    return CategoryChannels(subscribe, template, fields)
