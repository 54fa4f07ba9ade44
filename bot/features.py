"""The feature contract: what a feature offers the kernel, and how the kernel finds the installed features.

A feature is a package under `handlers/` that exposes one `Feature` object and declares it as an entry point in
`pyproject.toml` (group `linli.features`), the way pytest and Flask find their plug-ins:

    [project.entry-points."linli.features"]
    tickets = "handlers.tickets:feature"

The kernel (`bot/`) imports no feature. It loads the declared ones with `installed_features()` and asks each for
its parts: chat routers (with their place in the chat order), console pages and API routes (a function that
receives the console's registry), public web routes and background roles, periodic jobs, `linli` subcommands,
the erasure of a resident's data, and its declared dialog states. Every part is optional. See
docs/architecture.md for a minimal example.
"""
from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterable, Sequence

from aiohttp import web

from bot.states import StatesGroup

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.context import Services
    from bot.demo import DemoWorld
    from bot.jobs import Job
    from bot.router import Router
    from storage.models import Resident

log = logging.getLogger("linli.features")

ENTRY_POINT_GROUP = "linli.features"
# the console plug-ins of the app's features, for the console feature's web part to mount (set by bot.app)
CONSOLE_PLUGINS = web.AppKey("linli.console_plugins", list)

RouterFactory = Callable[[], "Router"]
ConsolePlugin = Callable[[Any], None]  # receives handlers.console.ConsoleRegistry
WebMount = Callable[["web.Application", "Services"], None]
JobsFactory = Callable[[], Sequence["Job"]]
CliHook = Callable[["argparse._SubParsersAction"], Any]
EraseStep = Callable[["AsyncSession", "Resident", datetime], Awaitable[None]]
WarningStep = Callable[["AsyncSession", "Resident"], Awaitable["str | None"]]
DemoLoad = Callable[["AsyncSession", "DemoWorld"], Awaitable[None]]


@dataclass(frozen=True)
class ChatRouter:
    """A chat router and its place in the order messages are offered (lower first).

    The order of the bundled features: 5 staff (link codes; a linked staff member's words), 10 common words
    (帮助/取消), 20 subscriptions, 30 registration, 40 tickets, 50 notices, 60 surveys, 62 owners, 70 scorecards,
    900 policy Q&A (answers any text, so after every feature with
    words of its own), 1000 the polite fallback.
    """

    order: int
    build: RouterFactory


@dataclass(frozen=True)
class DemoStep:
    """The feature's part of the demo history (`linli org demo`, see bot/demo.py), written through its own services
    after the steps of lower `order` (tickets 40, notices 50, surveys 60, owners 65, scorecards 70, broadcasts 80, policy Q&A
    900: a scorecard needs the tickets and surveys before it)."""

    order: int
    load: DemoLoad


@dataclass(frozen=True)
class Feature:
    """Everything one feature adds to linli. Only `name` is required."""

    name: str
    routers: Sequence[ChatRouter] = ()
    console: ConsolePlugin | None = None  # staff pages, API routes with their OpenAPI fragment, dashboard panels
    web: WebMount | None = None  # public routes (/n/<id>, Open311) and background roles of the web process
    jobs: JobsFactory | None = None  # periodic sweeps, run by the deployment's one scheduler
    cli: CliHook | None = None  # adds `linli <command>` subparsers
    erase: EraseStep | None = None  # removes what the feature keeps about a resident who asked to be forgotten
    erase_warning: WarningStep | None = None  # what the resident should know before confirming (an open complaint)
    states: Sequence[type[StatesGroup]] = ()  # the dialog states its handlers may enter
    demo: DemoStep | None = None  # its part of the demo history (`linli org demo`)


def installed_features() -> list[Feature]:
    """The features declared under the `linli.features` entry point group, sorted by name."""
    found: dict[str, Feature] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        feature = point.load()
        if not isinstance(feature, Feature):
            raise TypeError(f"entry point {point.name} = {point.value} is not a bot.features.Feature")
        if feature.name in found:
            raise ValueError(f"feature {feature.name!r} is declared twice")
        found[feature.name] = feature
    if not found:
        raise RuntimeError("no linli features are installed: run `make install` (pip install -e .)")
    return [found[name] for name in sorted(found)]


def chat_routers(features: Iterable[Feature]) -> list["Router"]:
    """Every feature's chat routers, built and put in their declared order (ties: by feature name)."""
    ranked = sorted(((r.order, f.name, i, r) for f in features for i, r in enumerate(f.routers)),
                    key=lambda t: t[:3])
    return [r.build() for *_rest, r in ranked]


def console_plugins(features: Iterable[Feature]) -> list[ConsolePlugin]:
    return [f.console for f in features if f.console is not None]


def periodic_jobs(features: Iterable[Feature]) -> list["Job"]:
    return [job for f in features if f.jobs is not None for job in f.jobs()]


def erase_steps(features: Iterable[Feature]) -> list[EraseStep]:
    return [f.erase for f in features if f.erase is not None]


def erase_warnings(features: Iterable[Feature]) -> list[WarningStep]:
    return [f.erase_warning for f in features if f.erase_warning is not None]


def state_groups(features: Iterable[Feature]) -> list[type[StatesGroup]]:
    return [group for f in features for group in f.states]
