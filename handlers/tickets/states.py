"""The dialog states of tickets: filing a complaint step by step."""
from bot.states import StatesGroup, state


class Complaint(StatesGroup, prefix="tickets"):
    category = state()
    description = state()
    phone = state()
    media = state()
    confirm = state()


class Mine(StatesGroup, prefix="mine"):
    """After 「我的投诉」 listed the resident's complaints: a number shows that one (a soft step)."""

    listed = state()


class Claim(StatesGroup, prefix="claim"):
    """关联投诉: a complaint staff recorded from a phone call or a visit, linked to the caller's WeChat."""

    phone = state()
    confirm = state()
