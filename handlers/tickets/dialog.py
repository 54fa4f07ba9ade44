"""The filing dialog: category → description → photos/location → call-back phone → confirmation, asking only
for what the resident has not already said (`投诉 楼道灯坏了三天了` goes straight to the confirmation).

State `tickets.<step>`; data: category, description, photos [{media_id, pic_url}, or {media_id, kind: "voice",
format} for a voice message nobody could turn into text], location {lat, lng, label}, phone, and `quick` (one-shot:
skip the optional steps, the confirmation invites them instead).

A voice message heard as text (bot/voice.py) is text here like any other. One that could not be heard is kept as
evidence (`add_voice`) and the dialog goes on: at the description step it stands for the description (staff listen
to it), so a resident who cannot type can still file.
"""
from __future__ import annotations

from bot.context import Context
from bot.types import Reply
from handlers import vocabulary
from handlers.choices import numbered, pick
from handlers.tickets import intake, notify, rules, service
from handlers.tickets.rules import CATEGORIES
from handlers.tickets.sla import sla_of
from handlers.tickets.states import Complaint

CATEGORY_CODES = list(CATEGORIES)
CATEGORY_NAMES = [CATEGORIES[c] for c in CATEGORY_CODES]
MAX_PHOTOS = 9
NOT_BOUND = "提交投诉前请先回复「绑定」选择您所在的社区和小区，这样才能交给负责的社区办理。"


async def begin(ctx: Context, text: str = "") -> Reply:
    if ctx.resident.community_id is None:
        ctx.conversation.clear()
        return Reply(NOT_BOUND)
    data: dict = {"photos": [], "quick": bool(text)}
    problem = None
    if text:
        parsed = intake.parse(text)
        if parsed.description:
            data["description"] = parsed.description
        data["category"], data["phone"] = parsed.category, parsed.phone
        if "description" in parsed.missing and parsed.description:
            data.pop("description")
        if len(parsed.description) > intake.MAX_DESCRIPTION:  # refused as in the dialog, never cut silently
            problem = intake.description_problem(parsed.description)
            data.pop("description")
    ctx.conversation.enter(Complaint.category, **data)  # `advance` moves on to the first missing piece
    return await advance(ctx, problem or "")


async def advance(ctx: Context, prefix: str = "") -> Reply:
    """Ask for the next missing piece, or show the confirmation."""
    data = ctx.conversation.data
    head = f"{prefix}\n" if prefix else ""
    if not data.get("category"):
        ctx.conversation.update(Complaint.category)
        hint = "（已记下您的描述）\n" if data.get("description") else ""
        return Reply(f"{head}{hint}请选择投诉类别：\n{numbered(CATEGORY_NAMES)}\n请回复数字。回复「取消」可退出。")
    if not data.get("description"):
        ctx.conversation.update(Complaint.description)
        return Reply(f"{head}类别：{CATEGORIES[data['category']]}。\n请描述问题：发生了什么、在哪里（几号楼几单元）、"
                     "持续多久。也可以先发照片。")
    if not data.get("quick") and not data.get("media_done"):
        ctx.conversation.update(Complaint.media)
        return Reply(f"{head}如有照片或位置，现在可以发送（照片最多 {MAX_PHOTOS} 张），发完回复「好了」；没有请回复「跳过」。")
    if not data.get("quick") and not data.get("phone_done"):
        ctx.conversation.update(Complaint.phone)
        return Reply(f"{head}如需工作人员回电，请留下手机号（仅办理人员可见，其他地方只显示 138****5678 形式）；"
                     "不需要请回复「跳过」。")
    ctx.conversation.update(Complaint.confirm)
    return Reply(head + await confirmation(ctx))


async def confirmation(ctx: Context) -> str:
    data = ctx.conversation.data
    sign_due, resolve_due = sla_of(ctx.services).deadlines(ctx.now, "community", data["category"])
    place = (await notify.place_names(ctx.session, ctx.resident.community_id))["community"]
    lines = ["请核对您的投诉：", f"类别：{CATEGORIES[data['category']]}", f"描述：{data['description']}"]
    photos, voices, videos = _evidence(data)
    if photos:
        lines.append(f"照片：{photos} 张")
    if voices:
        lines.append(f"语音：{voices} 段（工作人员会收听）")
    if videos:
        lines.append(f"视频：{videos} 段")
    if data.get("location"):
        lines.append(f"位置：{data['location'].get('label') or '已发送'}")
    lines.append(f"回电号码：{rules.mask_phone(data.get('phone')) or '未留'}")
    lines.append(f"提交后由{place}受理，预计 {notify.local(sign_due)} 前签收响应、{notify.local(resolve_due)} 前办结"
                 "（按工作日计算）。")
    lines.append("回复「确认」提交；回复「类别」或「描述」修改；" + (
        "可继续发送照片、位置，或回复「电话 手机号」留下回电号码；" if data.get("quick") else "") + "回复「取消」放弃。")
    return "\n".join(lines)


