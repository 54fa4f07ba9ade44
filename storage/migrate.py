"""Apply Alembic migrations programmatically (`linli db upgrade`), with no alembic.ini needed in the cwd.

Each feature's tables come in its own migration branch off the spine (`0001_spine`), so features are developed
independently; `heads` brings every branch up to date.
"""
from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the database at `url` to `revision`. Runs its own event loop: call from sync code or a thread."""
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "heads") -> None:
    await asyncio.to_thread(upgrade, url, revision)


def revision(url: str, message: str, rev_id: str, head: str = "0001_spine@head") -> None:
    """Developer helper: autogenerate a migration from the models, as a new branch off `head`."""
    command.revision(alembic_config(url), message=message, autogenerate=True, rev_id=rev_id, head=head,
                     splice=True)
