"""Residents joining: follow/unfollow, QR-code binding, the 绑定 dialog, 我的信息 and erasure."""
from bot.features import ChatRouter, Feature
from handlers.registration.router import build_router
from handlers.registration.states import Bind, Erase

feature = Feature("registration", routers=[ChatRouter(30, build_router)], states=[Bind, Erase])

__all__ = ["feature", "build_router"]
