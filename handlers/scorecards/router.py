"""Chat: 「物业评分」 shows the resident the scorecard of their estate's property-service company, 「开发商评分」 that of
its developer — only what staff published (the latest live publication covering their estate), never live
figures. Unbound residents are asked to bind first; nothing published yet gets a plain answer.
"""
from __future__ import annotations

from bot.context import Context
from bot.router import Router
from bot.types import Reply
from handlers.scorecards import publish
from storage.models import Estate

WORDS = {"property": ("物业评分", "物业评价", "物业打分", "物业考评"), "developer": ("开发商评分", "开发商评价")}
NOT_BOUND = "请先回复「绑定」选择您所在的社区和小区，才能查看小区的物业服务评分。"


def build_router() -> Router:
    router = Router("scorecards", help_lines=["物业评分：查看本小区物业服务企业的评议结果（工作人员公布的）",
                                              "开发商评分：查看本小区开发建设单位的评议结果（工作人员公布的）"])

    @router.words(*WORDS["property"])
    async def property_score(ctx: Context):
        return Reply(await answer(ctx, "property"))

    @router.words(*WORDS["developer"])
    async def developer_score(ctx: Context):
        return Reply(await answer(ctx, "developer"))

    return router


async def answer(ctx: Context, kind: str) -> str:
    resident = ctx.resident
    if resident.estate_id is None:
        return NOT_BOUND
    estate = await ctx.session.get(Estate, resident.estate_id)
    subject_id = None if estate is None else (estate.property_company_id if kind == "property" else
                                              estate.developer_id)
    noun = "物业服务企业" if kind == "property" else "开发建设单位"
    if subject_id is None:
        return f"您所在的小区没有登记{noun}，暂无评分。"
    pub = await publish.latest_for_estate(ctx.session, kind, subject_id, estate.id)
    if pub is None:
        return f"{estate.name}的{noun}暂未公布评议结果。结果由街道或区主管部门审核后公布，公布后回复「{WORDS[kind][0]}」即可查看。"
    return publish.resident_text(kind, pub.subject_name, pub.figures, pub.published_at, estate.id)
