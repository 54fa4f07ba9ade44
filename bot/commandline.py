"""Shared plumbing of the `linli` subcommands: settings that stop with a clear message, one transaction."""
from __future__ import annotations

import sys
from typing import Awaitable, Callable, TypeVar

from bot.settings import Settings, SettingsError

T = TypeVar("T")


def settings_or_exit() -> Settings:
    """Settings from the environment; on bad values print every problem (Chinese) and exit with status 2."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None


async def in_transaction(work: Callable[..., Awaitable[T]], settings: Settings | None = None) -> T:
    """Run `work(session)` in one transaction on the configured database, then release the engine."""
    from storage.db import Database

    db = Database((settings or settings_or_exit()).database_url)
    try:
        async with db.transaction() as session:
            return await work(session)
    finally:
        await db.dispose()
