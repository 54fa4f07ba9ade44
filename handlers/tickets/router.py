"""Chat handlers for complaints: thin — read the message, call the dialog / resident helpers, reply.

Place it after registration and subscriptions and before policy Q&A: its words (投诉, 我的投诉, 查询, 补充, 升级,
不满意, a bare 1–5 rating) must win over the Q&A matcher, and a question such as 「投诉物业找谁？」 is passed on
(UNHANDLED) to the Q&A.
"""
from __future__ import annotations

import re

from bot.context import Context
from bot.router import Router
from bot.types import UNHANDLED, Reply
from handlers.choices import pick
from handlers.tickets import claim, dialog, resident
from handlers.tickets.numbering import LOOSE, canonical, find_number
from handlers.tickets.states import Claim, Complaint, Mine

START = re.compile(r"^(?:我要投诉|我想投诉|投诉一下|投诉|我要反映|反映问题|我要报事|报事)(.*)$", re.S)
QUESTION = re.compile(r"[?？]|怎么|如何|找谁|哪里|吗$|么$|是否|能不能|可以不")
# 查询 JF20261126-0007 / 查询 jf20261126-7 / 查询 2 (the second of 「我的投诉」) / 查询
QUERY = re.compile(r"^(?:查询|查看|查|进度|查进度)\s*(?:(" + LOOSE + r")|第?\s*(\d{1,2})\s*(?:个|件|号)?)?\s*$", re.I)
NUMBER_ONLY = re.compile(r"^\s*(" + LOOSE + r")\s*$", re.I)  # a ticket number sent on its own
RATING = re.compile(r"^(?:评价\s*(" + LOOSE + r")?\s*)?([1-5])(?:\s*(?:分|星))?(?:$|[\s,，。:：]+(.*)$)",
                    re.I | re.S)
ESCALATE = re.compile(r"^(?:升级|申请升级)\s*(" + LOOSE + r")?\s*$", re.I)
VERDICT = re.compile(r"^(不满意|非常不满意|很不满意|满意|非常满意|很满意)(?:$|[\s,，。!！:：]+(.*)$)", re.S)  # not 「满意度」
SUPPLEMENT = re.compile(r"^补充\s*(.*)$", re.S)
CLAIM = re.compile(r"^(?:关联投诉|认领投诉|关联电话投诉)\s*(.*)$", re.S)
MINE = ("我的投诉", "投诉进度", "投诉记录", "我的工单", "查询投诉")
SATISFIED = {"满意": 4, "非常满意": 5, "很满意": 5}


