"""The dialog states of owners: verifying owner status (phone, then code) and voting on a motion."""
from bot.states import StatesGroup, state


class Verify(StatesGroup, prefix="owners_verify"):
    phone = state()
    code = state()
    evidence = state()  # after 「人工核验」: photos of the 房产证 for staff


class Ballot(StatesGroup, prefix="owners_vote"):
    pick = state()
    choice = state()
    confirm = state()
