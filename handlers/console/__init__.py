"""The staff console (server-rendered pages under /console/) and its JSON API (/api/v1/).

`setup(app, services, plugins=[...])` mounts both as sub-applications of the linli app; each plugin is a
feature's `console(registry)` function adding its nav items, pages, API routes, templates and dashboard panels.
The console is itself a feature (`feature`): its web part mounts the console with the plugins the app collected
from every feature (`bot.features.CONSOLE_PLUGINS`).
See docs/console.md for the building blocks (jurisdiction scope, `@require_staff`, CSRF, `audit`, templates,
charts, the registry).
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Callable, Iterable

import yaml
from aiohttp import web

from bot.context import Services
from bot.errors import DomainError
from bot.features import CONSOLE_PLUGINS, Feature
from handlers.console import (
    api,
    api_account,
    api_admin,
    dashboard,
    pages_account,
    pages_audit,
    pages_auth,
    pages_org,
    pages_residents,
    pages_staff,
    validation,
)
from handlers.console.audit import ACTION_LABELS
from handlers.console.guard import authenticate_bearer, authenticate_cookie, guarded_middleware, is_guarded
from handlers.console.registry import ConsoleRegistry, Route
from handlers.console.render import build_environment, render
from handlers.console.state import CONSOLE, ConsoleState
from storage.repositories import staff as staff_repo

log = logging.getLogger("linli.console")
STATIC = Path(__file__).with_name("static")
OPENAPI = Path(__file__).with_name("openapi.yaml")
PRUNE_EVERY = 600.0
Plugin = Callable[[ConsoleRegistry], None]

__all__ = ["feature", "setup", "ConsoleRegistry", "CONSOLE"]


def build_registry(plugins: Iterable[Plugin] = ()) -> ConsoleRegistry:
    registry = ConsoleRegistry()
    dashboard.register_builtin(registry)
    registry.page("GET", "/", dashboard.dashboard_page)
    for module in (pages_auth, pages_account, pages_residents, pages_org, pages_staff, pages_audit, api, api_admin,
                   api_account):
        module.register(registry)
    for plugin in plugins:
        plugin(registry)
    return registry


def setup(app: web.Application, services: Services, *, plugins: Iterable[Plugin] = ()) -> ConsoleRegistry:
    """Mount /console/ and /api/v1/ on `app`; returns the registry (for tests and introspection)."""
    registry = build_registry(plugins)
    for action, label in registry.action_labels.items():
        ACTION_LABELS.setdefault(action, label)
    settings = services.settings
    if settings.console_trust_proxy and not settings.trusted_proxies:
        log.warning("LINLI_CONSOLE_TRUST_PROXY is deprecated: X-Forwarded-For is now believed from loopback proxies "
                    "only; list your proxies' addresses in LINLI_TRUSTED_PROXIES instead")
    state = ConsoleState(
        services=services, registry=registry, templates=build_environment(registry.template_dirs),
        secure_cookies=settings.base_url.startswith("https://"),
        trusted_proxies=settings.proxy_networks,
        openapi=_openapi(registry),
    )
    console = web.Application(middlewares=[guarded_middleware(authenticate_cookie, _page_error, html=True)])
    _mount(console, registry.pages)
    console.router.add_static("/static", STATIC, append_version=True)
    rest = web.Application(middlewares=[guarded_middleware(authenticate_bearer, api.api_error, html=False)])
    _mount(rest, validation.bind(registry.api_routes, state.openapi))
    for sub in (console, rest):
        sub[CONSOLE] = state
    app[CONSOLE] = state
    app.router.add_get("/console", _to_console)
    app.router.add_get("/", _to_login)
    app.add_subapp("/console", console)
    app.add_subapp("/api/v1", rest)
    app.cleanup_ctx.append(_pruning(services))
    app.on_cleanup.append(lambda _app: state.close())
    return registry


def _openapi(registry: ConsoleRegistry) -> dict:
    """The console's own spec plus every feature's fragment; a path or schema defined twice is an error."""
    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    for path in registry.openapi_files:
        fragment = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for section, target in (("paths", spec.setdefault("paths", {})),
                                ("schemas", spec.setdefault("components", {}).setdefault("schemas", {}))):
            source = fragment.get(section) if section == "paths" else fragment.get("components", {}).get(section)
            for key, value in (source or {}).items():
                if key in target:
                    raise RuntimeError(f"OpenAPI {section} {key!r} defined twice ({path})")
                target[key] = value
    _document_validation_errors(spec)
    return spec


def _document_validation_errors(spec: dict) -> None:
    """Every operation says what request validation may answer: 400 for a path or query value that is not its
    type (and for a body that is not JSON), 422 for a JSON body that breaks its schema."""
    error = {"$ref": "#/components/responses/Error"}
    for item in spec.get("paths", {}).values():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete") or not isinstance(op, dict):
                continue
            responses = op.setdefault("responses", {})
            if op.get("parameters") or item.get("parameters") or op.get("requestBody"):
                responses.setdefault("400", dict(error))
            if op.get("requestBody"):
                responses.setdefault("422", dict(error))


def _mount(sub: web.Application, routes: list[Route]) -> None:
    for route in routes:
        if not is_guarded(route.handler):
            raise RuntimeError(f"console route {route.method} {route.path} lacks @require_staff or @public")
        sub.router.add_route(route.method, route.path, route.handler, name=route.name)


async def _to_console(request: web.Request) -> web.Response:
    raise web.HTTPMovedPermanently("/console/")


async def _to_login(request: web.Request) -> web.Response:
    """`/` (what a newcomer opens first) goes to the console's login; temporary, so a later home page is free."""
    raise web.HTTPFound("/console/login")


