"""Staff in the loop (issue 18): staff link their WeChat (a 6-digit code sent in chat or a temporary QR code, both
single-use for ten minutes), get the pushes of their work there (bot/delivery/staff.py: each kind switchable,
quiet hours), and work their tickets from the chat (「待办」「签收/回复/办结/退单 编号」, a photo after 办结 as
evidence) through the same ticket service and jurisdiction as the console. See docs/partners.md.
"""
from bot.features import ChatRouter, Feature
from handlers.staff import erasure
from handlers.staff.console import console
from handlers.staff.router import build_router

feature = Feature("staff", routers=[ChatRouter(5, build_router)], console=console, erase=erasure.erase_resident)

__all__ = ["feature"]
