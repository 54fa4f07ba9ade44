"""Chat handlers for residents joining and leaving. Thin: read the message, call the rules, reply."""
from __future__ import annotations

from bot.context import Context
from bot.router import Result, Router
from bot.types import SILENT, UNHANDLED, Reply
from handlers import vocabulary
from handlers.choices import moved_on, numbered, pick
from handlers.privacy import erasure
from handlers.registration import rules
from handlers.registration.states import Bind, Erase
from storage.models import ResidentRole
from storage.repositories import org, residents

BIND_WORDS = ("绑定", "绑定社区", "重新绑定", "修改绑定", "更换社区")
WELCOME = "欢迎关注「邻里」社区服务号！在这里可以查看小区公示、参与满意度调查、反映物业问题、咨询物业政策。"


def build_router() -> Router:
    router = Router(
        "registration",
        help_lines=["绑定：绑定或更换您所在的社区和小区", "我的信息：查看本号保存的您的信息", "删除我的信息：清除您的全部个人信息"],
    )

    @router.event("subscribe")
    async def followed(ctx: Context) -> Reply:
        ctx.resident.subscribed = True
        ctx.resident.followed_at = ctx.now
        if ctx.resident.community_id is not None:
            return Reply(WELCOME + "\n回复「帮助」查看可以办理的事项。")
        return Reply(WELCOME + "\n请先回复「绑定」选择您所在的社区，以便接收本社区的公示和通知。")

    @router.event("subscribe_scan", "scan")
    async def scanned(ctx: Context) -> Reply:
        if ctx.message.event == "subscribe_scan":
            ctx.resident.subscribed = True
            ctx.resident.followed_at = ctx.now
        community = await org.community_by_code(ctx.session, ctx.message.event_key)
        greeting = WELCOME if ctx.message.event == "subscribe_scan" else "您好！"
        if community is None:
            return Reply(greeting + "\n未能识别该二维码对应的社区，请回复「绑定」手动选择。")
        if ctx.resident.community_id == community.id and not ctx.conversation.in_group("bind"):
            # already bound here (the poster scanned again, `linli chat --community` run again): keep the binding
            return Reply(f"{greeting}\n您已绑定{community.name}，无需重新绑定。回复「帮助」查看可以办理的事项；"
                         "如需更换小区或房号，回复「绑定」。")
        return await _choose_estate(ctx, community.id, prefix=f"{greeting}\n已识别您所在的社区：{community.name}。")

    @router.event("unsubscribe")
    async def unfollowed(ctx: Context) -> Reply:
        await erasure.erase_resident(ctx.session, ctx.resident, ctx.now, ctx.services.features or None)
        ctx.erased = True
        return SILENT

    @router.words(*BIND_WORDS)
    async def start_bind(ctx: Context) -> Reply:
        return await _choose_district(ctx)

    @router.click("BIND")
    async def bind_button(ctx: Context) -> Reply:
        ctx.conversation.clear()
        return await _choose_district(ctx)

    @router.state(Bind.district)
    async def district_chosen(ctx: Context) -> Result:
        chosen = _picked(ctx)
        return await _choose_street(ctx, chosen) if chosen else _again(ctx)

    @router.state(Bind.street)
    async def street_chosen(ctx: Context) -> Result:
        chosen = _picked(ctx)
        return await _choose_community(ctx, chosen) if chosen else _again(ctx)

    @router.state(Bind.community)
    async def community_chosen(ctx: Context) -> Result:
        chosen = _picked(ctx)
        return await _choose_estate(ctx, chosen) if chosen else _again(ctx)

    @router.state(Bind.estate)
    async def estate_chosen(ctx: Context) -> Result:
        chosen = _picked(ctx)
        if not chosen:
            return _again(ctx)
        name = ctx.conversation.data["labels"][ctx.conversation.data["options"].index(chosen)]
        ctx.conversation.update(Bind.role, estate_id=chosen, estate_name=name, options=[], labels=[])
        return Reply("请问您是：\n1. 业主\n2. 租户\n请回复数字。")

    @router.state(Bind.role)
    async def role_chosen(ctx: Context) -> Result:
        index = pick(ctx.text, [r.label for r in rules.ROLE_OPTIONS])
        if index is None and moved_on(ctx.text):
            ctx.conversation.clear()
            return UNHANDLED
        if index is None:
            return Reply("请回复 1（业主）或 2（租户）。回复「取消」可退出。")
        ctx.conversation.update(Bind.room, role=rules.ROLE_OPTIONS[index].value)
        return Reply("请输入您的楼号和房号，例如 3-2-501 或 12栋1201；不愿提供可回复「跳过」。")

    @router.state(Bind.room)
    async def room_given(ctx: Context) -> Reply:
        if vocabulary.is_skip(ctx.text):
            ctx.conversation.update(Bind.confirm, building=None, room=None)
        else:
            room = rules.parse_room(ctx.text)
            if room is None:
                return Reply("没有看懂这个房号。请按「楼号-单元-房号」格式回复，例如 3-2-501，或回复「跳过」。")
            ctx.conversation.update(Bind.confirm, building=room.building, room=room.room)
        return await _confirm(ctx)

    @router.state(Bind.confirm)
    async def confirmed(ctx: Context) -> Reply:
        if not vocabulary.is_yes(ctx.text):
            return Reply("请回复「确认」完成绑定，或回复「取消」放弃。")
        data = ctx.conversation.data
        residents.bind(
            ctx.resident,
            community_id=data["community_id"],
            estate_id=data.get("estate_id"),
            role=ResidentRole(data["role"]) if data.get("role") else None,
            building=data.get("building"),
            room=data.get("room"),
            now=ctx.now,
        )
        ctx.conversation.clear()
        return Reply("绑定成功！今后本社区的公示、联席会议纪要和满意度调查会推送给您。\n回复「我的信息」可随时查看或修改。")

    @router.words("我的信息", "个人信息", "我的资料")
    async def my_info(ctx: Context) -> Reply:
        return await _show_info(ctx)

    @router.click("MY_INFO")
    async def my_info_button(ctx: Context) -> Reply:
        return await _show_info(ctx)

    @router.words("删除我的信息", "注销", "删除信息", "清除我的信息")
    async def erase_request(ctx: Context) -> Reply:
        ctx.conversation.enter(Erase.confirm)
        warnings = await erasure.warnings(ctx.session, ctx.resident, ctx.services.features or None)
        return Reply(
            "将删除本号保存的您的全部个人信息：社区绑定、房号、对话记录，投诉的内容、照片、位置和电话，"
            "咨询的问题和答复，调查中填写的意见。投诉和投票只保留不含个人信息的匿名记录，统计数据不受影响。\n"
            + "".join(f"\n⚠ {w}\n" for w in warnings)
            + "\n确认请回复「确认删除」，回复「取消」放弃。"
        )

    @router.state(Erase.confirm)
    async def erase_confirmed(ctx: Context) -> Reply:
        if ctx.text != "确认删除":
            return Reply("如确需删除，请回复「确认删除」四个字；回复「取消」放弃。")
        await erasure.erase_resident(ctx.session, ctx.resident, ctx.now, ctx.services.features or None)
        ctx.erased = True
        ctx.conversation.clear()
        return Reply("您的个人信息已全部删除。如需再次使用，回复「绑定」重新绑定社区即可。")

    return router


