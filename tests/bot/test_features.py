"""The feature contract: the kernel finds the features through entry points, knows none by name, and checks the
dialog states against the routes at start."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.features import ChatRouter, Feature, chat_routers, installed_features
from bot.router import Router, dialog_specs
from bot.states import StateCheckError, StatesGroup, check_routes, state
from tests.bot import example_feature

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = {"broadcasts", "common", "console", "hotline", "notices", "owners", "policy_qa", "registration", "reports",
           "scorecards", "staff", "subscriptions", "surveys", "tickets"}


def test_every_bundled_feature_is_installed_through_its_entry_point():
    assert {f.name for f in installed_features()} == BUNDLED


def test_the_chat_order_is_the_declared_one():
    names = [r.name for r in chat_routers(installed_features())]
    assert names == ["staff", "common", "subscriptions", "registration", "tickets", "notices", "surveys", "owners",
                     "scorecards", "policy_qa", "fallback"]


def test_no_kernel_module_imports_a_feature():
    offenders = []
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] == "handlers"]
    assert offenders == []


def test_the_dialog_states_of_the_installed_features_match_their_routes():
    features = installed_features()
    check_routes([g for f in features for g in f.states], dialog_specs(chat_routers(features)))


class Demo(StatesGroup, prefix="demo"):
    first = state()
    second = state()


def test_a_declared_state_without_a_route_or_a_route_without_a_declared_state_stops_the_start():
    router = Router("demo")

    @router.state(Demo.first)
    async def first(ctx):
        return None

    @router.state("demo.secnod")  # a typo
    async def typo(ctx):
        return None

    with pytest.raises(StateCheckError) as failure:
        check_routes([Demo], dialog_specs([router]))
    assert "'demo.secnod' is not declared" in str(failure.value)
    assert "'demo.second' is declared but no route handles it" in str(failure.value)


def test_a_handler_cannot_enter_an_undeclared_state():
    from bot.conversation import ConversationState

    conversation = ConversationState()
    conversation.enter(Demo.first)
    assert conversation.state == "demo.first"
    with pytest.raises(TypeError):
        conversation.update("demo.typo")


def test_the_architecture_guide_shows_the_example_feature_verbatim():
    guide = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert Path(example_feature.__file__).read_text(encoding="utf-8").strip() in guide


async def test_the_example_feature_answers_in_its_place(start_bot, settings):
    bot = await start_bot(settings, features=[*installed_features(), example_feature.feature])
    assert "12345" in await bot.say("o_example_resident", "热线")
    assert "热线：常用服务电话" in await bot.say("o_example_resident", "帮助")


def test_routers_of_equal_order_keep_the_feature_name_order():
    def named(name):
        return lambda: Router(name)

    features = [Feature("b", routers=[ChatRouter(5, named("b"))]), Feature("a", routers=[ChatRouter(5, named("a"))])]
    assert [r.name for r in chat_routers(features)] == ["a", "b"]
