"""Satisfaction survey campaigns (issue 7): one resident — or one household — one voice, results that hold up.

Wiring for the composition root: `build_router()` (chat), `console(registry)` (staff pages, API, dashboard
panel), `jobs()` (open/close/remind sweep), `cli.add_subcommands(subparsers)` (`linli survey …`).
"""
from handlers.surveys.console import console
from handlers.surveys.jobs import jobs
from handlers.surveys.router import build_router

__all__ = ["build_router", "console", "jobs"]
