"""Residents' push preferences (订阅 / 退订 <类别>) and WeChat's TEMPLATESENDJOBFINISH receipts."""
from handlers.subscriptions.router import build_router

__all__ = ["build_router"]
