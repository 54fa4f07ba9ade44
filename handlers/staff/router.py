"""The chat side of staff in the loop (order 5, before every resident feature):

- a 6-digit link code, or a scan of a staff-link QR code (`SCAN`, or `subscribe` with a `qrscene_` scene), links
  the sender to the staff account; 「解绑工作账号」 unlinks;
- a linked staff member's words: 「待办」, 「签收/回复/办结/退单 编号 …」, a photo after 「办结」, and 「帮助」 with
  the staff lines added.

Everyone else (and a linked staff member writing anything else) falls through to the resident features: these
words never appear in the residents' 帮助, and a resident typing them gets the ordinary resident answer. Staff
commands never touch the resident's dialog state.
"""
from __future__ import annotations

import unicodedata

from bot.context import Context
from bot.router import ANY_STATE, NO_STATE, Router
from bot.types import UNHANDLED, Reply
from handlers.common.router import HELP_WORDS, help_text
from handlers.staff import commands, linking, rules
from storage.models import Staff
from storage.repositories import staff_link as repo

LINKED = ("已绑定工作账号：{name}。\n本微信将收到您辖区的工单等工作提醒（可在工作台「我的账号」中按类别开关、设置免打扰时段）。"
          "\n回复「待办」查看待办工单；回复「解绑工作账号」可解除绑定。")
COMMITTEE_LINKED = ("已绑定业主委员会账号：{name}。\n本微信将收到本小区业主表决开启、结束和撤销的提醒（可在工作台「我的账号」中关闭）。"
                    "\n回复「待办」查看本小区的业主表决；回复「解绑工作账号」可解除绑定。")


def _linked(staff: Staff) -> str:
    return (COMMITTEE_LINKED if staff.committee_estate_id is not None else LINKED).format(name=staff.display_name)


async def linked_staff(ctx: Context) -> Staff | None:
    """The active staff account linked to the sender, if any."""
    staff = await repo.staff_of_openid(ctx.session, ctx.message.openid)
    return staff if staff is not None and staff.active else None


def _blocked(staff: Staff) -> str | None:
    if staff.must_change_password:
        return "请先登录工作台修改初始密码，再在微信中办理工单。"
    return None


async def working_staff(ctx: Context) -> tuple[Staff | None, Reply | None]:
    """(staff, None) for a linked account that may work in chat; (None, why not) for one that may not yet;
    (None, None) for everyone else (their words are the resident's)."""
    staff = await linked_staff(ctx)
    if staff is None:
        return None, None
    blocked = _blocked(staff)
    return (None, Reply(blocked)) if blocked else (staff, None)


def build_router() -> Router:
    router = Router("staff")  # no help_lines: residents never see the staff words

    @router.event("subscribe_scan", "scan")
    async def scanned(ctx: Context):
        if not ctx.message.event_key.startswith(rules.SCENE_PREFIX):
            return UNHANDLED  # a community poster: registration's
        if ctx.message.event == "subscribe_scan":
            ctx.resident.subscribed = True
            ctx.resident.followed_at = ctx.now
        try:
            staff = await linking.link_by_scene(ctx.session, ctx.message.openid, ctx.message.event_key, ctx.now)
        except linking.LinkRefused as refused:
            return Reply(refused.message)
        return Reply(_linked(staff))

    @router.text(r"^\s*[0-9０-９]{6}\s*$")
    async def code(ctx: Context):
        text = unicodedata.normalize("NFKC", ctx.text).strip()
        if not rules.is_code(text):
            return UNHANDLED
        if not (await repo.any_live(ctx.session, "code", ctx.now)
                or await repo.issued_since(ctx.session, "code", text, ctx.now - rules.RECENT_CODE)):
            return UNHANDLED  # nobody is linking: six digits mean whatever they mean to the resident features
        try:
            staff = await linking.link_by_code(ctx.session, ctx.message.openid, text, ctx.now)
        except linking.LinkRefused as refused:
            return Reply(refused.message)  # the guess stays counted: this transaction commits
        return Reply(_linked(staff))

    @router.words(*rules.UNLINK_WORDS)
    async def unlink(ctx: Context):
        staff = await linked_staff(ctx)
        if staff is None:
            return UNHANDLED
        await linking.unlink(ctx.session, staff)
        return Reply(f"已解除与工作账号 {staff.display_name} 的绑定，本微信不再收到工作提醒。")

    @router.words(*HELP_WORDS, state=ANY_STATE)
    async def staff_help(ctx: Context):
        if await linked_staff(ctx) is None:
            return UNHANDLED
        lines = "\n".join(f"· {line}" for line in rules.STAFF_HELP)
        return Reply(f"{help_text(ctx)}\n\n工作人员（已绑定工作账号）还可以发送：\n{lines}")

    @router.words(*rules.TODO_WORDS)
    async def todo(ctx: Context):
        staff, refusal = await working_staff(ctx)
        if staff is None:
            return refusal or UNHANDLED
        if staff.partner is not None:
            return Reply(await commands.partner_todo(ctx.session, staff))
        if staff.committee_estate_id is not None:  # an owners' committee: its estate's motions (handlers/owners)
            from handlers.owners.committee import todo_text

            return Reply(await todo_text(ctx.session, staff))
        return Reply(await commands.todo(ctx.session, staff))

    @router.text(rules.COMMAND_RE)
    async def command(ctx: Context):
        staff, refusal = await working_staff(ctx)
        if staff is None:
            return refusal or UNHANDLED
        parsed = rules.parse_command(ctx.text)
        if parsed is None:
            return UNHANDLED
        if staff.committee_estate_id is not None:
            return Reply("业主委员会账号不办理工单。回复「待办」查看本小区的业主表决。")
        if isinstance(parsed, str):
            return Reply(parsed)
        return Reply(await commands.run(ctx.session, ctx.services, staff, parsed, ctx.now))

    @router.message("image", state=NO_STATE)
    async def photo(ctx: Context):
        staff = await linked_staff(ctx)
        if staff is None or _blocked(staff):
            return UNHANDLED
        said = await commands.evidence(ctx.session, ctx.services, staff, ctx.message.media_id, ctx.message.pic_url,
                                       ctx.now)
        return Reply(said) if said else UNHANDLED

    return router
