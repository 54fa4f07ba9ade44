"""Words that work everywhere (帮助/菜单, 取消/退出) and the polite answers of last resort."""
from bot.features import ChatRouter, Feature
from handlers.common.router import build_router, fallback_router

# first the words that work everywhere; last the polite answer when nothing else took the message
feature = Feature("common", routers=[ChatRouter(10, build_router), ChatRouter(1000, fallback_router)])

__all__ = ["feature", "build_router", "fallback_router"]
