"""The authorization matrix over every route every installed feature mounts (tests/console/test_matrix.py covers the
console's own routes in depth, with jurisdiction inside/outside for each).

Derived from the registry, so a new route is covered the moment it is mounted: every route that is not `@public`
refuses anonymous callers (401 for the API, a redirect to the login page or 403 for pages), and every route that
requires a staff level refuses each level below it (403), changing nothing. The feature's own tests check the
jurisdiction of the objects it serves (inside: allowed; outside: 404 or 403, nothing leaked).
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from bot.features import console_plugins, installed_features
from handlers.console import build_registry
from handlers.console.authz import RANK
from storage.models import StaffLevel
from storage.schema import Base
from tests.console.conftest import build_world

BY_LEVEL = {StaffLevel.community: "yijing", StaffLevel.street: "youyilu", StaffLevel.district: "hexi"}


def _routes():
    registry = build_registry(console_plugins(installed_features()))
    routes = [("/console" + r.path, r) for r in registry.pages] + [("/api/v1" + r.path, r) for r in
                                                                     registry.api_routes]
    return [(r.method, pattern, getattr(r.handler, "console_guard", None)) for pattern, r in routes]


ROUTES = _routes()


def _concrete(pattern: str) -> str:
    """Any value for each path parameter: a refusal must come before the object is even looked up."""
    return re.sub(r"\{[^}]+\}", "1", pattern)


@pytest.fixture
async def world(aiohttp_client, sqlite_url):
    return await build_world(aiohttp_client, sqlite_url, plugins=console_plugins(installed_features()))


async def _row_counts(world) -> dict[str, int]:
    async with world.services.db.transaction() as session:
        counts = {}
        for table in Base.metadata.sorted_tables:
            if table.name in ("staff_sessions", "audit_log", "login_limits", "staff_devices"):
                continue  # logging in and refusals are recorded by design
            counts[table.name] = (await session.execute(select(func.count()).select_from(table))).scalar_one()
        return counts


def test_every_route_has_a_guard():
    assert all(guard is not None for _, _, guard in ROUTES), [r for r in ROUTES if r[2] is None]
    assert len(ROUTES) > 100  # every feature's routes are here, not only the console's own


async def test_anonymous_callers_are_refused_on_every_route(world):
    before = await _row_counts(world)
    problems = []
    for method, pattern, guard in ROUTES:
        if guard == "public":
            continue
        url = _concrete(pattern)
        resp = await world.client.request(method, url, allow_redirects=False)
        api = pattern.startswith("/api/")
        allowed = {401} if api else ({303} if method == "GET" else {403})
        if resp.status not in allowed:
            problems.append((method, url, resp.status))
        elif resp.status == 303 and not resp.headers["Location"].startswith("/console/login"):
            problems.append((method, url, resp.headers["Location"]))
    assert not problems
    assert await _row_counts(world) == before


async def test_every_level_below_a_routes_level_is_refused(world):
    before = await _row_counts(world)
    problems = []
    for level, username in BY_LEVEL.items():
        headers = world.bearer(username)
        for method, pattern, guard in ROUTES:
            if not isinstance(guard, StaffLevel) or RANK[level] >= RANK[guard] or not pattern.startswith("/api/"):
                continue
            resp = await world.client.request(method, _concrete(pattern), headers=headers, json={},
                                              allow_redirects=False)
            if resp.status != 403:
                problems.append((username, method, pattern, resp.status))
    assert not problems
    assert await _row_counts(world) == before


async def test_pages_too_refuse_the_levels_below(world):
    problems = []
    for level, username in BY_LEVEL.items():
        world.client.session.cookie_jar.clear()
        csrf = await world.login(username)
        for method, pattern, guard in ROUTES:
            if not isinstance(guard, StaffLevel) or RANK[level] >= RANK[guard] or not pattern.startswith("/console"):
                continue
            data = {"_csrf": csrf} if method == "POST" else None
            resp = await world.client.request(method, _concrete(pattern), data=data, allow_redirects=False)
            if resp.status != 403:
                problems.append((username, method, pattern, resp.status))
    assert not problems


async def _outside_account(world, username: str, csrf_page: str, **kind) -> tuple[str, str]:
    """Create and log in an account without jurisdiction (partner= or committee=); (API token, CSRF token)."""
    from handlers.console.staff_service import create_account
    from storage.repositories import staff as staff_repo
    from tests.console.conftest import NOW, PASSWORD, csrf_in
    from tests.support import test_password_hash

    async with world.services.db.transaction() as session:
        staff = await create_account(session, username=username, display_name=username, level="community",
                                     node=None, password=PASSWORD, **kind)
        staff.password_hash = test_password_hash()
        _, raw = await staff_repo.create_api_token(session, staff.id, "test", NOW)
    world.client.session.cookie_jar.clear()
    nonce = csrf_in(await (await world.client.get("/console/login")).text())
    resp = await world.client.post("/console/login", data={"username": username, "password": PASSWORD,
                                                           "_csrf": nonce}, allow_redirects=False)
    assert resp.status == 303
    return raw, csrf_in(await (await world.client.get(csrf_page)).text())


async def _refused_but_marked(world, raw: str, csrf: str, marker: str) -> list[tuple[str, str]]:
    """Walk every mounted route as the logged-in account: each must answer 403 unless its handler carries
    `marker`; returns the marked (method, pattern) pairs."""
    registry = build_registry(console_plugins(installed_features()))
    handlers = {("/console" + r.path, r.method): r.handler for r in registry.pages}
    handlers.update({("/api/v1" + r.path, r.method): r.handler for r in registry.api_routes})
    problems, allowed = [], []
    for method, pattern, guard in ROUTES:
        if guard == "public":
            continue
        if getattr(handlers[(pattern, method)], marker, False):
            allowed.append((method, pattern))
            continue
        url = _concrete(pattern)
        if pattern.startswith("/api/"):
            resp = await world.client.request(method, url, headers={"Authorization": f"Bearer {raw}"}, json={},
                                              allow_redirects=False)
        else:
            resp = await world.client.request(method, url, data={"_csrf": csrf} if method == "POST" else None,
                                              allow_redirects=False)
        if resp.status != 403:
            problems.append((method, url, resp.status))
    assert not problems
    return allowed


async def test_a_partner_account_is_refused_everywhere_but_on_its_own_account(world):
    """A partner organisation's account (staff.partner, issue 18) has no jurisdiction: every route refuses it
    (403) except the few marked `partner_allowed` (its own password, WeChat link, logout)."""
    raw, csrf = await _outside_account(world, "jinan", "/console/account/wechat", partner="WY-JA")
    others = await _tickets_handed_elsewhere(world)
    before = await _row_counts(world)
    allowed = await _refused_but_marked(world, raw, csrf, "partner_allowed")
    paths = {p for _, p in allowed}
    assert "/console/account/wechat" in paths and "/console/staff-wechat" not in paths
    home = await world.client.get("/console/", allow_redirects=False)  # after login: its tickets, not a 403
    assert home.status == 303 and home.headers["Location"] == "/console/partner/tickets"
    own = {p for p in paths if p.startswith(PARTNER_DISCLOSURES)}  # a property company's disclosures (below)
    assert len(paths - own) < 20
    # the partner's own routes (承办工单): each refers to tickets 交办 to its organisation only; a ticket of
    # another organisation, or of none, answers 404 exactly like one that does not exist
    ticket_routes = [(m, p) for m, p in allowed if "{ticket_id}" in p]
    assert {p for _, p in ticket_routes} >= {"/console/partner/tickets/{ticket_id}",
                                             "/api/v1/partner/tickets/{ticket_id}/actions/{action}"}
    for ticket_id in others:
        for method, pattern in ticket_routes:
            url = pattern.replace("{ticket_id}", str(ticket_id)).replace("{action}", "reply").replace(
                "{media_id}", "1")
            if pattern.startswith("/api/"):
                resp = await world.client.request(method, url, headers={"Authorization": f"Bearer {raw}"},
                                                  json={"text": "x"}, allow_redirects=False)
            else:
                resp = await world.client.request(method, url, data={"_csrf": csrf, "text": "x"} if method == "POST"
                                                  else None, allow_redirects=False)
            assert resp.status == 404, (method, url, resp.status)
    assert await _row_counts(world) == before


# ---- a property company's own disclosures (handlers/notices/console_partner.py): the partner role cases
PARTNER_DISCLOSURES = "/console/partner/disclosures"


async def test_partner_disclosure_routes_open_to_a_property_company_only(world):
    """Marked `partner_allowed`, these routes still answer 403 to every account but a property company's (a
    developer's or a department's account, staff of any level) and 404 for a disclosure that is not its own."""
    routes = [(m, p) for m, p, _ in ROUTES if p.startswith(PARTNER_DISCLOSURES)]
    assert len(routes) == 8

    async def walk(csrf: str, expect) -> list:
        wrong = []
        for method, pattern in routes:
            resp = await world.client.request(method, _concrete(pattern), allow_redirects=False,
                                              data={"_csrf": csrf} if method == "POST" else None)
            if resp.status != expect(method, pattern):
                wrong.append((method, pattern, resp.status))
        return wrong

    for username, kind in (("kfjc", {"partner": "KF-JC"}), ("cgw", {"partner": "dept:城管委"})):
        _, csrf = await _outside_account(world, username, "/console/account/password", **kind)
        assert await walk(csrf, lambda m, p: 403) == [], username
    for username in BY_LEVEL.values():
        csrf = await world.login(username)
        assert await walk(csrf, lambda m, p: 403) == [], username
        await world.logout(csrf)
    _, csrf = await _outside_account(world, "jinan", "/console/account/password", partner="WY-JA")
    before = await _row_counts(world)
    ok = {("GET", PARTNER_DISCLOSURES): 200, ("GET", PARTNER_DISCLOSURES + "/new"): 200,
          ("POST", PARTNER_DISCLOSURES): 422}  # an empty form: refused, nothing stored
    assert await walk(csrf, lambda m, p: ok.get((m, p), 404)) == []
    assert await _row_counts(world) == before


async def _tickets_handed_elsewhere(world) -> list[int]:
    """Two tickets of 谊景社区: one 交办 to another partner organisation (a department), one to nobody."""
    from handlers.tickets import service
    from storage.models import Resident
    from tests.console.conftest import NOW
    from tests.tickets.conftest import handed_to_partner

    async with world.services.db.transaction() as session:
        resident = await session.get(Resident, world.resident["YJ"])
        handed = await handed_to_partner(session, world.services, resident, "dept:河西区城管委", "楼道灯坏了", NOW)
        unhanded = await service.file_ticket(session, world.services, resident,
                                             service.Filing("repair", "电梯异响，电话13900001111"), NOW)
        return [handed.id, unhanded.id]


async def test_an_owners_committee_account_is_refused_everywhere_but_its_motions(world):
    """An owners' committee's account (staff.committee_estate_id, issue 20) has no jurisdiction: every route
    refuses it (403) except the few marked `committee_allowed` (its own password and logout, the owners' motion
    pages and API, which then show only its estate)."""
    raw, csrf = await _outside_account(world, "yjywh", "/console/account/password", committee="HX-YYL-YJ-01")
    before = await _row_counts(world)
    allowed = await _refused_but_marked(world, raw, csrf, "committee_allowed")
    paths = {p for _, p in allowed}
    assert "/console/owners/motions/{motion_id}" in paths and "/console/owners/estates/{estate_id}" not in paths
    home = await world.client.get("/console/", allow_redirects=False)  # after login: its estate's motions
    assert home.status == 303 and home.headers["Location"] == "/console/owners"
    assert ("POST", "/console/owners/motions/{motion_id}/release") not in allowed
    assert ("POST", "/api/v1/owners/motions/{motion_id}/ballots") not in allowed
    assert ("GET", "/console/account/wechat") in allowed  # it links its WeChat like staff (pushes of its motions)
    for refused in (("POST", "/console/owners/roster"), ("POST", "/api/v1/owners/motions/{motion_id}/close"),
                    ("GET", "/console/owners/links/{link_id}/evidence/{token}"),
                    ("POST", "/api/v1/owners/links/{link_id}/reject"), ("DELETE", "/api/v1/owners/rooms/{room_id}")):
        assert refused not in allowed
    assert len(allowed) < 28  # the dashboard among them only redirects (above)
    assert await _row_counts(world) == before
