"""Property-based fuzzing of every /api/v1 route, driven by the OpenAPI document: no request may get a 5xx.

For each documented operation, hypothesis draws path ids (real ones, huge ones, `²`, negative, text), query
values (from the parameter's schema, or junk), JSON bodies (from the body's schema, with wrong types, lone
surrogates, deep nesting, or not JSON at all) and a caller (an admin and a community worker), and sends them to a
real linli on loopback with the whole demo organisation loaded. The budget per operation is
`LINLI_FUZZ_EXAMPLES` (default 12 in CI; `bench/api_fuzz.sh` runs thousands).
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import threading
from dataclasses import dataclass

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from bot.app import build_services, create_app
from bot.features import installed_features
from handlers.console.state import CONSOLE
from handlers.console.validation import _resolve, compile_operations
from storage.orgimport import apply_org_plan, parse_org_bytes
from storage.repositories import staff as staff_repo
from storage.repositories.org import load_demo
from tests.console.conftest import EXTRA_ORG, NOW
from tests.support import BASE, fixed_clock

EXAMPLES = int(os.environ.get("LINLI_FUZZ_EXAMPLES", "12"))
CALLERS = ("admin", "yijing", "jinan")  # jinan: a partner organisation's account (津安物业, issue 18)


@dataclass
class Live:
    base: str
    loop: asyncio.AbstractEventLoop
    http: aiohttp.ClientSession
    tokens: dict[str, str]
    spec: dict

    def call(self, method: str, path: str, *, token: str, query: dict, body: bytes | None) -> tuple[int, str]:
        async def send():
            headers = {"Authorization": f"Bearer {token}"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            async with self.http.request(method, self.base + path, params=query, data=body, headers=headers,
                                         allow_redirects=False) as resp:
                return resp.status, (await resp.text())[:300]

        return asyncio.run_coroutine_threadsafe(send(), self.loop).result(timeout=60)


@pytest.fixture(scope="module")
def live(tmp_path_factory, sqlite_template):
    """linli with every feature on a SQLite copy of the migrated template, served from a thread of its own."""
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    shutil.copy(sqlite_template, path)
    settings_ = BASE.with_(database_url=f"sqlite+aiosqlite:///{path}", wechat_api_base="http://127.0.0.1:9")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start():
        services = build_services(settings_, clock=fixed_clock(NOW), load_knowledge=False)
        tokens = {}
        async with services.db.transaction() as session:
            await load_demo(session)
            await apply_org_plan(session, parse_org_bytes(EXTRA_ORG.encode(), "yaml", "extra.yaml"))
        await _partner_with_tickets(services)
        async with services.db.transaction() as session:
            for name in CALLERS:
                staff = await staff_repo.staff_by_username(session, name)
                _, tokens[name] = await staff_repo.create_api_token(session, staff.id, "fuzz", NOW)
        app = create_app(settings_, services=services)
        runner = aiohttp.web.AppRunner(app)
        await runner.setup()
        site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return runner, f"http://127.0.0.1:{port}/api/v1", tokens, app[CONSOLE].openapi, aiohttp.ClientSession()

    runner, base, tokens, spec, http = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=120)
    yield Live(base, loop, http, tokens, spec)

    async def stop():
        await http.close()
        await runner.cleanup()

    asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=60)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)


async def _partner_with_tickets(services) -> None:
    """The partner account `jinan` (津安物业) and two tickets 交办 to it, so its routes have something to refuse."""
    from tests.tickets.conftest import bind, handed_to_partner, partner_account

    resident = await bind(services, "o_fuzz_partner")  # 谊景花园, served by 津安物业 (WY-JA)
    async with services.db.transaction() as session:
        await partner_account(session, "jinan", "WY-JA", "津安物业")
        resident = await session.merge(resident)
        for text in ("楼道灯坏了", "电梯异响"):
            await handed_to_partner(session, services, resident, "property", text, NOW)


def _operations() -> list[tuple[str, str]]:
    from bot.features import console_plugins
    from handlers.console import _openapi, build_registry

    spec = _openapi(build_registry(console_plugins(installed_features())))
    return sorted(compile_operations(spec))


IDS = st.one_of(st.integers(1, 12).map(str), st.sampled_from(["0", "-1", "²", "٣", "1e3", "abc", "9" * 19,
                                                                 str(2**31), str(2**63), str(2**64), "%00", " 1"]))
JUNK_TEXT = st.one_of(st.text(max_size=40), st.sampled_from(["", "\ud800", "0001-01-01", "9999-99-99", "-1", "1e309",
                                                              str(2**64), "null", "[]", "²"]))
JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30),
                      st.sampled_from(["\ud800", "x" * 5000, 2**63, -(2**70), "2026-13-45", "0001-01-01T00:00:00"]))
JUNK_JSON = st.recursive(JSON_LEAF, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=12), inner, max_size=5)),
                         max_leaves=12)


def _body_strategy(schema: dict | None):
    if schema is None:
        return st.none()
    candidates = [JUNK_JSON.map(lambda v: json.dumps(v).encode()), st.sampled_from([b"", b"{", b"\xff\xfe",
                                                                                    b"[" * 200, b'{"a":'])]
    try:
        candidates.insert(0, from_schema(schema).map(lambda v: json.dumps(v).encode()))
    except Exception:  # a schema hypothesis-jsonschema cannot generate from: junk only
        pass
    return st.one_of(*candidates)


def _query_strategy(schema: dict):
    try:
        typed = from_schema(schema).map(lambda v: json.dumps(v) if not isinstance(v, str) else v)
    except Exception:
        typed = JUNK_TEXT
    return st.one_of(typed, JUNK_TEXT)


@pytest.mark.parametrize("method,path", _operations(), ids=lambda v: str(v))
def test_no_api_route_answers_5xx(live, method, path):
    op = compile_operations(live.spec)[(method, path)]
    raw_op = live.spec["paths"][path][method.lower()]
    body_schema = ((raw_op.get("requestBody") or {}).get("content") or {}).get("application/json", {}).get("schema")
    body = _body_strategy(_resolve(body_schema, live.spec) if body_schema is not None else None)
    query_params = [p for p in op.parameters if p.where == "query"]
    path_params = [p.name for p in op.parameters if p.where == "path"]

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data):
        url = path
        for name in path_params:
            url = url.replace("{" + name + "}", data.draw(IDS, label=name))
        query = {}
        for p in query_params:
            if data.draw(st.booleans(), label=f"send {p.name}"):
                value = data.draw(_query_strategy(p.schema), label=p.name)
                if "\x00" not in value:
                    query[p.name] = value
        sent = data.draw(body, label="body") if method in ("POST", "PUT", "PATCH") else None
        caller = data.draw(st.sampled_from(CALLERS), label="caller")
        try:
            status, text = live.call(method, url, token=live.tokens[caller], query=query, body=sent)
        except (UnicodeEncodeError, ValueError):
            return  # the client itself cannot send it (a surrogate in the URL): nothing reached linli
        assert status < 500, f"{method} {url} {query} {sent!r:.300} → {status} {text}"

    run()
