"""Demo history of owners' votes (bot/demo.py): the roster of 谊景花园 (6 buildings × 15 rooms, the demo owners'
flats among them), six demo owners verified by 谊景社区 staff, a closed vote (续聘物业, mostly paper ballots,
result published as a notice) and an open repair-fund vote (更换3号楼电梯) in which some owners have voted in chat.
Everything goes through the feature's own services (roster import, verification, motions, ballots, the close)."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.demo import DemoWorld
from handlers.owners import motions, roster, roster_file, rules, verify, voting
from storage.models import Estate
from storage.owner_models import OwnerLink, RosterRoom

ESTATE = "HX-YYL-YJ-01"
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"


def roster_csv() -> bytes:
    rng = random.Random(278)
    lines = ["小区编码,楼号,单元,房号,专有部分面积,业主姓名,联系电话"]
    n = 0
    for building in range(1, 7):
        for floor in range(1, 6):
            for door in range(1, 4):
                n += 1
                area = f"{rng.choice([68.42, 89.50, 96.18, 112.35, 128.07]) + rng.randint(0, 99) / 100:.2f}"
                name = f"{SURNAMES[n % len(SURNAMES)]}{'秀兰建国淑珍志强桂英海燕'[n % 6:n % 6 + 2]}"
                lines.append(f"{ESTATE},{building},,{floor}{door:02d},{area},{name},1390022{n:04d}")
                if n % 17 == 0:  # a few flats held jointly by a couple
                    lines.append(f"{ESTATE},{building},,{floor}{door:02d},{area},{name[0]}家属{n},")
    return ("\n".join(lines) + "\n").encode("utf-8")


async def load(session: AsyncSession, world: DemoWorld) -> None:
    estate = await session.scalar(select(Estate).where(Estate.code == ESTATE))
    if estate is None:
        return
    await roster.apply_plan(session, roster_file.parse(roster_csv(), "谊景花园业主名册.csv"), world.ago(60))
    owners = world.owners(ESTATE)
    for resident in owners[:6]:
        await verify.request_staff(session, resident, world.ago(30))
        for link in await session.scalars(select(OwnerLink).where(OwnerLink.resident_id == resident.id)):
            await verify.approve(session, link, staff="staff:yijing", proxy_name=None, now=world.ago(29))
    rule = rules.load_rule(world.services.settings.owners_city)
    buildings = [str(b) for b in range(1, 7)]
    closed = await motions.create(session, estate, motions.check_draft(
        "续聘津安物业服务有限公司", "物业服务合同将于年底到期。是否同意续聘津安物业服务有限公司，合同期三年，收费标准不变？",
        "ordinary", world.ago(50, 9), world.ago(36, 18), [], buildings), author="staff:youyilu", now=world.ago(51))
    await motions.open_due(session, world.ago(50, 9))
    rooms = list(await session.scalars(select(RosterRoom).where(RosterRoom.estate_id == estate.id)
                                       .order_by(RosterRoom.id)))
    rng = random.Random(6)
    for n, room in enumerate(rooms[:70]):
        choice = "yes" if rng.random() < 0.7 else rng.choice(["no", "abstain"])
        await voting.cast_paper(session, closed, room.id, choice, collector=f"{1 + n % 6}号楼楼长", staff="staff:yijing",
                                proxy=False, now=world.ago(45 - n % 8, 15))
    await motions.close(session, closed, rule, world.ago(36, 18) + timedelta(minutes=1),
                        settings=world.services.settings)
    running = await motions.create(session, estate, motions.check_draft(
        "使用维修资金更换3号楼电梯", "3号楼电梯已运行十八年，多次困人。拟使用专项维修资金更换电梯一部。", "ordinary",
        world.ago(3, 9), world.now + timedelta(days=7), ["3"], buildings, topic="repair_fund",
        details={"works": "更换3号楼电梯一部（含井道改造）", "budget": "48 万元",
                 "quotes": ["津城电梯工程有限公司 47.5 万元", "海河机电设备有限公司 49.2 万元"]}),
        author="staff:yijing", now=world.ago(4))
    await motions.open_due(session, world.ago(3, 9))
    for n, resident in enumerate(owners[:6]):
        if resident.building == "3":
            await voting.cast_chat(session, running, resident, "yes" if n % 2 == 0 else "no", world.ago(2, 10 + n))
