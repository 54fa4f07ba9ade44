"""Residents joining: follow/unfollow, QR-code binding, the 绑定 dialog, 我的信息 and erasure."""
from handlers.registration.router import build_router

__all__ = ["build_router"]
