"""The dialog states of notices: picking a notice from a numbered list."""
from bot.states import StatesGroup, state


class NoticeDialog(StatesGroup, prefix="notices"):
    pick = state()
