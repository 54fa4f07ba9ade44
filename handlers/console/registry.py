"""The extension points of the console: features add nav items, pages, API routes, templates and dashboard
panels here, and `handlers.console.setup` mounts them all.

A feature exposes `def console(registry: ConsoleRegistry) -> None` and the composition root passes it to
`setup(app, services, plugins=[...])`. Every page and API handler must be wrapped in `@require_staff(...)`
(or `@public`); `setup` refuses to start otherwise, so no route can forget its authorization check.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Awaitable, Callable

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.console.authz import at_least
from storage.models import StaffLevel

if TYPE_CHECKING:
    from handlers.console.guard import ConsoleUser

PanelProvider = Callable[[AsyncSession, "ConsoleUser"], Awaitable["str | Markup | None"]]

# Dashboard order reserved for the features that come later, so panels land where the issue lists them.
SLOTS = {"tickets": 10, "rates": 20, "meetings": 30, "broadcasts": 40, "surveys": 50, "knowledge": 60,
         "residents": 70, "activity": 80}


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str  # absolute, e.g. "/console/notices"
    level: StaffLevel | None = None  # minimum level that sees it
    order: int = 100
    # shown only to partner organisations' accounts (and only such items are); a kind such as "property" narrows
    # it to the organisations of that kind (staff.partner "property:ID")
    partner: bool | str = False


@dataclass(frozen=True)
class Panel:
    """A dashboard panel. `provider(session, user)` returns an HTML fragment (escape what you interpolate:
    return `Markup` from a template), or None to hide the panel for this user. Results are cached per
    jurisdiction for `cache_seconds` (0: never); `fresh_after` names audited actions (or their prefixes, e.g.
    "notice" for every "notice.*") after whose commit this process drops the cached values, so a queue someone is
    waiting on shows a change at once (other processes within `cache_seconds`)."""

    key: str
    title: str
    provider: PanelProvider
    level: StaffLevel | None = None
    order: int = 100
    cache_seconds: float = 30.0
    wide: bool = False
    fresh_after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # relative to the mount point: "/notices" → /console/notices or /api/v1/notices
    handler: Callable
    name: str | None = None


@dataclass
class ConsoleRegistry:
    nav_items: list[NavItem] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)
    pages: list[Route] = field(default_factory=list)
    api_routes: list[Route] = field(default_factory=list)
    template_dirs: list[Path] = field(default_factory=list)
    openapi_files: list[Path] = field(default_factory=list)
    action_labels: dict[str, str] = field(default_factory=dict)

    def nav(self, label: str, path: str, *, level: StaffLevel | None = None, order: int = 100,
            partner: bool | str = False) -> None:
        self.nav_items.append(NavItem(label, path, level, order, partner))

    def panel(self, key: str, title: str, *, level: StaffLevel | None = None, order: int = 100,
              cache_seconds: float = 30.0, wide: bool = False,
              fresh_after: tuple[str, ...] = ()) -> Callable[[PanelProvider], PanelProvider]:
        """Decorator registering a dashboard panel provider."""
        if any(p.key == key for p in self.panels):
            raise ValueError(f"dashboard panel {key!r} registered twice")

        def register(provider: PanelProvider) -> PanelProvider:
            self.panels.append(Panel(key, title, provider, level, order, cache_seconds, wide, tuple(fresh_after)))
            return provider

        return register

    def page(self, method: str, path: str, handler: Callable, *, name: str | None = None) -> None:
        self.pages.append(Route(method.upper(), path, handler, name))

    def api(self, method: str, path: str, handler: Callable, *, name: str | None = None) -> None:
        self.api_routes.append(Route(method.upper(), path, handler, name))

    def labels(self, labels: dict[str, str]) -> None:
        """Chinese names of a feature's audit actions (e.g. {"notice.publish": "发布公示"}) for the audit log."""
        self.action_labels.update(labels)

    def openapi(self, path: str | Path) -> None:
        """A feature's OpenAPI fragment (its `paths` and `components.schemas`), merged into /api/v1/openapi.json."""
        self.openapi_files.append(Path(path))

    def templates(self, directory: str | Path) -> None:
        """A folder of a feature's templates; name them `<feature>/...html` to avoid clashes."""
        self.template_dirs.append(Path(directory))

    def nav_for(self, level: StaffLevel, partner: str | None = None) -> list[NavItem]:
        """The menu of a staff member at `level`; a partner organisation's account (`partner`, its staff.partner
        code) gets only the items registered for partners, of its kind."""
        def shown(item: NavItem) -> bool:
            if partner is None:
                return not item.partner and at_least(level, item.level)
            return item.partner is True or (bool(item.partner) and partner.startswith(f"{item.partner}:"))

        return sorted(filter(shown, self.nav_items), key=lambda i: (i.order, i.label))

    def panels_for(self, level: StaffLevel) -> list[Panel]:
        return sorted((p for p in self.panels if at_least(level, p.level)), key=lambda p: (p.order, p.key))
