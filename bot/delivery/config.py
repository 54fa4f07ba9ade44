"""Delivery settings, from the typed `LINLI_DELIVERY_*` settings (declared and validated in bot/settings.py).

The variables (all optional; see docs/delivery.md):
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

from bot.settings import Settings
from storage.backoff import Backoff

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
    """The sender's and scheduler's knobs; the defaults are the settings' (bot/settings.py)."""

    rate: float = Settings.delivery_rate
    batch: int = Settings.delivery_batch
    lanes: int = Settings.delivery_lanes
    concurrency: int = Settings.delivery_concurrency
    lease_seconds: float = Settings.delivery_lease_seconds
    max_attempts: int = Settings.delivery_max_attempts
    retry_base: float = Settings.delivery_retry_base
    retry_max: float = Settings.delivery_retry_max
    cs_reserve: int = Settings.delivery_cs_reserve
    expand_batch: int = Settings.delivery_expand_batch
    poll: float = Settings.delivery_poll
    in_web: bool = Settings.delivery_in_web
    channels: Mapping[str, CategoryChannels] = field(default_factory=dict)

    def for_category(self, category: str) -> CategoryChannels:
        return self.channels.get(category) or CategoryChannels()

    def retry_delay(self, attempts: int) -> float:
        return Backoff(self.retry_base, self.retry_max).delay(attempts)

    @classmethod
    def from_settings(cls, settings: Settings) -> "DeliveryConfig":
        return cls(
            rate=settings.delivery_rate, batch=settings.delivery_batch, lanes=settings.delivery_lanes,
            concurrency=settings.delivery_concurrency, lease_seconds=settings.delivery_lease_seconds,
            max_attempts=settings.delivery_max_attempts, retry_base=settings.delivery_retry_base,
            retry_max=settings.delivery_retry_max, cs_reserve=settings.delivery_cs_reserve,
            expand_batch=settings.delivery_expand_batch, poll=settings.delivery_poll, in_web=settings.delivery_in_web,
            channels={cat: _channels(settings, cat) for cat in CATEGORIES})


def _channels(settings: Settings, category: str) -> CategoryChannels:
    key = category.upper()
    raw = settings.delivery_fields.get(key)  # "name=source,…", its shape checked by bot.settings
    fields = dict(part.split("=", 1) for part in raw.split(",")) if raw else dict(DEFAULT_FIELDS)
    return CategoryChannels(settings.delivery_subscribe.get(key), settings.delivery_template.get(key), fields)