async def _show_info(ctx: Context) -> Reply:
    profile = await residents.load_profile(ctx.session, ctx.resident.id)
    text = rules.describe(profile)
    owner_status = await _owner_status(ctx)
    if owner_status:
        text = text.replace(f"身份：{ResidentRole.owner.label}", f"身份：{ResidentRole.owner.label}（{owner_status}）")
    return Reply("本号保存的您的信息：\n" + text + "\n\n回复「绑定」可修改，回复「删除我的信息」可全部删除。")


async def _owner_status(ctx: Context) -> str | None:
    """已核验 / 未核验 of an owner, from the owners feature when it is installed (issue 20)."""
    if ctx.resident.role is not ResidentRole.owner:
        return None
    try:
        from handlers.owners.verify import UNVERIFIED, status_of
    except ImportError:
        return None
    status = await status_of(ctx.session, ctx.resident)
    return f"{status}，回复「核验」核验业主身份" if status == UNVERIFIED else status


def _picked(ctx: Context) -> int | None:
    """The id the resident picked from the options offered in the current step."""
    data = ctx.conversation.data
    index = pick(ctx.text, data.get("labels", []))
    return data["options"][index] if index is not None else None


def _again(ctx: Context) -> Result:
    """The list once more, for a wrong or unclear pick; a resident who moved on (asked a question, wrote a
    complaint) leaves the dialog and gets that answered instead — 「绑定」 starts it again."""
    if moved_on(ctx.text):
        ctx.conversation.clear()
        return UNHANDLED
    labels = ctx.conversation.data.get("labels", [])
    return Reply(f"请回复 1 到 {len(labels)} 之间的数字：\n{numbered(labels)}\n回复「取消」可退出。")


