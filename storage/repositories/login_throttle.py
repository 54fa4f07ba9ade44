"""The login limiter's rows (`staff_login_throttle`), locked for the length of the caller's transaction.

`lock(session, keys)` makes sure a row exists for every key and returns them locked: `SELECT … FOR UPDATE` on
PostgreSQL (rows in key order, so two logins never wait on each other crosswise), and on SQLite the transaction's
own `BEGIN IMMEDIATE` (one writer at a time). Whoever holds the rows decides, writes and commits before the next
login attempt for the same keys can read them: parallel guesses are counted one after the other, never all
against the same old count. Never commits.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.console_models import LoginThrottle


def _insert(session: AsyncSession):
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(LoginThrottle)


async def lock(session: AsyncSession, keys: list[str]) -> dict[str, LoginThrottle]:
    """The rows of `keys` (created with no failures when new), locked until the transaction ends."""
    keys = sorted(set(keys))
    await session.execute(_insert(session).values([{"key": k, "failures": 0} for k in keys])
                          .on_conflict_do_nothing(index_elements=["key"]))
    stmt = (select(LoginThrottle).where(LoginThrottle.key.in_(keys)).order_by(LoginThrottle.key)
            .with_for_update().execution_options(populate_existing=True))
    return {row.key: row for row in (await session.execute(stmt)).scalars()}
