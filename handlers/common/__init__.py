"""Words that work everywhere (帮助/菜单, 取消/退出) and the polite answers of last resort."""
from handlers.common.router import build_router, fallback_router

__all__ = ["build_router", "fallback_router"]
