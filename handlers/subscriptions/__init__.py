"""Residents' push preferences (订阅 / 退订 <类别>) and WeChat's TEMPLATESENDJOBFINISH receipts."""
from bot.features import ChatRouter, Feature
from handlers.subscriptions.router import build_router

feature = Feature("subscriptions", routers=[ChatRouter(20, build_router)])

__all__ = ["feature", "build_router"]
