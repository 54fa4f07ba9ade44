"""Resident chat for owners: 「核验」 verifies owner status against the roster (the roster's phone, then the
6-digit code pushed to the resident; or 「人工核验」 for staff), 「表决」 votes on an open motion: the motion, the
rooms and areas that will vote, one choice (同意 / 反对 / 弃权), a confirmation naming each room and its area.
Thin: parse → verify / voting → reply.
"""
from __future__ import annotations

import re

from bot.context import Context
from bot.router import Router
from bot.types import UNHANDLED, Reply
from handlers import vocabulary
from handlers.choices import numbered, pick
from handlers.owners import attachments, evidence, motions, rules, verify, voting
from handlers.owners.states import Ballot, Verify
from storage.repositories import owners as repo

VERIFY_WORDS = ("核验", "业主核验", "业主认证", "核验业主")
VOTE_WORDS = ("表决", "业主表决", "参加表决")
STAFF_WORDS = ("人工核验", "人工审核")
DONE_WORDS = ("完成", "发完了", "好了")
MAX_PHONE_TRIES = 3
OUTCOME = {"new": "已计入", "changed": "已改为本次意见", "same": "意见未变",
           "taken": "该房屋已有其他业主（共有人）或纸质表决票先行表决，以最先确认的一票为准，本次不计入"}


