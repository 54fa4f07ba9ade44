"""Demo history of complaints (bot/demo.py): a month of tickets in 谊景社区 and its neighbours, in every status and
at every level, filed and worked through `service.file_ticket` / `file_received` / `perform` at the times a real
month would have had them. Phone numbers are fictitious (138 0000 00xx)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.demo import DemoWorld
from bot.localtime import LOCAL_TZ
from handlers.console.authz import load_scope
from handlers.tickets import service
from handlers.tickets.rules import Actor


@dataclass(frozen=True)
class Step:
    days: int  # days ago
    hour: int
    action: str
    by: str  # a staff username, "resident" or "system"
    params: tuple = ()


# (estate code, resident index or None for a phone/hotline complaint, channel, category, description, steps)
TICKETS = [
    ("HX-YYL-YJ-01", 0, "wechat", "repair",
     "3号楼2单元电梯这周已经停了两次，老人上下楼很困难，请尽快安排维修。",
     [Step(27, 9, "sign", "yijing"), Step(27, 10, "assign", "yijing", (("partner", "property"),)),
      Step(26, 16, "resolve", "yijing", (("text", "物业已联系电梯维保单位更换门机控制板，经试运行正常；"
                                                   "维保单位承诺本月内每周巡检一次。"),)),
      Step(25, 20, "rate", "resident", (("score", 5), ("words", "修得很快，谢谢"),))]),
    ("HX-YYL-YJ-01", 1, "wechat", "environment",
     "小区南门外夜市每天晚上十一点以后还很吵，影响休息。",
     [Step(24, 9, "sign", "yijing"),
      Step(23, 15, "reply", "yijing", (("text", "已与友谊路街道城管科联系，将加强夜间巡查。"),)),
      Step(21, 11, "resolve", "yijing", (("text", "城管已约谈摊主，夜市每晚22:00前收摊；社区将持续关注。"),)),
      Step(20, 19, "rate", "resident", (("score", 4), ("words", "好多了"),))]),
    ("HX-YYL-YJ-02", 0, "wechat", "fees",
     "物业费从今年起每平米涨了0.3元，没有看到业主大会的表决结果，想问问依据是什么。",
     [Step(22, 10, "sign", "yijing"),
      Step(22, 11, "ask", "yijing", (("text", "请告知您所在楼栋和收到的缴费通知日期，便于我们向物业核实。"),)),
      Step(21, 20, "supplement", "resident", (("text", "5号楼，11月初收到的缴费通知单。"),)),
      Step(19, 15, "resolve", "yijing", (("text", "经核实，友谊新城物业费调整未经业主大会表决，已责令物业暂停按新标准收取，"
                                                   "多收部分在下期抵扣。"),)),
      Step(17, 9, "close", "yijing", (("reason", "居民电话确认已抵扣，工作人员关闭"),))]),
    ("HX-YYL-YJ-01", 2, "wechat", "parking",
     "地下车库入口被长期占用停放三轮车，消防通道也被堵了。",
     [Step(12, 9, "sign", "yijing"), Step(12, 10, "assign", "yijing", (("partner", "property"),)),
      Step(11, 17, "resolve", "yijing", (("text", "物业已清理车库入口的三轮车并张贴禁停告示。"),)),
      Step(10, 20, "unsatisfied", "resident", (("words", "第二天又停回来了"),)),
      Step(9, 10, "reply", "yijing", (("text", "物业已在入口加装隔离桩，并安排保安每日两次巡查。"),))]),
    ("HX-YYL-YJ-03", 0, "wechat", "property",
     "楼道里的声控灯坏了一个多月，晚上下楼看不见。",
     [Step(8, 9, "sign", "yijing"),
      Step(7, 16, "resolve", "yijing", (("text", "物业已更换1至6层楼道声控灯。"),))]),
    ("HX-YYL-YJ-02", 1, "wechat", "income",
     "小区电梯广告和停车位出租的收入一直没有公示，业主不知道钱去哪了。",
     [Step(15, 9, "sign", "yijing"),
      Step(13, 16, "escalate", "yijing", (("reason", "涉及物业企业多年公共收益，需街道协调审计"),)),
      Step(12, 10, "sign", "youyilu"),
      Step(12, 11, "assign", "youyilu", (("partner", "dept:友谊路街道物业管理科"),)),
      Step(6, 15, "reply", "youyilu", (("text", "街道已要求物业在本月底前公示近两年公共收益收支明细。"),))]),
    ("HX-YYL-YJ-01", 3, "wechat", "developer",
     "顶楼卫生间渗水，房子还在保修期内，开发商一直推给物业。",
     [Step(20, 9, "sign", "yijing"),
      Step(18, 14, "escalate", "yijing", (("reason", "开发建设单位两次未到场，社区协调无果"),)),
      Step(17, 10, "sign", "youyilu"),
      Step(10, 16, "escalate", "youyilu", (("reason", "开发建设单位仍拒绝履行保修责任，提请区住建委督办"),)),
      Step(9, 10, "sign", "hexi"),
      Step(9, 11, "assign", "hexi", (("partner", "developer"),))]),
    ("HX-YYL-YJ-02", 2, "wechat", "committee",
     "业委会换届已经拖了半年，想了解什么时候组织选举。",
     [Step(5, 9, "escalate", "system")]),
    ("HX-YYL-YJ-01", 4, "wechat", "other",
     "希望小区能增设几个快递柜。",
     [Step(16, 9, "reject", "yijing", (("reason", "快递柜设置属于小区业主共同决定事项，可通过业委会提出议案，"
                                                  "不属于投诉受理范围；社区可协助召集业主议事。"),))]),
    ("HX-YYL-YJ-01", 5, "wechat", "repair",
     "3号楼电梯又停了，今天早上困了人。",
     [Step(3, 9, "sign", "yijing"), Step(3, 10, "assign", "yijing", (("partner", "property"),)),
      Step(2, 11, "mediation", "yijing", (("parties", "谊景花园3号楼业主代表与津安物业服务有限公司"),
                                           ("agreement", "物业于两周内完成3号楼两部电梯的安全评估并公示结果。"),
                                           ("committee", "谊景社区人民调解委员会")))]),
    ("HX-YYL-YJ-01", 6, "wechat", "repair",
     "3号楼电梯今天又坏了！",
     [Step(3, 11, "link", "yijing", (("primary", -1),))]),
    ("HX-YYL-YJ-03", None, "phone", "environment",
     "来电反映谊安里垃圾分类投放点清运不及时，异味较大。",
     [Step(1, 11, "sign", "yijing")]),
    ("HX-YYL-YJ-02", None, "hotline", "property",
     "12345转办：友谊新城8号楼单元门禁损坏一周未修。",
     []),
    ("HX-YYL-YJ-01", 7, "wechat", "property",
     "小区绿化带里的树枝挡住了路灯，晚上很暗，能不能修剪一下？",
     []),
    ("HX-YYL-PJ-01", 0, "wechat", "repair",
     "平江南里12号楼外墙保温层脱落，怕砸到人。",
     [Step(2, 10, "escalate", "system")]),
    ("HX-MJ-LS-01", 0, "wechat", "fees",
     "蓝水园停车费收据没有盖章，物业说是新系统的问题。",
     []),
]
PHONES = {"HX-YYL-YJ-03": "13800000012", "HX-YYL-YJ-02": "13800000013"}
FILED = {0: (28, 8), 1: (25, 22), 2: (23, 9), 3: (13, 8), 4: (9, 7), 5: (16, 8), 6: (21, 9), 7: (6, 8),
         8: (17, 10), 9: (3, 8), 10: (3, 9), 11: (1, 9), 12: (0, 8), 13: (0, 7), 14: (4, 9), 15: (7, 9)}


async def _actor(session: AsyncSession, world: DemoWorld, by: str, ticket, cache: dict) -> Actor:
    if by == "resident":
        return service.resident_actor(ticket.resident_ref)
    if by == "system":
        return Actor.system()
    if by not in cache:
        staff = await world.staff(session, by)
        cache[by] = service.staff_actor(staff, (await load_scope(session, staff)).community_ids)
    return cache[by]


async def load(session: AsyncSession, world: DemoWorld) -> None:
    actors: dict[str, Actor] = {}
    filed = []
    for n, (estate, who, channel, category, text, steps) in enumerate(TICKETS):
        days, hour = FILED[n]
        at = world.ago(days, hour)
        if who is None:
            ticket = await service.file_received(session, world.services, service.Received(
                community_id=world.communities[estate.rsplit("-", 1)[0]], estate_id=world.estates[estate], category=category,
                description=text, channel=channel, received_at=at, phone=PHONES.get(estate),
                due_at=at + timedelta(days=5) if channel == "hotline" else None,
                actor="staff:yijing", actor_label="谊景社区演示账号（社区）"), at)
        else:
            resident = world.residents[estate][who]
            ticket = await service.file_ticket(session, world.services, resident, service.Filing(
                category=category, description=text, phone=f"138000000{n:02d}" if n % 3 == 0 else None), at)
        filed.append(ticket)
        for step in steps:
            params = dict(step.params)
            if "primary" in params:
                params["primary"] = filed[n + params["primary"]]
            at = world.ago(step.days, step.hour)
            if step.action == "mediation":
                params["mediated_on"] = at.astimezone(LOCAL_TZ).date()
            actor = await _actor(session, world, step.by, ticket, actors)
            await service.perform(session, world.services, ticket, step.action, actor, at, **params)
        await session.flush()
