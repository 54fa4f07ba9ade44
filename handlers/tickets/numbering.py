"""Ticket numbers: `JF` + the local (Beijing) date + `-` + the day's sequence, e.g. JF20261126-0007.

The sequence comes from one counter row per day, incremented in place inside the filing transaction
(`storage.repositories.tickets.bump_counter`), so concurrent filings on any number of workers never share a
number; the unique index on `tickets.number` is the last line of defence. Past 9999 a day the number simply
grows a digit (JF20261126-10000).
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.tickets.calendar import LOCAL_TZ
from storage.repositories import tickets as repo

PREFIX = "JF"
PATTERN = re.compile(r"JF\d{8}-\d{4,6}", re.IGNORECASE)  # the number as linli writes it
# …and as residents type it back: any case, the sequence without its zeros (jf20261207-1), JF left out
# (20261207-1), another dash or spaces (JF 20261207 — 1), or no dash at all (JF202612070001)
LOOSE = (r"(?<![A-Za-z0-9])(?:(?:JF\s*)?20\d{6}\s*[-－—_]\s*\d{1,6}|JF\s*20\d{6}\d{4,6})(?!\d)")
_PARTS = re.compile(r"(?:JF)?\s*(20\d{6})\s*[-－—_]?\s*(\d{1,6})", re.IGNORECASE)
_LOOSE = re.compile(LOOSE, re.IGNORECASE)


def format_number(day: str, sequence: int) -> str:
    return f"{PREFIX}{day}-{sequence:04d}"


def day_of(now: datetime) -> str:
    return now.astimezone(LOCAL_TZ).strftime("%Y%m%d")


async def next_number(session: AsyncSession, now: datetime) -> str:
    day = day_of(now)
    return format_number(day, await repo.bump_counter(session, day))


def canonical(written: str) -> str | None:
    """The ticket number a resident's form of it stands for (jf20261207-1 → JF20261207-0001); None if it is
    not one."""
    found = _PARTS.fullmatch(unicodedata.normalize("NFKC", written or "").strip())
    return format_number(found.group(1), int(found.group(2))) if found and int(found.group(2)) else None


def find_written(text: str) -> tuple[str, str] | None:
    """(the canonical number, the text as written) of the first ticket number mentioned in `text`."""
    found = _LOOSE.search(unicodedata.normalize("NFKC", text or ""))
    number = canonical(found.group(0)) if found else None
    return (number, found.group(0)) if number and found else None


def find_number(text: str) -> str | None:
    """A ticket number mentioned in `text`, in any unambiguous form, as linli writes it."""
    found = find_written(text)
    return found[0] if found else None
