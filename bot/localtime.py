"""Local time for what people read: residents and staff are in Tianjin (Asia/Shanghai, no daylight saving)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local(value: datetime) -> datetime:
    return value.astimezone(LOCAL_TZ)


def local_text(value: datetime | None, with_time: bool = True) -> str:
    """`2026-11-26 12:30` (or the date alone) in Tianjin time; `—` for nothing."""
    if value is None:
        return "—"
    return local(value).strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def chinese_text(value: datetime | None, with_time: bool = True) -> str:
    """`2026年11月26日 12:30` (or the date alone) in Tianjin time, for residents' messages and public pages."""
    if value is None:
        return "—"
    return local(value).strftime("%Y年%m月%d日 %H:%M" if with_time else "%Y年%m月%d日")
