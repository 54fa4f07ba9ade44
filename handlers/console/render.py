"""Server-rendered pages: the Jinja2 environment (autoescape on), `render`, flash messages, redirects,
pagination and form errors.

Templates extend `base.html` (Chinese, responsive, no external assets) and get `user`, `nav`, `csrf_token`,
`flash`, `path` and the helpers `page_url`, `fmt_time`, `bar_chart`, `line_chart`. Macros for forms and
pagination live in `_macros.html`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, Sequence, TypeVar
from urllib.parse import urlencode

import jinja2
from aiohttp import web

from bot.localtime import LOCAL_TZ, local_text  # noqa: F401  (LOCAL_TZ re-exported for pages)
from handlers.common import links
from handlers.console import charts
from handlers.console.guard import USER, ConsoleUser, current, db
from handlers.console.state import state_of
from storage.repositories import staff as staff_repo

TEMPLATES = Path(__file__).with_name("templates")
T = TypeVar("T")


def build_environment(extra_dirs: Sequence[Path] = ()) -> jinja2.Environment:
    loader = jinja2.FileSystemLoader([TEMPLATES, *extra_dirs])
    # templates are part of the release: loaded once, never re-checked on disk for every page
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.globals.update(bar_chart=charts.bar_chart, line_chart=charts.line_chart, fmt_time=fmt_time,
                       percent=percent)
    env.filters["who"] = who
    links.register(env)  # `|http_url` for every address from a resident or outside (handlers/common/links.py)
    return env


def fmt_time(value: datetime | None, with_time: bool = True) -> str:
    return local_text(value, with_time)


SYSTEM_NAMES = {"surveys": "满意度调查", "meetings": "联席会议", "tickets": "投诉工单", "notices": "公示",
                "scorecards": "企业评议", "reports": "月度报告", "hotline": "12345 工单", "broadcasts": "群发"}


@jinja2.pass_context
def who(ctx, label: str | None) -> str:
    return _who(ctx, label)


def _who(ctx, label: str | None) -> str:
    """A recorded actor ("staff:yijing", "system:surveys", "survey:1") as staff read it: the staff member's
    display name when the page loaded it (`staff_names`, from `staff_names_for`), never the raw id."""
    if not label:
        return "—"
    kind, _, rest = str(label).partition(":")
    if kind == "staff":
        names = ctx.get("staff_names") or {}
        return names.get(rest) or f"工作人员 {rest}"
    if kind == "system":
        return f"系统（{SYSTEM_NAMES.get(rest, rest)}）" if rest else "系统"
    if kind in SYSTEM_NAMES or kind in ("survey", "meeting", "notice", "ticket"):
        return "系统（" + SYSTEM_NAMES.get(kind, SYSTEM_NAMES.get(kind + "s", kind)) + "）"
    return str(label)


_LABEL = re.compile(r"\b(?:staff|system|survey|meeting|notice|ticket):[\w.@-]+")


def humanize(text: str | None, names: dict[str, str]) -> str:
    """`text` with every recorded actor in it ("staff:yijing 创建") written as staff read it (`who`)."""
    if not text:
        return ""
    context = {"staff_names": names}
    return _LABEL.sub(lambda m: _who(context, m.group(0)), text)


async def staff_names_for(session, labels) -> dict[str, str]:
    """{username: display name} for the "staff:<username>" labels among `labels` (one query)."""
    from sqlalchemy import select

    from storage.models import Staff

    found = [m.group(0) for x in labels if x for m in _LABEL.finditer(str(x))]
    usernames = {x.partition(":")[2] for x in found if x.startswith("staff:")}
    if not usernames:
        return {}
    rows = await session.execute(select(Staff.username, Staff.display_name).where(Staff.username.in_(usernames)))
    return {u: n for u, n in rows.all()}


def percent(part: float, whole: float | None) -> str:
    return charts.pct_text(part / whole * 100) if whole else "—"


def render(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    state = state_of(request)
    user: ConsoleUser | None = request.get(USER)
    nav = state.registry.nav_for(user.level, partner=user.staff.partner) if user else []
    base = {
        "user": user,
        "nav": nav,
        "nav_here": nav_here(nav, request.path),
        "csrf_token": user.csrf if user else context.pop("login_csrf", ""),
        "flash": user.flash if user else None,
        "path": request.path,
        "page_url": lambda n: page_url(request, n),
        "errors": {},
    }
    html = state.templates.get_template(template).render({**base, **context})
    return web.Response(text=html, content_type="text/html", charset="utf-8", status=status)


def nav_here(nav: Sequence, path: str) -> str:
    """The nav path this page is under: the longest one that is the page or a folder above it (投诉统计 at
    /console/tickets/stats, not also 投诉工单 at /console/tickets)."""
    here = ""
    for item in nav:
        under = path == item.path or (item.path != "/console/" and path.startswith(item.path.rstrip("/") + "/"))
        if under and len(item.path) > len(here):
            here = item.path
    return here


async def flash(request: web.Request, text: str, kind: str = "ok") -> None:
    """Show `text` once on the next page this session loads (kind: ok | error | info)."""
    user = current(request)
    if user.session_row_id is not None:
        await staff_repo.flash_session(db(request), user.session_row_id, kind, text)


def see_other(location: str) -> web.HTTPSeeOther:
    """Redirect after a successful POST (raise it; the middleware commits first)."""
    return web.HTTPSeeOther(location)


@dataclass
class Page(Generic[T]):
    items: list[T]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def page_number(request: web.Request) -> int:
    try:
        return max(1, min(int(request.query.get("page", "1")), 100_000))
    except ValueError:
        return 1


def page_url(request: web.Request, number: int) -> str:
    query = [(k, v) for k, v in request.query.items() if k != "page"] + [("page", str(number))]
    return f"{request.path}?{urlencode(query)}"


@dataclass
class Form:
    """A submitted form, read once: text values (stripped, except passwords), every value of a repeated field,
    uploads, and per-field errors for re-rendering it with messages next to fields."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, web.FileField] = field(default_factory=dict)

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    @property
    def ok(self) -> bool:
        return not self.errors

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name) or default

    def many(self, name: str) -> list[str]:
        """Every value of a repeated field (check boxes, multi-selects), in order."""
        return self.lists.get(name, [])

    def file(self, name: str) -> web.FileField | None:
        return self.files.get(name)

    @classmethod
    async def read(cls, request: web.Request, *names: str) -> "Form":
        """The fields `names` (every submitted field when none are named); a missing field reads as ""."""
        data = await request.post()
        form = cls()
        for name in names or tuple(dict.fromkeys(data.keys())):
            found = data.getall(name, [])
            keep = (lambda text: text) if name.startswith("password") else str.strip
            texts = [keep(v) for v in found if isinstance(v, str)]
            form.values[name] = texts[0] if texts else ""
            form.lists[name] = texts
            uploads = [v for v in found if isinstance(v, web.FileField)]
            if uploads:
                form.files[name] = uploads[0]
        return form
