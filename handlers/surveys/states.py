"""The dialog states of surveys: answering a survey one question at a time."""
from bot.states import StatesGroup, state


class Voting(StatesGroup, prefix="survey"):
    pick = state()
    q = state()
    confirm = state()
