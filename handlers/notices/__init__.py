"""Disclosure notices (公示) and joint-meeting summaries (联席会议纪要), pushed to the right residents.

Its `feature` (bot.features.Feature) wires:
- `build_router()` — residents' chat (公示, 公示 收支, 会议纪要, menu keys NOTICES and MEETINGS);
- `console(registry)` — staff pages, JSON API (/api/v1/notices, /api/v1/meetings), dashboard panel;
- `setup_routes(app, services)` — the public notice page `/n/<public_id>`;
- `jobs()` — scheduled publication, summary reminders, the monthly missing-meeting reminder;
- `add_subcommands(subparsers)` — `linli notice …`, `linli meeting …`;
- `publish_system_notice(...)` — for other features (survey results).

The functions are bound here eagerly: `console` and `jobs` share their names with submodules, and binding them
once at import keeps `handlers.notices.console` / `.jobs` the functions (tests import the sweeps by name:
`from handlers.notices.jobs import publish_scheduled`).
"""
from bot.features import ChatRouter, DemoStep, Feature
from handlers.notices import demo
from handlers.notices.cli import add_subcommands
from handlers.notices.console import console
from handlers.notices.jobs import jobs
from handlers.notices.public import setup_routes
from handlers.notices.router import build_router
from handlers.notices.service import publish_system_notice
from handlers.notices.states import NoticeDialog

feature = Feature("notices", routers=[ChatRouter(50, build_router)], console=console, web=setup_routes, jobs=jobs,
                  cli=add_subcommands, states=[NoticeDialog], demo=DemoStep(50, demo.load))

__all__ = ["feature", "build_router", "console", "setup_routes", "jobs", "add_subcommands",
           "publish_system_notice"]
