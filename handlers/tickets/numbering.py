"""Ticket numbers: `JF` + the local (Beijing) date + `-` + the day's sequence, e.g. JF20261126-0007.

The sequence comes from one counter row per day, incremented in place inside the filing transaction
(`storage.repositories.tickets.bump_counter`), so concurrent filings on any number of workers never share a
number; the unique index on `tickets.number` is the last line of defence. Past 9999 a day the number simply
grows a digit (JF20261126-10000).
"""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.tickets.calendar import LOCAL_TZ
from storage.repositories import tickets as repo

PREFIX = "JF"
PATTERN = re.compile(r"JF\d{8}-\d{4,6}", re.IGNORECASE)


def format_number(day: str, sequence: int) -> str:
    return f"{PREFIX}{day}-{sequence:04d}"


def day_of(now: datetime) -> str:
    return now.astimezone(LOCAL_TZ).strftime("%Y%m%d")


async def next_number(session: AsyncSession, now: datetime) -> str:
    day = day_of(now)
    return format_number(day, await repo.bump_counter(session, day))


def find_number(text: str) -> str | None:
    """A ticket number mentioned in `text` (any case), upper-cased."""
    found = PATTERN.search(text or "")
    return found.group(0).upper() if found else None
