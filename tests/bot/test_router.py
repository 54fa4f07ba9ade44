"""Which handler takes a message: state scoping, order, declining, and a dialog that ends or moves on."""
from __future__ import annotations

from types import SimpleNamespace

from bot.router import ANY_STATE, Router, route
from bot.types import UNHANDLED


def _ctx(text: str, state: str | None):
    message = SimpleNamespace(kind="text", content=text, event=None, event_key=None)
    return SimpleNamespace(message=message, conversation=SimpleNamespace(state=state), match=None)


def _router(calls: list[str]) -> Router:
    r = Router("t")

    def handler(name: str, result=None, move_to: object = "unchanged"):
        async def take(ctx):
            calls.append(name)
            if move_to != "unchanged":
                ctx.conversation.state = move_to
            return UNHANDLED if result is None else result

        return take

    r.words("帮助", state=ANY_STATE)(handler("help", "帮助"))
    r.state("bind.room")(handler("room-declines", move_to="bind.confirm"))
    r.state("bind.confirm")(handler("confirm", "确认"))
    r.state("survey.q")(handler("survey-ends", move_to=None))
    r.text(r"^投诉")(handler("complain", "投诉"))
    r.text()(handler("fallback", "fallback"))
    r.state("bind.*")(handler("bind-any", "bind-any"))
    r.text(state="*")(handler("in-any-dialog", "dialog"))
    return r


async def test_only_the_routes_of_the_state_are_offered_in_order():
    calls: list[str] = []
    r = _router(calls)
    assert await route([r], _ctx("投诉 噪音", None)) == "投诉"
    assert calls == ["complain"]
    assert await route([r], _ctx("帮助", "survey.q")) == "帮助"
    assert await route([r], _ctx("随便", "other.step")) == "dialog"
    assert await route([r], _ctx("随便", None)) == "fallback"
    assert await route([r], _ctx("随便", "bind.other")) == "bind-any"
    # the lists are kept per state and stay right when a route is added later
    late = r.words("新词")(lambda ctx: _async("新词"))
    assert r.routes_for(None)[-1].callback is late and late not in [x.callback for x in r.routes_for("bind.room")]


async def _async(value):
    return value


async def test_a_handler_that_moves_the_dialog_on_hands_the_message_to_the_new_states_routes():
    calls: list[str] = []
    r = _router(calls)
    assert await route([r], _ctx("3-201", "bind.room")) == "确认"
    assert calls == ["room-declines", "confirm"]


async def test_a_dialog_that_ends_itself_offers_the_message_afresh():
    calls: list[str] = []
    r = _router(calls)
    assert await route([r], _ctx("投诉 电梯", "survey.q")) == "投诉"
    assert calls == ["survey-ends", "complain"]