def _offer(ctx: Context, state: str, title: str, items: list, prefix: str = "", **data) -> Reply:
    labels = [item.name for item in items]
    ctx.conversation.update(state, options=[item.id for item in items], labels=labels, **data)
    head = f"{prefix}\n" if prefix else ""
    return Reply(f"{head}{title}\n{numbered(labels)}\n请回复数字。")


async def _choose_district(ctx: Context) -> Reply:
    ctx.conversation.enter(Bind.district)
    districts = await org.choices(ctx.session, "district")
    if not districts:
        ctx.conversation.clear()
        return Reply("本服务号尚未录入社区信息，请稍后再试或联系社区工作人员。")
    if len(districts) == 1:
        return await _choose_street(ctx, districts[0].id)
    return _offer(ctx, Bind.district, "请选择您所在的区：", districts)


async def _choose_street(ctx: Context, district_id: int) -> Reply:
    streets = await org.choices(ctx.session, "street", district_id)
    if len(streets) == 1:
        return await _choose_community(ctx, streets[0].id)
    return _offer(ctx, Bind.street, "请选择您所在的街道（乡镇）：", streets)


async def _choose_community(ctx: Context, street_id: int) -> Reply:
    communities = await org.choices(ctx.session, "community", street_id)
    if len(communities) == 1:
        return await _choose_estate(ctx, communities[0].id)
    return _offer(ctx, Bind.community, "请选择您所在的社区：", communities)


async def _choose_estate(ctx: Context, community_id: int, prefix: str = "") -> Reply:
    estates = await org.choices(ctx.session, "estate", community_id)
    if not ctx.conversation.in_group("bind"):
        ctx.conversation.enter(Bind.estate)
    ctx.conversation.update(community_id=community_id)
    if not estates:
        ctx.conversation.update(Bind.role, estate_id=None)
        return Reply(f"{prefix}\n请问您是：\n1. 业主\n2. 租户\n请回复数字。".lstrip())
    return _offer(ctx, Bind.estate, "请选择您居住的小区：", estates, prefix=prefix)


async def _confirm(ctx: Context) -> Reply:
    data = ctx.conversation.data
    path = await org.community_path(ctx.session, data["community_id"])
    if path is None:  # the community was removed from the tree during the dialog
        ctx.conversation.clear()
        return Reply("您选择的社区已不在服务范围内，请回复「绑定」重新选择。")
    lines = [f"社区：{path}"]
    if data.get("estate_name"):
        lines.append(f"小区：{data['estate_name']}")
    lines.append(f"身份：{ResidentRole(data['role']).label}")
    if data.get("building"):
        lines.append(f"楼号房号：{data['building']}-{data['room']}")
    return Reply("请核对：\n" + "\n".join(lines) + f"\n\n{rules.CONSENT}\n回复「确认」完成绑定，回复「取消」放弃。")