def add_photo(ctx: Context) -> str:
    photos = list(ctx.conversation.data.get("photos") or [])
    if len(photos) >= MAX_PHOTOS:
        return f"最多 {MAX_PHOTOS} 张照片，这张没有加入。"
    photos.append({"media_id": ctx.message.media_id, "pic_url": ctx.message.pic_url})
    ctx.conversation.update(photos=photos)
    return f"已收到第 {len(photos)} 张照片。"


def add_video(ctx: Context) -> str:
    """Keep a short video as evidence (its MediaId; downloaded and stored like photos, handlers/tickets/media.py)."""
    evidence = list(ctx.conversation.data.get("photos") or [])
    if len(evidence) >= MAX_PHOTOS:
        return f"照片、语音和视频最多 {MAX_PHOTOS} 个，这段视频没有加入。"
    evidence.append({"media_id": ctx.message.media_id, "pic_url": "", "kind": "video"})
    ctx.conversation.update(photos=evidence)
    return "已收到视频，会作为附件加入投诉。"


def _evidence(data: dict) -> tuple[int, int, int]:
    """(photos, voice messages, videos) attached so far."""
    items = data.get("photos") or []
    voices = sum(1 for item in items if item.get("kind") == "voice")
    videos = sum(1 for item in items if item.get("kind") == "video")
    return len(items) - voices - videos, voices, videos


def add_voice(ctx: Context) -> str:
    """Keep a voice message that could not be turned into text as evidence (its MediaId, as for photos)."""
    evidence = list(ctx.conversation.data.get("photos") or [])
    if len(evidence) >= MAX_PHOTOS:
        return f"照片和语音最多 {MAX_PHOTOS} 个，这段语音没有加入，请用文字说明。"
    fmt = str(ctx.message.raw.get("Format") or "amr").lower()[:8]
    evidence.append({"media_id": ctx.message.media_id, "pic_url": "", "kind": "voice", "format": fmt})
    ctx.conversation.update(photos=evidence)
    if ctx.conversation.state == Complaint.description and not ctx.conversation.data.get("description"):
        ctx.conversation.update(description=f"（居民用语音描述了问题，请收听语音附件；{notify.local(ctx.now)} 发送）")
        return "没能把这段语音转成文字，已作为问题描述加入投诉，工作人员会收听。"
    return "没能把这段语音转成文字，已作为语音附件加入投诉，工作人员会收听。"


def add_location(ctx: Context) -> str:
    raw = ctx.message.raw
    try:
        lat, lng = float(raw.get("Location_X")), float(raw.get("Location_Y"))
    except (TypeError, ValueError):
        return "没有读到位置信息，可以直接在描述里写明位置。"
    label = str(raw.get("Label") or "").strip()[:100]
    ctx.conversation.update(location={"lat": lat, "lng": lng, "label": label})
    return f"已记下位置：{label or f'{lat:.5f}, {lng:.5f}'}。"


async def on_category(ctx: Context) -> Reply:
    index = pick(ctx.text, CATEGORY_NAMES)
    if index is not None:
        ctx.conversation.update(category=CATEGORY_CODES[index])
        return await advance(ctx)
    if len(ctx.text) >= 6 and not intake.description_problem(ctx.text):  # they described it instead
        guessed, _ = intake.guess_category(ctx.text)
        ctx.conversation.update(description=ctx.text.strip(), category=guessed)
        return await advance(ctx)
    return Reply(f"请回复 1 到 {len(CATEGORY_NAMES)} 的数字选择类别：\n{numbered(CATEGORY_NAMES)}\n回复「取消」可退出。")


