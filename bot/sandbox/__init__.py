"""A local stand-in for WeChat's API (`linli sandbox`): same endpoints, documented answers and errcodes, the 客服
window and quotas, injectable faults, and a record of what was "delivered".

Modules: `state` (followers, deliveries, quota, menu, QR codes), `window` (客服 window), `tokens` (access
tokens), `faults`, `menu_rules` (WeChat's menu checks), `callback` (TEMPLATESENDJOBFINISH pushes) — all pure
except `callback`; `api` (the `/cgi-bin` routes), `control` (the `/sandbox` routes), `server` (app factory).
"""
from bot.sandbox.server import create_sandbox_app, run_sandbox

__all__ = ["create_sandbox_app", "run_sandbox"]
