"""Services.close_extras: what a job keeps for itself in `extras` is closed when the worker stops."""
from __future__ import annotations

from bot.context import Services
from bot.settings import Settings
from storage.db import Database


class Client:
    def __init__(self) -> None:
        self.closed = False

    async def close(self) -> None:
        self.closed = True


class SyncClose:
    def close(self) -> None:  # not awaited: only async close() is called
        raise AssertionError("a synchronous close() must not be called")


async def test_close_extras_closes_async_clients_only(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/x.db")
    services = Services(settings=Settings(), db=db)
    client = Client()
    services.extras.update(media_wechat=client, media_store=object(), other=SyncClose())
    await services.close_extras()
    assert client.closed
    await db.dispose()
