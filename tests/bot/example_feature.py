"""A minimal linli feature: residents send 热线 and get the city's service numbers."""
from bot.context import Context
from bot.features import ChatRouter, Feature
from bot.router import Router
from bot.types import Reply


def build_router() -> Router:
    router = Router("hotlines", help_lines=["热线：常用服务电话"])

    @router.words("热线", "服务电话")
    async def hotlines(ctx: Context) -> Reply:
        return Reply("市民服务热线 12345；燃气抢修 96655；供热服务 96677。")

    return router


feature = Feature("hotlines", routers=[ChatRouter(45, build_router)])