async def on_description(ctx: Context) -> Reply:
    problem = intake.description_problem(ctx.text)
    if problem:
        return Reply(problem)
    ctx.conversation.update(description=ctx.text.strip())
    phone = rules.find_phone(ctx.text)
    if phone and not ctx.conversation.data.get("phone"):
        ctx.conversation.update(phone=phone)
    return await advance(ctx)


async def on_media_text(ctx: Context) -> Reply:
    if vocabulary.is_skip(ctx.text):
        ctx.conversation.update(media_done=True)
        return await advance(ctx)
    return Reply("请发送照片或位置；发完或没有请回复「好了」/「跳过」。")


async def on_voice(ctx: Context) -> Reply:
    """A voice message that could not be heard, at any step: kept as evidence, and the step goes on."""
    step = ctx.conversation.state
    said = add_voice(ctx)
    if step == Complaint.description:
        if ctx.conversation.data.get("description"):
            return await advance(ctx, said)
        return Reply(f"{said}请再用文字描述一下问题。")
    if step == Complaint.confirm:
        return Reply(f"{said}\n{await confirmation(ctx)}")
    if step == Complaint.media:
        return Reply(f"{said}发完请回复「好了」。")
    if step == Complaint.category:
        return Reply(f"{said}\n请回复 1 到 {len(CATEGORY_NAMES)} 的数字选择投诉类别：\n{numbered(CATEGORY_NAMES)}")
    return Reply(f"{said}如需回电请发送手机号，不需要请回复「跳过」。")  # the phone step


async def on_phone(ctx: Context) -> Reply:
    if vocabulary.is_skip(ctx.text):
        ctx.conversation.update(phone_done=True, phone=None)
        return await advance(ctx)
    phone = rules.find_phone(ctx.text)
    if phone is None:
        return Reply("没有识别出电话号码。请发送 11 位手机号（如 13812345678）或带区号的座机号，不需要请回复「跳过」。")
    ctx.conversation.update(phone_done=True, phone=phone)
    return await advance(ctx, f"已记下回电号码 {rules.mask_phone(phone)}。")


async def on_confirm(ctx: Context) -> Reply:
    text = ctx.text.rstrip("。.!！")
    if text in ("类别", "修改类别", "改类别"):
        ctx.conversation.update(category=None)
        return await advance(ctx)
    if text in ("描述", "修改描述", "改描述"):
        ctx.conversation.update(Complaint.description, description=None)
        return await advance(ctx)
    phone = rules.find_phone(text) if text.startswith(("电话", "手机", "回电")) or text[:1].isdigit() else None
    if phone:
        ctx.conversation.update(phone=phone)
        return Reply(f"已记下回电号码 {rules.mask_phone(phone)}。\n" + await confirmation(ctx))
    if not vocabulary.is_yes(text) and text != "仍要提交":
        return Reply("请回复「确认」提交投诉，回复「类别」或「描述」修改，或回复「取消」放弃。")
    return await submit(ctx, force=text == "仍要提交" or bool(ctx.conversation.data.get("force")))


async def submit(ctx: Context, force: bool = False) -> Reply:
    data = ctx.conversation.data
    if not force:
        same = await service.find_duplicate(ctx.session, ctx.services, ctx.resident.ref, data["category"],
                                            data["description"], ctx.now)
        if same is not None:
            ctx.conversation.update(Complaint.confirm, force=True)
            return Reply(f"您在 {notify.local(same.created_at)} 已反映过相同的问题（编号 {same.number}，"
                         f"{rules.STATUS_LABELS[same.status]}），正在办理中，无需重复提交。\n"
                         f"回复「查询 {same.number}」查看进度；如确实是另一件事，回复「仍要提交」。")
    filing = service.Filing(category=data["category"], description=data["description"],
                            photos=data.get("photos") or [], location=data.get("location"), phone=data.get("phone"))
    try:
        ticket = await service.file_ticket(ctx.session, ctx.services, ctx.resident, filing, ctx.now)
    except service.TicketError as exc:
        ctx.conversation.clear()
        return Reply(exc.message)
    ctx.conversation.clear()
    place = (await notify.place_names(ctx.session, ticket.community_id))["community"]
    return Reply(f"已受理您的投诉，编号 {ticket.number}。\n由{place}办理，预计 {notify.local(ticket.sign_due_at)} 前"
                 f"签收响应，{notify.local(ticket.resolve_due_at)} 前办结（按工作日计算）。\n"
                 f"处理进展会推送给您；回复「查询 {ticket.number}」或「我的投诉」随时查看。")
