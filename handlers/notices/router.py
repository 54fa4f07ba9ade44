"""Chat: 「公示」 lists the latest notices for the resident's community (numbered; a number opens one),
「公示 收支」 filters by category, 「会议纪要」 and the NOTICES / MEETINGS menu buttons do the same.

Muting is 「退订 公示」 / 「退订 会议」 in handlers/subscriptions. The list is a soft dialog: anything other than a
number ends it and is routed afresh.
"""
from __future__ import annotations

import re
import unicodedata

from bot.context import Context
from bot.localtime import LOCAL_TZ
from bot.router import Router, normalize_words
from bot.types import UNHANDLED, Reply
from handlers.choices import pick
from handlers.notices import rules, service
from handlers.notices.states import NoticeDialog
from storage.repositories import notices as repo

STATE = NoticeDialog.pick
LIST_SIZE = 8
FILTER = re.compile(r"^(?:公示|公告)(\s*)(\S{1,10})$")
LIST_WORDS = ("公示", "公告", "查看公示", "最新公示")
MEETING_WORDS = ("会议纪要", "联席会议", "联席会议纪要")
NOT_BOUND = "请先回复「绑定」选择您所在的社区和小区，才能查看本社区的公示。"
KINDS = "、".join(rules.SHORT.values())


def build_router() -> Router:
    router = Router("notices", help_lines=["公示：查看本社区最新公示（「公示 收支」按类别查看）",
                                           "会议纪要：查看本社区联席会议纪要"])

    @router.words(*LIST_WORDS)
    async def latest(ctx: Context):
        return await _listing(ctx, None)

    @router.click("NOTICES")
    async def notices_button(ctx: Context):
        ctx.conversation.clear()
        return await _listing(ctx, None)

    @router.words(*MEETING_WORDS)
    async def meetings(ctx: Context):
        return await _listing(ctx, "meeting")

    @router.click("MEETINGS")
    async def meetings_button(ctx: Context):
        ctx.conversation.clear()
        return await _listing(ctx, "meeting")

    @router.text(FILTER)
    async def by_category(ctx: Context):
        return await _filtered(ctx, ctx.match)

    @router.state(STATE)
    async def picked(ctx: Context):
        ids = ctx.conversation.data.get("ids", [])
        index = pick(ctx.text, [str(i) for i in range(1, len(ids) + 1)])
        if index is not None:
            return Reply(await _one(ctx, ids[index]))
        ctx.conversation.clear()  # the resident moved on; our own commands are answered here, the rest re-routed
        words = normalize_words(ctx.text)
        if words in LIST_WORDS or words in MEETING_WORDS:
            return await _listing(ctx, "meeting" if words in MEETING_WORDS else None)
        found = FILTER.search(unicodedata.normalize("NFKC", ctx.text).strip())
        return await _filtered(ctx, found) if found else UNHANDLED

    return router


async def _filtered(ctx: Context, found: re.Match) -> Reply:
    category = rules.category_of(found.group(2))
    if category is None:
        if not found.group(1):  # 「公示是什么」 is a question for the Q&A, not a filter
            return UNHANDLED
        return Reply(f"没有「{found.group(2)}」这一类公示。可以按这些类别查看：{KINDS}，例如回复「公示 收支」。")
    return await _listing(ctx, category)


async def _listing(ctx: Context, category: str | None) -> Reply:
    resident = ctx.resident
    if resident.community_id is None:
        return Reply(NOT_BOUND)
    role = resident.role.value if resident.role else None
    rows = await repo.for_resident(ctx.session, community_id=resident.community_id, estate_id=resident.estate_id,
                                   role=role, category=category, limit=LIST_SIZE)
    label = rules.CATEGORIES[category] if category else "公示"
    if not rows:
        ctx.conversation.clear()
        hint = "" if category else f"\n也可以按类别查看：{KINDS}。"
        return Reply(f"本社区暂时没有{label}。有新的{label}时会推送给您。{hint}")
    lines = [f"{n}. {_line(notice, version, category is None)}" for n, (notice, version) in enumerate(rows, 1)]
    ctx.conversation.enter(STATE, ids=[notice.id for notice, _ in rows])
    return Reply(f"本社区最新{label}：\n" + "\n".join(lines) + "\n\n回复序号查看详情。")


def _line(notice, version, with_category: bool) -> str:
    day = notice.published_at.astimezone(LOCAL_TZ)
    tag = f"[{rules.SHORT[notice.category]}] " if with_category else ""
    fixed = "（已更正）" if notice.state == "corrected" else ""
    return f"{tag}{version.title}{fixed}（{day.month}月{day.day}日）"


async def _one(ctx: Context, notice_id: int) -> str:
    notice = await repo.get(ctx.session, notice_id)
    if notice is None or notice.state not in rules.LIVE:
        return "这条公示已撤回或不存在。回复「公示」查看最新公示。"
    version = service.current(notice)
    day = notice.published_at.astimezone(LOCAL_TZ)
    fixed = f"\n（第{version.version}版，更正说明：{version.note}）" if version.note else ""
    return (f"【{rules.CATEGORIES[notice.category]}】{version.title}{fixed}\n{version.summary}\n"
            f"发布：{notice.publisher} · {day.year}年{day.month}月{day.day}日\n"
            f"查看全文：{service.link(ctx.settings.base_url, notice)}\n\n回复其他序号查看另一条。")