def build_router() -> Router:
    router = Router("owners", help_lines=["核验：核验您的业主身份（参加业主表决前需要）",
                                          "表决：参加本小区业主共同决定事项的表决"],
                    cancel_notes={Ballot.confirm: "本次表决未提交。",
                                  Verify.evidence: "已收到的照片仍交给工作人员查验，核验或驳回后即删除。"})

    @router.words(*VERIFY_WORDS)
    async def start_verify(ctx: Context) -> Reply:
        if not verify.is_owner(ctx.resident):
            return Reply("业主身份核验需要先以「业主」身份绑定小区和房号，请回复「绑定」。")
        status = await verify.status_of(ctx.session, ctx.resident)
        if status != verify.UNVERIFIED:
            return Reply(f"您的业主身份：{status}。回复「表决」可参加进行中的业主表决。")
        ctx.conversation.enter(Verify.phone, tries=0)
        return Reply("请回复业主名册上登记的您的手机号码，我们会向您推送 6 位验证码。\n"
                     "名册上没有您的电话，可回复「人工核验」，由社区工作人员查验房产证等材料后核验。")

    @router.state(Verify.phone)
    async def phone_given(ctx: Context) -> Reply:
        if ctx.text.strip() in STAFF_WORDS:
            ctx.conversation.clear()
            count = await verify.request_staff(ctx.session, ctx.resident, ctx.now)
            if not count:
                return Reply("名册中没有找到您绑定的房号，请联系社区工作人员先在业主名册中登记您的房屋。")
            ctx.conversation.enter(Verify.evidence)
            return Reply("已提交人工核验申请。您可以现在直接发送房产证（不动产权证书）内页照片，工作人员在工作台查验；"
                         f"照片只有辖区工作人员能看到，核验或驳回后立即删除，最长保留 {evidence.KEEP_DAYS} 天。\n"
                         "也可以携带材料到社区，工作人员查验后即完成核验（材料不留存）。发送完照片请回复「完成」。")
        if rules.normal_phone(ctx.text) is None:
            if not re.search(r"[0-9]", ctx.text):
                ctx.conversation.clear()
                return UNHANDLED
            return Reply("没有看懂这个电话号码，请回复 11 位手机号码，或回复「人工核验」。")
        matched = await verify.send_code(ctx.session, ctx.resident, ctx.text, secret=ctx.settings.household_secret,
                                         now=ctx.now)
        if not matched:
            tries = ctx.conversation.data.get("tries", 0) + 1
            if tries >= MAX_PHONE_TRIES:
                ctx.conversation.clear()
                return Reply("您绑定的房屋在名册中没有这个电话号码。请回复「核验」后选择「人工核验」，或联系社区工作人员。")
            ctx.conversation.update(tries=tries)
            return Reply("您绑定的房屋在业主名册中没有登记这个电话号码。请核对后重新回复，或回复「人工核验」；"
                         "绑定的房号有误请先回复「绑定」修改。")
        ctx.conversation.update(Verify.code)
        return Reply(f"验证码已通过本服务号推送给您，请在 {verify.CODE_MINUTES} 分钟内回复这 6 位数字。")

    @router.state(Verify.evidence, "image")
    async def photo_given(ctx: Context) -> Reply:
        if not await evidence.receive(ctx.session, ctx.resident, ctx.message.media_id, ctx.now):
            return Reply(f"最多可以发送 {evidence.MAX_PHOTOS} 张照片，已收到的照片足够工作人员查验。回复「完成」结束。")
        return Reply("照片已收到，工作人员查验后即删除。还有其他页可以继续发送，发送完请回复「完成」。")

    @router.state(Verify.evidence)
    async def evidence_done(ctx: Context):
        ctx.conversation.clear()
        if ctx.text.strip() not in DONE_WORDS:
            return UNHANDLED
        return Reply("好的，工作人员查验后会通过本服务号通知您核验结果。")

    @router.state(Verify.code)
    async def code_given(ctx: Context) -> Reply:
        code = ctx.text.strip()
        if not re.fullmatch(r"[0-9]{6}", code):
            return Reply("请回复 6 位数字验证码，或回复「取消」。")
        outcome = await verify.check_code(ctx.session, ctx.resident, code, secret=ctx.settings.household_secret,
                                          now=ctx.now)
        if outcome == "ok":
            ctx.conversation.clear()
            await repo.discard_evidence(ctx.session, resident_id=ctx.resident.id)  # photos no longer needed
            return Reply("业主身份核验成功！回复「表决」可参加进行中的业主表决。")
        if outcome == "wrong":
            return Reply("验证码不正确，请再试一次。")
        ctx.conversation.clear()
        return Reply("验证码已失效，请回复「核验」重新获取。")

    @router.words(*VOTE_WORDS)
    async def start_vote(ctx: Context) -> Reply:
        return await _start(ctx)

    @router.words(*VOTE_WORDS, state=Ballot.any)
    async def restart_vote(ctx: Context) -> Reply:
        ctx.conversation.clear()
        return await _start(ctx)

    @router.state(Ballot.pick)
    async def picked(ctx: Context):
        options = ctx.conversation.data.get("options", [])
        index = pick(ctx.text, ctx.conversation.data.get("labels", []))
        if index is None:
            if ctx.text.strip().isdigit():
                return Reply(f"请回复 1 到 {len(options)} 之间的数字，或回复「取消」。")
            ctx.conversation.clear()
            return UNHANDLED
        motion = await repo.get_motion(ctx.session, options[index])
        return await _show(ctx, motion)

    @router.state(Ballot.choice)
    async def chosen(ctx: Context) -> Reply:
        motion = await repo.get_motion(ctx.session, ctx.conversation.data["mid"])
        if motion is None or not motions.is_open(motion, ctx.now):
            ctx.conversation.clear()
            return Reply("这项表决已经结束。")
        if motion.topic == "election":
            candidates, seats = _election(motion)
            choice = rules.parse_picks(ctx.text, len(candidates), seats)
            if choice is None:
                return Reply(f"请回复候选人序号（1 到 {len(candidates)}，最多 {seats} 个，用空格分隔），或回复「弃权」；"
                             "回复「取消」退出。")
        else:
            choice = rules.parse_choice(ctx.text)
            if choice is None:
                return Reply("请回复 1（同意）、2（反对）或 3（弃权）；回复「取消」退出。")
        rooms = await voting.rooms_for(ctx.session, motion, ctx.resident)
        ctx.conversation.update(Ballot.confirm, choice=choice)
        lines = [f"请确认：您以下列房屋对「{motion.title}」表决为【{motions.choice_text(motion, choice)}】："]
        lines += [f"- {rc.label}{'（受托代理）' if rc.link.method == 'proxy' else ''}" for rc in rooms]
        lines.append("回复「确认」提交，回复「取消」放弃。截止前可以修改。")
        return Reply("\n".join(lines))

    @router.state(Ballot.confirm)
    async def confirmed(ctx: Context) -> Reply:
        if not vocabulary.is_yes(ctx.text):
            return Reply("请回复「确认」提交，或回复「取消」放弃。")
        data = ctx.conversation.data
        motion = await repo.get_motion(ctx.session, data["mid"])
        ctx.conversation.clear()
        if motion is None or not motions.is_open(motion, ctx.now):
            return Reply("这项表决已经结束，本次未提交。")
        outcomes = await voting.cast_chat(ctx.session, motion, ctx.resident, data["choice"], ctx.now)
        if not outcomes:
            return Reply("您名下没有可以参加这项表决的房屋（核验可能已被撤销），本次未提交。")
        lines = [f"「{motion.title}」表决结果已记录（{motions.choice_text(motion, data['choice'])}）："]
        lines += [f"- {o.label}：{OUTCOME[o.outcome]}" for o in outcomes]
        lines.append(f"{motions.local(motion.closes_at)} 截止前回复「表决」可以修改。")
        return Reply("\n".join(lines))

    return router


