"""Channel choice per resident (pure): 客服 message while the window is open, else 订阅通知, else template message.

A resident's customer-service window opens with their last message and allows `WINDOW_QUOTA` (5) messages within
48 hours; `cs_reserve` of them are left for the bot's own (late or long) replies. Outside the window, the
category's 订阅通知 template is preferred (it needs no 45009 template quota and is what 政务民生 accounts use),
then its template message. With none of these the resident is `skipped` with reason `no_channel`.

Also here: how content becomes each channel's payload.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.delivery.config import WINDOW_HOURS, WINDOW_QUOTA, CategoryChannels

CUSTOM, SUBSCRIBE, TEMPLATE = "custom", "subscribe", "template"
CATEGORY_LABELS = {"notice": "公示", "meeting": "会议", "survey": "调查", "ticket": "投诉进度"}
THING_MAX = 20  # WeChat's `thing` fields take at most 20 characters
_THINGS = ("title", "summary", "text", "category")


@dataclass(frozen=True)
class Content:
    """What a broadcast says: `text` in full; title / summary / link feed template and 订阅通知 data."""

    text: str
    title: str | None = None
    summary: str | None = None
    link: str | None = None


def window_open(opened_at: datetime | None, used: int, now: datetime, reserve: int = 0) -> bool:
    if opened_at is None or now >= opened_at + timedelta(hours=WINDOW_HOURS):
        return False
    return used < WINDOW_QUOTA - reserve


def choose(channels: CategoryChannels, *, window: bool, exclude: frozenset[str] = frozenset()) -> str | None:
    """The first usable channel, or None when the resident cannot be reached for this category."""
    order = [CUSTOM] if window else []
    if channels.subscribe:
        order.append(SUBSCRIBE)
    if channels.template:
        order.append(TEMPLATE)
    for channel in order:
        if channel not in exclude:
            return channel
    return None


def custom_text(content: Content) -> str:
    parts = [f"【{content.title}】" if content.title else "", content.text.strip()]
    if content.link:
        parts.append(f"详情：{content.link}")
    return "\n".join(p for p in parts if p)


def template_data(channels: CategoryChannels, content: Content, category: str, when: datetime) -> dict:
    values = {
        "title": content.title or CATEGORY_LABELS.get(category, "通知"),
        "summary": content.summary or content.text,
        "text": content.text,
        "link": content.link or "",
        "date": when.astimezone().strftime("%Y-%m-%d %H:%M"),
        "category": CATEGORY_LABELS.get(category, category),
    }
    return {key: _fit(values[source]) if source in _THINGS else values[source]
            for key, source in channels.fields.items()}


def _fit(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= THING_MAX else value[: THING_MAX - 1] + "…"
