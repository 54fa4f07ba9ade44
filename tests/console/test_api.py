"""The JSON API: bearer tokens (hashed, revocable), and the OpenAPI document checked against the running server:
every documented operation answers an authorized call with a documented status and a body of the documented
shape, and every mounted API route is documented."""
from __future__ import annotations

import hashlib

import yaml
from sqlalchemy import select

from handlers.console import CONSOLE, OPENAPI, build_registry
from storage.console_models import ApiToken
from storage.repositories import staff as staff_repo
from tests.console.conftest import NOW

CSV_OK = ("district_code,district,street_code,street,community_code,community,estate_code,estate,households\n"
          "HX,河西区,HX-YYL,友谊路街道,HX-YYL-YJ,谊景社区,HX-YYL-YJ-09,新建小区,120\n")


def resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        node = doc
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def check(doc: dict, schema: dict, value, where: str = "$") -> list[str]:
    """A small JSON-schema subset (type, nullable, enum, required, properties, items, $ref)."""
    schema = resolve(doc, schema)
    if value is None:
        return [] if schema.get("nullable") else [f"{where}: null"]
    kind = schema.get("type")
    types = {"object": dict, "array": list, "string": str, "boolean": bool, "integer": int, "number": (int, float)}
    if kind and (not isinstance(value, types[kind]) or (kind in ("integer", "number") and isinstance(value, bool))):
        return [f"{where}: expected {kind}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {value!r} not in enum"]
    problems = []
    if kind == "object":
        problems += [f"{where}.{k}: missing" for k in schema.get("required", []) if k not in value]
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                problems += check(doc, sub, value[key], f"{where}.{key}")
    if kind == "array":
        for i, item in enumerate(value[:5]):
            problems += check(doc, schema.get("items", {}), item, f"{where}[{i}]")
    return problems


def sample_body(path: str, method: str):
    return {("POST", "/staff"): {"username": "api-made", "display_name": "接口创建", "level": "street",
                                 "node": "HX-MJ", "password": "long-enough-1"},
            ("POST", "/staff/{staff_id}/password"): {"password": "another-long-1"},
            ("POST", "/staff/{staff_id}/tokens"): {"label": "对接"}}.get((method, path))


async def test_openapi_document_matches_the_running_server(world):
    client = world.client
    doc = await (await client.get("/api/v1/openapi.json")).json()
    served = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    everything = {(r.method, r.path) for r in client.server.app[CONSOLE].registry.api_routes}
    assert everything == served  # every feature's API route is documented, and nothing else
    registry = build_registry()  # the console's own routes are exercised here; features test their own
    mounted = {(r.method, r.path) for r in registry.api_routes}
    own = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    documented = {(m.upper(), p) for p, ops in own["paths"].items() for m in ops}
    assert mounted == documented
    order = sorted(documented, key=lambda mp: (mp[0] == "POST", "deactivate" in mp[1]))  # deactivate last
    async with world.services.db.transaction() as session:  # a second token of admin's, to revoke
        spare, _ = await staff_repo.create_api_token(session, world.staff["admin"], "spare", NOW)
    problems = []
    for method, path in order:
        op = doc["paths"][path][method.lower()]
        url = "/api/v1" + path.replace("{resident_id}", str(world.resident["PJ"])).replace(
            "{staff_id}", str(world.staff["pingjiang"])).replace("{token_id}", str(spare.id))
        headers = world.bearer("admin")
        if path == "/org/import":
            resp = await client.post(url + "?format=csv", data=CSV_OK.encode(), headers=headers)
        elif method == "GET":
            resp = await client.get(url, headers=headers)
        else:
            resp = await client.post(url, json=sample_body(path, method) or {}, headers=headers)
        status = str(resp.status)
        if status not in op["responses"] or not status.startswith("2"):
            problems.append((method, path, status, await resp.text()))
            continue
        schema = op["responses"][status]["content"]["application/json"]["schema"]
        problems += [(method, path, p) for p in check(doc, schema, await resp.json())]
        if "401" in op["responses"] and op.get("security", True) != []:
            unauth = await (client.get(url) if method == "GET" else client.post(url))
            if unauth.status != 401 or check(doc, doc["components"]["schemas"]["Error"], await unauth.json()):
                problems.append((method, path, "unauthenticated", unauth.status))
    assert not problems


async def test_tokens_are_stored_hashed_and_revocable(world):
    raw = world.tokens["hexi"]
    async with world.services.db.transaction() as session:
        hashes = set((await session.execute(select(ApiToken.token_hash))).scalars())
    assert hashlib.sha256(raw.encode()).hexdigest() in hashes and raw not in hashes
    assert (await world.client.get("/api/v1/me", headers=world.bearer("hexi"))).status == 200
    resp = await world.client.get("/api/v1/me", headers={"Authorization": "Bearer " + raw[:-1] + "x"})
    assert resp.status == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
    resp = await world.client.post(f"/api/v1/staff/{world.staff['hexi']}/deactivate", headers=world.bearer("admin"))
    assert resp.status == 200 and (await resp.json())["active"] is False
    assert (await world.client.get("/api/v1/me", headers=world.bearer("hexi"))).status == 401


async def test_api_ignores_console_cookies_and_needs_no_csrf(world):
    await world.login("admin")
    assert (await world.client.get("/api/v1/me")).status == 401
    resp = await world.client.post(f"/api/v1/residents/{world.resident['YJ']}/unbind", headers=world.bearer("yijing"))
    assert resp.status == 200 and (await resp.json())["community_id"] is None


async def test_api_import_reports_line_numbered_problems(world):
    bad = CSV_OK.replace("120", "many") + "HX,河西区,HX-YYL,友谊路街道,,谊景社区,,,\n"
    resp = await world.client.post("/api/v1/org/import?format=csv", data=bad.encode(), headers=world.bearer("admin"))
    body = await resp.json()
    assert resp.status == 422 and body["error"] == "invalid"
    assert any("第2行" in p for p in body["problems"]) and any("第3行" in p for p in body["problems"])


async def test_api_staff_validation_errors_by_field(world):
    resp = await world.client.post("/api/v1/staff", headers=world.bearer("admin"), json={
        "username": "admin", "display_name": "", "level": "street", "node": "NOPE", "password": "short"})
    body = await resp.json()
    assert resp.status == 422 and set(body["errors"]) == {"username", "display_name", "node", "password"}
    resp = await world.client.post("/api/v1/staff", headers=world.bearer("admin"), json={
        "username": "nolevel", "display_name": "无级别", "password": "Nolevel-Account-7"})
    assert resp.status == 422 and set((await resp.json())["errors"]) == {"level"}
