"""Complaints become dispute tickets, worked up the mediation chain 社区 → 街道 → 区县 (issue 5).

`feature` (bot.features.Feature): `build_router()` (chat), `console` (staff pages, API, dashboard panels),
`jobs()` (催办, automatic escalation, closing unrated tickets), the Open311 export, `add_subcommands(subparsers)`
(`linli ticket …`). See docs/tickets.md.

`console` and `jobs` are the functions of the same-named modules (imported here so the names stay functions).
"""
from aiohttp import web

from bot.context import Services
from bot.features import ChatRouter, DemoStep, Feature
from handlers.tickets import demo, erasure
from handlers.tickets.cli import add_subcommands
from handlers.tickets.console import console
from handlers.tickets.jobs import jobs
from handlers.tickets.open311 import setup_routes
from handlers.tickets.router import build_router
from handlers.tickets.states import Claim, Complaint, Mine


def _web(app: web.Application, services: Services) -> None:
    from handlers.tickets import sla

    sla.from_settings(services.settings)  # bad LINLI_TICKET_* values stop the start, not the first ticket
    setup_routes(app, services)  # the Open311 GeoReport v2 export /open311/v2/…
    from handlers.tickets.console_media import public_file

    app.router.add_get("/m/{token}", public_file)  # a resident's own photos/voice, by signed expiring link


feature = Feature("tickets", routers=[ChatRouter(40, build_router)], console=console, web=_web, jobs=jobs,
                  cli=add_subcommands, states=[Complaint, Mine, Claim], erase=erasure.erase_resident,
                  erase_warning=erasure.erase_warning, demo=DemoStep(40, demo.load))

__all__ = ["feature", "build_router", "console", "jobs", "setup_routes", "add_subcommands"]
