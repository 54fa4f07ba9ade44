"""The dialog states of registration: binding (绑定) and erasure (删除我的信息)."""
from bot.states import StatesGroup, state


class Bind(StatesGroup, prefix="bind"):
    district = state()
    street = state()
    community = state()
    estate = state()
    role = state()
    room = state()
    confirm = state()


class Erase(StatesGroup, prefix="erase"):
    confirm = state()
