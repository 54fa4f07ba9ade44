"""The dialog states of policy_qa: after an answer, a candidate list, an unanswered question, 转人工."""
from bot.states import StatesGroup, state


class QA(StatesGroup, prefix="qa"):
    answered = state()
    human = state()
    pick = state()
    unanswered = state()
