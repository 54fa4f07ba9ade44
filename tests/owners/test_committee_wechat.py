"""An owners' committee's account links its WeChat like staff (我的账号 → 绑定微信, a chat code) and gets the pushes
of its estate's motions (opened, closed with the verdict, withdrawn), which it may switch off; 「待办」 in chat lists
its estate's motions, and the ticket commands are refused. Runs the whole linli (every feature) on SQLite and
PostgreSQL."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from handlers.console.staff_service import create_account
from handlers.owners import jobs
from storage.delivery_models import Broadcast
from tests.owners.conftest import NOW, load_roster, new_motion
from tests.owners.support import ESTATE
from tests.staff.conftest import clock, loop  # noqa: F401 (fixtures)
from tests.support import TEST_PASSWORD
from tests.support import test_password_hash as known_hash


async def committee_pushes(loop, motion_id: int) -> list[Broadcast]:  # noqa: F811
    async with loop.services.db.reading() as session:
        found = list(await session.scalars(select(Broadcast).where(
            Broadcast.source.like(f"motion:{motion_id}:committee:%")).order_by(Broadcast.id)))
        session.expunge_all()
        return found


async def test_committee_links_wechat_and_gets_its_estates_motions(loop):  # noqa: F811
    async with loop.services.db.transaction() as session:
        staff = await create_account(session, username="yjywh", display_name="谊景花园业委会", level="community",
                                     node=None, password=TEST_PASSWORD + "x", committee=ESTATE)
        staff.password_hash, staff.must_change_password = known_hash(), False
    client, csrf = await loop.console("yjywh")  # 我的账号 → 绑定微信 is the committee's page too
    page = await (await client.post("/console/account/wechat/code", data={"_csrf": csrf})).text()
    code = re.search(r"\b(\d{6})\b", page).group(1)
    await loop.bot.say("o_cmt", "你好")
    assert "本小区业主表决开启" in await loop.bot.say("o_cmt", code)

    await load_roster(loop.services)
    now = loop.clock.state["now"] = NOW  # the motions' time
    mid = await new_motion(loop.services, opens=now + timedelta(hours=1), closes=now + timedelta(days=2))
    loop.advance(hours=2)
    report = await jobs.sweep(loop.services, loop.clock.state["now"])
    assert report.opened == [mid], report
    [opened] = await committee_pushes(loop, mid)
    assert "已开始表决" in opened.text and f"/console/owners/motions/{mid}" in opened.text
    assert "本小区的业主表决（1 项）" in await loop.bot.say("o_cmt", "待办")
    assert "不办理工单" in await loop.bot.say("o_cmt", "签收 1")

    # switched off: no more pushes of this kind
    client, csrf = await loop.console("yjywh")
    settings = await client.post("/console/account/wechat/settings", data={"_csrf": csrf},
                                 allow_redirects=False)
    assert settings.status in (200, 303)
    loop.advance(days=3)
    await jobs.sweep(loop.services, loop.clock.state["now"])
    assert len(await committee_pushes(loop, mid)) == 1
