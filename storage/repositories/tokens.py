"""The shared `access_token` row per AppID (`wechat_tokens`): read or create it, and change it only under a
condition (optimistic version or lease owner), so processes refreshing the token never overwrite each other."""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import affected
from storage.models import WeChatToken


async def row_for(session: AsyncSession, appid: str) -> WeChatToken:
    """The AppID's row, created empty (version 0) when missing; a concurrent creation raises IntegrityError."""
    row = await session.get(WeChatToken, appid)
    if row is None:
        row = WeChatToken(appid=appid, version=0)
        session.add(row)
        await session.flush()
    return row


async def update_if(session: AsyncSession, appid: str, condition: ColumnElement[bool], values: dict[str, Any]) -> bool:
    """Set `values` on the AppID's row when `condition` holds; whether it did."""
    stmt = (update(WeChatToken).where(WeChatToken.appid == appid, condition).values(**values)
            .execution_options(synchronize_session=False))
    return affected(await session.execute(stmt)) == 1
