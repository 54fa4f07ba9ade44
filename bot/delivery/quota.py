"""WeChat's daily quotas (45009) reset at midnight Beijing time; a paused broadcast resumes a little after that."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.localtime import LOCAL_TZ

BEIJING = LOCAL_TZ  # Tianjin time (Asia/Shanghai, no daylight saving)
RESUME_MARGIN = timedelta(minutes=1)


def next_reset(now: datetime, margin: timedelta = RESUME_MARGIN) -> datetime:
    """The first moment after `now` when the day's quota is available again (00:00 Beijing time + margin)."""
    local = now.astimezone(BEIJING)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight + margin).astimezone(timezone.utc)
