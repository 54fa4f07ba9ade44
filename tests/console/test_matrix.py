"""Authorization matrix: every console page and API route × every staff level × inside/outside the caller's
jurisdiction, plus anonymous callers. Every refused write is checked to have changed nothing.

`ROUTES` must list every route the console mounts (checked against the registry), so a new route cannot
ship without its row here.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from handlers.console import build_registry
from storage.models import Resident, Staff
from tests.console.conftest import COMMUNITY_NAMES, PASSWORD, SEES, World

LEVELS = ["yijing", "youyilu", "hexi", "admin"]  # community, street, district, admin
TARGETS = ["YJ", "PJ", "LS", "XY"]  # inside for all; outside for community; for street; for district


@dataclass(frozen=True)
class R:
    method: str
    pattern: str  # as registered, under /console or /api/v1
    who: str  # "scoped" (a community/resident in the URL), "staff" (any staff, content scoped), "admin"
    data: dict | None = None

    @property
    def api(self) -> bool:
        return self.pattern.startswith("/api/")


ROUTES = [
    R("GET", "/console/login", "public"), R("POST", "/console/login", "public"),
    R("GET", "/console/", "scoped"), R("GET", "/console/residents", "scoped"),
    R("GET", "/console/residents/{resident_id}", "scoped"), R("POST", "/console/residents/{resident_id}/unbind", "scoped"),
    R("GET", "/console/org", "staff"), R("GET", "/console/account", "staff"), R("POST", "/console/logout", "staff"),
    R("POST", "/console/account/password", "staff"), R("GET", "/console/account/password", "staff"),
    R("POST", "/console/account/sessions/logout-others", "staff"),
    R("POST", "/console/account/tokens/{token_id}/revoke", "staff"),
    R("GET", "/console/staff", "admin"), R("POST", "/console/staff", "admin",
                                           {"username": "x1", "display_name": "X", "level": "admin",
                                            "password": "longenough"}),
    R("GET", "/console/staff/{staff_id}", "admin"),
    R("POST", "/console/staff/{staff_id}/deactivate", "admin"), R("POST", "/console/staff/{staff_id}/reactivate", "admin"),
    R("POST", "/console/staff/{staff_id}/password", "admin", {"password": "hijacked-1"}),
    R("POST", "/console/staff/{staff_id}/tokens", "admin", {"label": "x"}),
    R("POST", "/console/staff/{staff_id}/tokens/{token_id}/revoke", "admin"),
    R("GET", "/console/audit", "admin"), R("POST", "/console/org/import", "admin"),
    R("GET", "/api/v1/openapi.json", "public"), R("GET", "/api/v1/me", "staff"),
    R("GET", "/api/v1/me/tokens", "staff"), R("POST", "/api/v1/me/tokens/{token_id}/revoke", "staff"),
    R("GET", "/api/v1/dashboard", "scoped"), R("GET", "/api/v1/communities", "staff"),
    R("GET", "/api/v1/residents", "scoped"), R("GET", "/api/v1/residents/{resident_id}", "scoped"),
    R("POST", "/api/v1/residents/{resident_id}/unbind", "scoped"), R("GET", "/api/v1/org", "staff"),
    R("GET", "/api/v1/staff", "admin"), R("POST", "/api/v1/staff", "admin",
                                          {"username": "x2", "display_name": "X", "level": "admin",
                                           "password": "longenough"}),
    R("POST", "/api/v1/staff/{staff_id}/deactivate", "admin"),
    R("POST", "/api/v1/staff/{staff_id}/password", "admin", {"password": "hijacked-1"}),
    R("POST", "/api/v1/staff/{staff_id}/tokens", "admin", {"label": "x"}),
    R("GET", "/api/v1/audit", "admin"), R("POST", "/api/v1/org/import", "admin"),
]


def test_every_mounted_route_is_in_the_matrix():
    registry = build_registry()
    mounted = {(r.method, "/console" + r.path) for r in registry.pages} | {
        (r.method, "/api/v1" + r.path) for r in registry.api_routes}
    assert mounted == {(r.method, r.pattern) for r in ROUTES}


class Caller:
    """Calls routes as one account: the console with a logged-in cookie session, the API with its token."""

    def __init__(self, world: World, username: str | None, csrf: str | None):
        self.world, self.username, self.csrf = world, username, csrf

    async def call(self, route: R, url: str, data: dict | None = None):
        client = self.world.client
        if route.api:
            headers = self.world.bearer(self.username) if self.username else {}
            if route.method == "GET":
                return await client.get(url, headers=headers, allow_redirects=False)
            return await client.post(url, json=data or {}, headers=headers, allow_redirects=False)
        if route.method == "GET":
            return await client.get(url, allow_redirects=False)
        return await client.post(url, data={**(data or {}), "_csrf": self.csrf or ""}, allow_redirects=False)


def concrete(route: R, world: World, *, community: str | None = None, resident: int | None = None) -> str:
    url = route.pattern.replace("{resident_id}", str(resident or world.resident["YJ"]))
    url = url.replace("{staff_id}", str(world.staff["pingjiang"])).replace("{token_id}", "1")
    if community is not None:
        url += f"?community={world.community[community]}"
    return url


async def is_bound(world: World, resident_id: int) -> bool:
    async with world.services.db.transaction() as session:
        return (await session.get(Resident, resident_id)).community_id is not None


async def staff_state(world: World) -> tuple:
    async with world.services.db.transaction() as session:
        rows = (await session.execute(select(Staff.username, Staff.active, Staff.password_hash).order_by(Staff.id)))
        return tuple(rows.all())


async def test_anonymous_callers_are_refused_everywhere(world):
    caller = Caller(world, None, None)
    for route in ROUTES:
        if route.who == "public":
            continue
        resp = await caller.call(route, concrete(route, world), route.data)
        expected = 401 if route.api else (303 if route.method == "GET" else 403)
        assert resp.status == expected, (route, resp.status)
        if resp.status == 303:
            assert resp.headers["Location"].startswith("/console/login")


async def test_admin_routes_refuse_every_other_level(world):
    before = await staff_state(world)
    for username in LEVELS[:-1] + ["pingjiang", "nankai"]:
        world.client.session.cookie_jar.clear()
        caller = Caller(world, username, await world.login(username))
        for route in ROUTES:
            if route.who == "admin":
                resp = await caller.call(route, concrete(route, world), route.data)
                assert resp.status == 403, (username, route, resp.status)
    assert await staff_state(world) == before  # nothing created, deactivated or reset


async def test_scoped_reads_and_writes_inside_and_outside(world):
    problems = []
    for username in LEVELS:
        world.client.session.cookie_jar.clear()
        caller = Caller(world, username, await world.login(username))
        for target in TARGETS:
            inside = target in SEES[username]
            for route in ROUTES:
                if route.who != "scoped":
                    continue
                resident = (await world.add_resident(target)).id if route.method == "POST" else \
                    world.resident[target]
                by_resident = "{resident_id}" in route.pattern
                url = concrete(route, world, resident=resident, community=None if by_resident else target)
                resp = await caller.call(route, url)
                body = await resp.text()
                ok = resp.status in (200, 303)
                if inside != ok or (not inside and resp.status not in (403, 404)):
                    problems.append((username, target, route.method, url, resp.status))
                if not inside and (COMMUNITY_NAMES[target] in body or world.ref[target][:8] in body):
                    problems.append((username, target, url, "leaked"))
                if route.method == "POST" and await is_bound(world, resident) != (not inside):
                    problems.append((username, target, url, "write effect wrong"))
    assert not problems


async def test_lists_show_exactly_the_jurisdiction(world):
    problems = []
    pages = ["/console/", "/console/residents", "/console/org"]
    for username in LEVELS:
        world.client.session.cookie_jar.clear()
        await world.login(username)
        for url in pages:
            body = await (await world.client.get(url)).text()
            for short, name in COMMUNITY_NAMES.items():
                if (name in body) != (short in SEES[username]):
                    problems.append((username, url, name))
        body = await (await world.client.get("/console/residents")).text()
        for short, ref in world.ref.items():
            if (ref[:8] in body) != (short in SEES[username] or (short == "none" and username == "admin")):
                problems.append((username, "residents", short))
        headers = world.bearer(username)
        items = (await (await world.client.get("/api/v1/residents", headers=headers)).json())["items"]
        seen = {i["ref"] for i in items}
        expected = {world.ref[s] for s in SEES[username]} | ({world.ref["none"]} if username == "admin" else set())
        if seen != expected:
            problems.append((username, "api residents", len(seen), len(expected)))
        for url in ("/api/v1/communities", "/api/v1/dashboard"):
            data = await (await world.client.get(url, headers=headers)).json()
            names = {c["name"] for c in (data.get("items") or data.get("communities"))}
            if names != {COMMUNITY_NAMES[s] for s in SEES[username]} | ({"芳水社区"} & names):
                problems.append((username, url, names))
        tree = await (await world.client.get("/api/v1/org", headers=headers)).json()
        names = {c["name"] for d in tree["districts"] for s in d["streets"] for c in s["communities"]}
        if not names >= {COMMUNITY_NAMES[s] for s in SEES[username]} or any(
                COMMUNITY_NAMES[s] in names for s in COMMUNITY_NAMES if s not in SEES[username]):
            problems.append((username, "api org", names))
    assert not problems


async def test_refusals_are_audited(world):
    await world.login("yijing")
    resp = await world.client.get(f"/console/residents?community={world.community['XY']}")
    assert resp.status == 403 and "无权" in await resp.text()
    world.client.session.cookie_jar.clear()
    await world.login("admin")
    body = await (await world.client.get("/console/audit?action=denied")).text()
    assert "越权访问被拒绝" in body and "yijing" in body


async def test_community_staff_have_no_community_switcher(world):
    await world.login("yijing")
    body = await (await world.client.get("/console/")).text()
    assert 'name="community"' not in body and PASSWORD not in body


async def test_own_account_routes_touch_only_the_callers_account(world, aiohttp_client):
    """我的账号 and /api/v1/me/tokens: every level sees and revokes only its own tokens and ends only its own
    sessions; another account's token id is 404 and stays live."""
    from storage.console_models import ApiToken, StaffSession

    async with world.services.db.transaction() as session:
        owners = dict((await session.execute(select(ApiToken.id, ApiToken.staff_id))).all())
    bystander = await aiohttp_client(world.client.server)
    await world.login("nankai", client=bystander)
    problems = []
    for username in LEVELS:
        mine = {t for t, s in owners.items() if s == world.staff[username]}
        listed = await (await world.client.get("/api/v1/me/tokens", headers=world.bearer(username))).json()
        if {t["id"] for t in listed["items"]} != mine:
            problems.append((username, "listed", listed))
        world.client.session.cookie_jar.clear()
        csrf = await world.login(username)
        for token_id, owner in owners.items():
            if owner == world.staff[username]:
                continue
            api = await world.client.post(f"/api/v1/me/tokens/{token_id}/revoke", headers=world.bearer(username))
            page = await world.client.post(f"/console/account/tokens/{token_id}/revoke", data={"_csrf": csrf},
                                           allow_redirects=False)
            if (api.status, page.status) != (404, 404):
                problems.append((username, token_id, api.status, page.status))
        await world.client.post("/console/account/sessions/logout-others", data={"_csrf": csrf})
    assert not problems
    async with world.services.db.transaction() as session:
        assert (await session.execute(select(ApiToken).where(ApiToken.revoked_at.is_not(None)))).first() is None
        assert (await session.execute(select(StaffSession).where(StaffSession.staff_id == world.staff["nankai"]))
                ).first() is not None
    assert (await bystander.get("/console/", allow_redirects=False)).status == 200
