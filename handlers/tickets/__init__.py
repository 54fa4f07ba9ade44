"""Complaints become dispute tickets, worked up the mediation chain 社区 → 街道 → 区县 (issue 5).

Wiring (composition root): `build_router()` (chat), `console` (staff pages, API, dashboard panels), `jobs()`
(催办, automatic escalation, closing unrated tickets), `setup_routes(app, services)` (Open311 export),
`add_subcommands(subparsers)` (`linli ticket …`). See docs/tickets.md.

`console` and `jobs` are the functions of the same-named modules (imported here so the names stay functions).
"""
from handlers.tickets.cli import add_subcommands
from handlers.tickets.console import console
from handlers.tickets.jobs import jobs
from handlers.tickets.open311 import setup_routes
from handlers.tickets.router import build_router

__all__ = ["build_router", "console", "jobs", "setup_routes", "add_subcommands"]