PASSWORD_CHANGE_FIRST = "该账号须先修改初始密码（演示账号的密码是公开的），请在「我的账号 → 修改密码」完成后再操作。"
MESSAGES = {400: "请求有误，请检查后重试。", 401: "请先登录。", 403: "您无权访问该页面或该辖区的数据。",
            404: "页面不存在，或不在您的辖区内。", 405: "不支持该操作。", 413: "上传的内容过大。"}


async def _page_error(request: web.Request, exc: web.HTTPException | DomainError) -> web.StreamResponse:
    if isinstance(exc, DomainError):
        return render(request, "error.html", title="无法办理", status=exc.status, message=exc.message)
    if exc.status == 401:
        raise web.HTTPSeeOther("/console/login")
    message = MESSAGES.get(exc.status, "服务器出了点问题，请稍后再试。")
    if exc.status == 403 and exc.reason in ("csrf", "session"):
        message = "页面已过期或登录已失效，请刷新页面（必要时重新登录）后再试。"
    if exc.status == 403 and exc.reason == "password_change":
        message = PASSWORD_CHANGE_FIRST
    return render(request, "error.html", title="出错了", status=exc.status, message=message)


def _pruning(services: Services):
    async def lifetime(app: web.Application):
        task = asyncio.create_task(_prune_loop(services), name="console-prune")
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    return lifetime


async def _prune_loop(services: Services) -> None:
    """Forget expired sessions, settled login-limiter rows and long-unused browsers every few minutes."""
    while True:
        await asyncio.sleep(PRUNE_EVERY)
        try:
            async with services.db.transaction() as session:
                await staff_repo.prune(session, services.clock())
        except Exception:  # keep the loop alive; the next round retries
            log.exception("console pruning failed")


def _web(app: web.Application, services: Services) -> None:
    setup(app, services, plugins=app.get(CONSOLE_PLUGINS, ()))


def _cli(subparsers) -> None:
    from handlers.console.cli import add_subcommands

    add_subcommands(subparsers)


feature = Feature("console", web=_web, cli=_cli)