def build_router() -> Router:
    router = Router("tickets", help_lines=[
        "投诉：反映物业、维修、收费、停车等问题，也可一句话提交，如「投诉 楼道灯坏了三天了」",
        "我的投诉：查看您提交的投诉及办理状态", "查询 编号：查看一件投诉的办理过程",
        "关联投诉：把您打电话或来访时反映、由工作人员登记的投诉关联到微信"])

    @router.click("COMPLAINT")
    async def complaint_button(ctx: Context) -> Reply:
        ctx.conversation.clear()
        return await dialog.begin(ctx)

    @router.click("MY_TICKETS")
    async def mine_button(ctx: Context) -> Reply:
        return Reply(await resident.my_tickets(ctx))

    @router.words(*MINE)
    async def mine(ctx: Context) -> Reply:
        return Reply(await resident.my_tickets(ctx))

    @router.state(Mine.listed)
    async def mine_picked(ctx: Context):
        """After 「我的投诉」: a number picks from the list; anything else is a fresh message."""
        numbers = ctx.conversation.data.get("numbers", [])
        index = pick(ctx.text, numbers, by_name=False)
        ctx.conversation.clear()
        if index is None:
            return UNHANDLED
        return Reply(await resident.timeline(ctx, numbers[index]))

    @router.text(NUMBER_ONLY)
    async def bare_number(ctx: Context) -> Reply:
        return Reply(await resident.timeline(ctx, canonical(ctx.match.group(1)) or ctx.match.group(1)))

    @router.text(START)
    async def start(ctx: Context):
        rest = ctx.match.group(1).strip(" \t\n:：,，。")
        if rest and QUESTION.search(rest):
            return UNHANDLED  # 「投诉物业找谁？」 is a question for the policy Q&A
        # the pattern saw the NFKC form; the complaint keeps the resident's own characters (「，」 stays 「，」)
        command = ctx.match.group(0)[:ctx.match.start(1)]
        written = ctx.text[len(command):] if ctx.text.startswith(command) else rest
        return await dialog.begin(ctx, written.lstrip(" \t\n:：,，。").rstrip() if rest else "")

    @router.text(QUERY)
    async def query(ctx: Context) -> Reply:
        number, position = ctx.match.group(1), ctx.match.group(2)
        if position:
            return Reply(await resident.timeline_at(ctx, int(position)))
        if not number:
            return Reply(await resident.my_tickets(ctx))
        return Reply(await resident.timeline(ctx, canonical(number) or number.upper()))

    @router.text(RATING)
    async def rating(ctx: Context):
        number = ctx.match.group(1)
        said = await resident.rate(ctx, int(ctx.match.group(2)), (ctx.match.group(3) or "").strip(),
                                   canonical(number) if number else None)
        return Reply(said) if said else UNHANDLED

    @router.text(VERDICT)
    async def verdict(ctx: Context):
        word, words = ctx.match.group(1), (ctx.match.group(2) or "").strip()
        number = find_number(words)
        if word in SATISFIED:
            said = await resident.rate(ctx, SATISFIED[word], words, number)
        else:
            said = await resident.unsatisfied(ctx, words or word, number)
        return Reply(said) if said else UNHANDLED

    @router.text(ESCALATE)
    async def escalate(ctx: Context) -> Reply:
        number = ctx.match.group(1)
        return Reply(await resident.escalate(ctx, canonical(number) if number else None))

    @router.text(CLAIM)
    async def claim_start(ctx: Context) -> Reply:
        return await claim.begin(ctx, ctx.match.group(1).strip())

    router.state(Claim.phone)(claim.on_phone)
    router.state(Claim.confirm)(claim.on_confirm)

    @router.text(SUPPLEMENT)
    async def supplement(ctx: Context) -> Reply:
        return Reply(await resident.supplement(ctx, ctx.match.group(1)))

    # ---- the filing dialog ----
    router.state(Complaint.category)(dialog.on_category)
    router.state(Complaint.description)(dialog.on_description)
    router.state(Complaint.media)(dialog.on_media_text)
    router.state(Complaint.phone)(dialog.on_phone)
    router.state(Complaint.confirm)(dialog.on_confirm)

    @router.message("image", state=Complaint.any)
    async def photo(ctx: Context) -> Reply:
        said = dialog.add_photo(ctx)
        if ctx.conversation.state == Complaint.description:
            return Reply(f"{said}请再用文字描述一下问题。")
        if ctx.conversation.state == Complaint.confirm:
            return Reply(f"{said}\n{await dialog.confirmation(ctx)}")
        if ctx.conversation.state == Complaint.media:
            return Reply(f"{said}可以继续发送，发完请回复「好了」。")
        return Reply(f"{said}请先回复上一条消息中的问题。")

    @router.message("video", "shortvideo", state=Complaint.any)
    async def video(ctx: Context) -> Reply:
        said = dialog.add_video(ctx)
        if ctx.conversation.state == Complaint.confirm:
            return Reply(f"{said}\n{await dialog.confirmation(ctx)}")
        if ctx.conversation.state == Complaint.media:
            return Reply(f"{said}可以继续发送，发完请回复「好了」。")
        return Reply(f"{said}请先回复上一条消息中的问题。")

    @router.message("image", "video", "shortvideo")
    async def evidence_for_waiting(ctx: Context):
        """A photo or video sent outside a dialog while one complaint waits for the resident's 补充: its 补充."""
        said = await resident.supplement_media(ctx)
        return Reply(said) if said else UNHANDLED

    # only a voice nobody could hear arrives as `voice`; a heard one is text (bot/voice.py)
    router.message("voice", state=Complaint.any)(dialog.on_voice)

    @router.message("location", state=Complaint.any)
    async def location(ctx: Context) -> Reply:
        said = dialog.add_location(ctx)
        if ctx.conversation.state == Complaint.confirm:
            return Reply(f"{said}\n{await dialog.confirmation(ctx)}")
        return Reply(f"{said}" + ("发完请回复「好了」。" if ctx.conversation.state == Complaint.media else ""))

    return router