async def _start(ctx: Context) -> Reply:
    found = await voting.open_motions_for(ctx.session, ctx.resident, ctx.now)
    if not found:
        if verify.is_owner(ctx.resident) and await verify.status_of(ctx.session, ctx.resident) == verify.UNVERIFIED:
            return Reply("您的业主身份：未核验。核验后才能参加业主表决，请回复「核验」。")
        if not verify.is_owner(ctx.resident):
            return Reply("只有经过核验的业主（或登记的委托代理人）可以参加业主表决。业主请先以「业主」身份「绑定」。")
        return Reply("目前没有您可以参加的业主表决。")
    if len(found) == 1:
        return await _show(ctx, found[0])
    labels = [f"{m.title}（截止 {motions.local(m.closes_at)}）" for m in found]
    ctx.conversation.enter(Ballot.pick, options=[m.id for m in found], labels=labels)
    return Reply(f"进行中的业主表决：\n{numbered(labels)}\n请回复数字选择。")


async def _show(ctx: Context, motion) -> Reply:
    if motion is None or not motions.is_open(motion, ctx.now):
        ctx.conversation.clear()
        return Reply("这项表决已经结束。")
    rooms = await voting.rooms_for(ctx.session, motion, ctx.resident)
    what = rules.TOPICS[motion.topic] if motion.topic != "general" else rules.KINDS[motion.kind]
    lines = [f"【{motion.title}】（{what}）", motion.body[:800] + ("……" if len(motion.body) > 800
                                                                                     else ""),
             f"截止：{motions.local(motion.closes_at)}", "表决房屋："]
    for rc in rooms:
        held = await repo.ballot_of_room(ctx.session, motion.id, rc.room.id)
        mine = held is not None and held.voter_ref == ctx.resident.ref
        note = (f"（您已表决：{motions.choice_text(motion, held.choice)}）" if mine else
                "（已由其他共有人或纸质表决票表决）" if held is not None else "")
        lines.append(f"- {rc.label}{note}")
    files = await repo.attachments_of(ctx.session, motion.id)
    if files:
        lines.insert(2, "附件（72 小时内有效）：\n" + "\n".join(
            f"· {attachments.PURPOSES.get(a.purpose, '附件')}：{a.name} "
            f"{attachments.resident_link(ctx.settings, a, ctx.resident.ref, ctx.now)}" for a in files))
    if motion.topic == "election":
        candidates, seats = _election(motion)
        lines.append(f"候选人（应选 {seats} 名）：")
        lines += [f"{n}. {name}" for n, name in enumerate(candidates, 1)]
        lines.append(f"请回复您同意的候选人序号（最多 {seats} 个，用空格分隔），或回复「弃权」。")
    else:
        if motion.topic == "repair_fund":
            details = motion.details or {}
            lines.insert(2, f"维修工程：{details.get('works', '')}\n预算：{details.get('budget', '')}"
                         + (f"\n报价：{'；'.join(details.get('quotes') or [])}" if details.get("quotes") else ""))
        lines.append("请回复：1 同意　2 反对　3 弃权")
    ctx.conversation.enter(Ballot.choice, mid=motion.id)
    return Reply("\n".join(lines))


def _election(motion) -> tuple[list[str], int]:
    details = motion.details or {}
    return list(details.get("candidates") or []), int(details.get("seats") or 1)
