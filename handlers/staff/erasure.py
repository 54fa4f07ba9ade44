"""Staff in the loop's part of a resident's erasure (unfollow, 删除我的信息): the WeChat user is forgotten on every
staff account it was linked to (`staff.openid`), since WeChat requires all of a user's data to go on unfollow. The
staff account itself, its settings and its work stay; the staff member can link again."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Resident
from storage.repositories import staff_link as repo


async def erase_resident(session: AsyncSession, resident: Resident, now: datetime) -> None:
    if resident.openid:
        await repo.unlink_openid(session, resident.openid)
