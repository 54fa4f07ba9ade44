"""Demo history of notices and meetings (bot/demo.py): a month of published notices of every category for 谊景社区
(the 收支公示 with a table, one corrected, one scheduled for tomorrow), a street-wide notice, and two recorded
联席会议 whose minutes were published — all through `service` and `meetings`, with two people (author, approver)
as the four-eyes rule wants. Names are roles, never real persons."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.demo import DemoWorld
from bot.localtime import LOCAL_TZ
from handlers.console.authz import load_scope
from handlers.notices import meetings, service

FINANCE_TABLE = {
    "title": "{prev_month}公共收益收支明细（单位：元）",
    "columns": ["项目", "收入", "支出", "说明"],
    "money": [False, True, True, False],
    "rows": [
        ["电梯轿厢广告", "6800.00", "", "6部电梯，每部每月约1133元"],
        ["地面临时停车", "12450.00", "", "共83个车位"],
        ["快递柜场地使用费", "900.00", "", "3组"],
        ["公共区域照明电费", "", "2310.50", "含地下车库"],
        ["消防设施年检", "", "4800.00", "第三方检测机构"],
        ["绿化补植", "", "3260.00", "南区草坪与绿篱"],
    ],
}

# the first version had a typo in one amount; the correction fixes it (and tells those who were sent it)
FIRST_TABLE = {**FINANCE_TABLE, "rows": [["地面临时停车", "12540.00", "", "共83个车位"] if r[0] == "地面临时停车" else r
                                         for r in FINANCE_TABLE["rows"]]}
CORRECTION = ("谊景社区{prev_month}公共收益收支公示",
              "经业主委员会核对，「地面临时停车」收入应为12450.00元（原误录为12540.00元），现更正。")
# (days ago, hour, category, scope: "community" / "estate:<code>" / "street", title, body, tables)
NOTICES = [
    (29, 10, "committee", "community", "谊景花园第三届业主委员会换届选举筹备公告",
     "根据《天津市物业管理条例》和业主大会议事规则，谊景花园第二届业主委员会任期即将届满。\n\n"
     "经社区居委会指导，现成立换届选举筹备组，组长由社区居委会委派，成员包括业主代表5名、物业服务企业代表1名。"
     "筹备组将于近期公布候选人报名办法，欢迎热心公益、遵纪守法的业主报名参选。", None),
    (24, 15, "property", "estate:HX-YYL-YJ-01", "谊景花园冬季供暖前管道检修安排",
     "为保障冬季供暖，津安物业服务有限公司将对谊景花园供暖管道进行检修。\n\n"
     "- 检修时间：本周二至周四 9:00–17:00\n- 检修范围：1–8号楼地下室主管道及各单元立管阀门\n\n"
     "检修期间请勿自行开关暖气阀门，如发现漏水请及时联系物业服务中心。", None),
    (18, 9, "general", "street", "友谊路街道关于开展冬季消防安全检查的通知",
     "冬季是火灾易发期。友谊路街道将联合消防救援站，于本月对辖区各小区开展消防安全检查，重点检查楼道堆物、"
     "电动自行车违规充电、消防通道占用等问题。\n\n请居民配合清理楼道杂物，电动自行车请到集中充电点充电。", None),
    (12, 16, "finance", "community", "谊景社区{prev_month}公共收益收支公示",
     "根据《天津市物业管理条例》关于公共收益公开的规定，现将谊景花园{prev_month}利用共用部位、共用设施设备"
     "经营所得收益及支出情况公示如下。\n\n如对公示内容有疑问，请于公示期（7日）内向社区居委会或业主委员会反映。",
     [FIRST_TABLE]),
    (8, 10, "subsidy", "estate:HX-YYL-YJ-03", "谊安里旧楼区长效管理补贴使用情况公示",
     "谊安里为旧楼区，按照河西区旧楼区长效管理相关规定，{prev_quarter}补贴资金主要用于：\n\n"
     "- 楼道粉刷及照明维修\n- 雨水管疏通\n- 小区门卫值守\n\n具体金额以区住建委核定数为准，欢迎居民监督。", None),
    (4, 11, "property", "community", "谊景社区电梯安全评估结果公示",
     "针对近期居民反映的谊景花园3号楼电梯故障问题，津安物业服务有限公司委托有资质的检测机构完成了安全评估。\n\n"
     "评估结论：两部电梯门机系统老化，需更换门机控制板及层门锁；主机、曳引系统状况良好。物业已于评估当日"
     "完成更换，并承诺本月每周巡检一次，巡检记录在物业服务中心公示。", None),
]
SCHEDULED = ("谊景花园二次供水水箱清洗停水通知",
             "为保障饮用水卫生，明天9:00–15:00将对谊景花园1–4号楼二次供水水箱进行清洗消毒，期间暂停供水，"
             "请居民提前储水。如遇特殊情况请联系物业服务中心。")

MEETINGS = [
    (20, "社区党群服务中心二楼会议室", [
        ("3号楼电梯频繁故障", "居民代表反映3号楼电梯本月停运两次；物业说明已联系维保单位。",
         "物业服务企业于两周内完成电梯安全评估并公示结果。", True, "电梯安全评估", "津安物业服务有限公司", 6),
        ("南门外夜市噪音", "居民反映夜市经营至深夜，影响休息。", "社区联系街道城管科加强夜间巡查。", True,
         None, None, None),
        ("社区办公用房修缮", "", "按街道安排于明年春季修缮。", False, None, None, None),
    ]),
    (6, "社区党群服务中心二楼会议室", [
        ("公共收益公示", "业委会提出物业公共收益应按月公示。", "物业每月10日前提交上月收支明细，社区公示。", True,
         "按月提交公共收益明细", "津安物业服务有限公司", 20),
        ("业委会换届筹备", "筹备组已成立。", "本月底前公布候选人报名办法。", True, None, None, None),
    ]),
]
ATTENDEES = [{"role": "居委会", "name": "社区书记", "organisation": "谊景社区居民委员会"},
             {"role": "物业服务企业", "name": "项目经理", "organisation": "津安物业服务有限公司"},
             {"role": "业委会", "name": "业委会主任", "organisation": "谊景花园业主委员会"},
             {"role": "居民代表", "name": "居民代表甲"}, {"role": "居民代表", "name": "居民代表乙"}]


def _dates(at) -> dict[str, str]:
    """The periods a notice published at `at` reports on: the month and the quarter before it (local)."""
    day = at.astimezone(LOCAL_TZ).date()
    month = day.year * 12 + day.month - 2  # months since year 0 of the month before
    quarter = day.year * 4 + (day.month - 1) // 3 - 1
    return {"prev_month": f"{month // 12}年{month % 12 + 1}月",
            "prev_quarter": f"{quarter // 4}年第{'一二三四'[quarter % 4]}季度"}


def _filled(value, dates: dict[str, str]):
    if isinstance(value, str):
        return value.format(**dates)
    if isinstance(value, (list, tuple)):
        return type(value)(_filled(v, dates) for v in value)
    if isinstance(value, dict):
        return {k: _filled(v, dates) for k, v in value.items()}
    return value


async def _actor(session: AsyncSession, world: DemoWorld, username: str) -> service.Actor:
    staff = await world.staff(session, username)
    scope = await load_scope(session, staff)
    return service.Actor(f"staff:{username}", staff.level, staff.id, scope.community_ids)


def _scope(world: DemoWorld, scope: str) -> tuple[str, list[int]]:
    if scope == "street":
        return "community", [world.communities["HX-YYL-YJ"], world.communities["HX-YYL-PJ"]]
    if scope.startswith("estate:"):
        return "estate", [world.estates[scope[7:]]]
    return "community", [world.communities["HX-YYL-YJ"]]


async def load(session: AsyncSession, world: DemoWorld) -> None:
    base = world.services.settings.base_url
    yijing, youyilu, hexi = [await _actor(session, world, u) for u in ("yijing", "youyilu", "hexi")]
    finance = None
    for days, hour, category, scope, title, body, tables in NOTICES:
        at = world.ago(days, hour)
        title, body, tables = _filled((title, body, tables), _dates(at))
        author, approver = (youyilu, hexi) if scope == "street" else (yijing, youyilu)
        level, ids = _scope(world, scope)
        notice = await service.create_draft(session, author, category=category, title=title, body=body,
                                            scope_level=level, scope_ids=ids, tables=tables,
                                            publisher="友谊路街道办事处" if scope == "street" else None,
                                            now=at - timedelta(hours=2))
        await service.approve(session, approver, notice, now=at, base_url=base)
        finance = notice if category == "finance" else finance
    if finance is not None:  # a correction, approved by the street, tells those who read the first version
        title, note = _filled(CORRECTION, _dates(finance.published_at))
        body = service.current(finance).body
        at = world.ago(10, 9)
        await service.correct(session, yijing, finance, title=title, body=body, tables=[_filled(FINANCE_TABLE, _dates(finance.published_at))], note=note,
                              now=at, base_url=base)
        await service.approve_correction(session, youyilu, finance, now=at + timedelta(hours=1), base_url=base)
    title, body = SCHEDULED
    tomorrow = world.now.astimezone(LOCAL_TZ) + timedelta(days=1)
    notice = await service.create_draft(session, yijing, category="general", title=title, body=body,
                                        scope_level="estate", scope_ids=[world.estates["HX-YYL-YJ-01"]],
                                        now=world.ago(0, 9))
    await service.approve(session, youyilu, notice, now=world.ago(0, 10), base_url=base,
                          publish_at=tomorrow.replace(hour=8, minute=0, second=0, microsecond=0))
    community = world.communities["HX-YYL-YJ"]
    for days, place, items in MEETINGS:
        held = world.ago(days, 14)
        meeting = await meetings.create_meeting(session, yijing, community_id=community,
                                                held_on=held.astimezone(LOCAL_TZ).date(), chair="社区书记",
                                                location=place, attendees=ATTENDEES, now=held)
        for topic, discussion, decision, concerns, followup, owner, due_days in items:
            due = (held + timedelta(days=due_days)).astimezone(LOCAL_TZ).date() if due_days else None
            await meetings.add_item(session, yijing, meeting, topic=topic, discussion=discussion, decision=decision,
                                    concerns_residents=concerns, followup=followup, followup_owner=owner,
                                    followup_due=due)
        await meetings.close(session, yijing, meeting, minutes="会议按议程逐项讨论，形成决定如下（详见各议题）。",
                             attendee_count=None, now=held + timedelta(hours=2))
        await meetings.publish(session, yijing, meeting, now=held + timedelta(days=1), base_url=base)
