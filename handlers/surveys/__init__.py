"""Satisfaction survey campaigns (issue 7): one resident — or one household — one voice, results that hold up.

Its `feature` (bot.features.Feature) wires `build_router()` (chat), `console(registry)` (staff pages, API, dashboard
panel), `jobs()` (open/close/remind sweep), `cli.add_subcommands(subparsers)` (`linli survey …`).
"""
from bot.features import ChatRouter, DemoStep, Feature
from handlers.surveys import demo, erasure
from handlers.surveys.cli import add_subcommands
from handlers.surveys.console import console
from handlers.surveys.jobs import jobs
from handlers.surveys.router import build_router
from handlers.surveys.states import Voting

feature = Feature("surveys", routers=[ChatRouter(60, build_router)], console=console, jobs=jobs,
                  cli=add_subcommands, states=[Voting], erase=erasure.erase_resident,
                  demo=DemoStep(60, demo.load))

__all__ = ["feature", "build_router", "console", "jobs"]
