"""Scorecards of property-service companies and developers (物业服务企业评议, issue 10): satisfaction from the
surveys, tickets against them, disclosure diligence, a composite with configurable weights, ranks within a
jurisdiction, the trend, sources for every figure, exports, and publication to residents.

Its `feature` (bot.features.Feature) wires `build_router()` (chat: 物业评分 / 开发商评分), `console` (staff pages, API, dashboard
panel), `jobs()` (pooling settled campaigns' answers), `add_subcommands(subparsers)` (`linli scorecard …`).
See docs/scorecards.md. `console` and `jobs` are the functions of the same-named modules.
"""
from bot.features import ChatRouter, DemoStep, Feature
from handlers.scorecards import demo
from handlers.scorecards.cli import add_subcommands
from handlers.scorecards.console import console
from handlers.scorecards.jobs import jobs
from handlers.scorecards.router import build_router

feature = Feature("scorecards", routers=[ChatRouter(70, build_router)], console=console, jobs=jobs,
                  cli=add_subcommands, demo=DemoStep(70, demo.load))

__all__ = ["feature", "build_router", "console", "jobs", "add_subcommands"]
