"""The knowledge base through the JSON API (/api/v1/qa/kb/...) and deleting entries (API, page and store): add from
an unanswered question, read with its version, edit (a stale version is refused), delete, validate a draft,
reload; admins only for writes; every route × level × inside/outside the jurisdiction; the OpenAPI fragment checked
against the answers; and the chat answering from an entry added through the API."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from aiohttp import ClientSession
from sqlalchemy import select

from handlers.console import CONSOLE, build_registry
from handlers.policy_qa import console as policy_qa_console
from handlers.policy_qa import kb_store
from handlers.policy_qa.kb_store import Conflict, KbStore, KbStoreError, Missing
from knowledge import KnowledgeBase, KnowledgeHolder
from knowledge.loader import BUNDLED_DIR
from storage.console_models import AuditEntry
from storage.policy_qa_models import KbGap, KbGeneration
from storage.repositories import policy_qa as repo
from storage.repositories import staff as staff_repo
from tests.console.conftest import COMMUNITY_NAMES, NOW, SEES, build_world
from tests.console.test_api import check, resolve
from tests.console.test_matrix import LEVELS, TARGETS

HERE = Path(__file__).resolve().parents[2] / "handlers" / "policy_qa"
PIGEONS = "小区里能养鸽子吗"
NEW_ENTRY = {"title": PIGEONS + "？", "questions": ["楼顶养鸽子行不行", "养鸽子扰民怎么办"], "keywords": ["养鸽子", "鸽子"],
             "answer": "饲养鸽子须遵守小区管理规约，不得影响公共卫生和邻居生活；有纠纷先找物业和居委会协调。",
             "source": "小区管理规约"}
FEE = "property-fee-standard"


# ---- the store: deleting ----------------------------------------------------------------------------------------


def test_delete_removes_only_the_entrys_lines_and_refuses_stale_versions(tmp_path):
    store = KbStore(tmp_path / "kb")
    old = store.find(FEE)
    with pytest.raises(Conflict):
        store.delete(FEE, "0" * 16)
    assert not (tmp_path / "kb" / "fees.yaml").exists()  # nothing written, not even the first copy
    removed = store.delete(FEE, kb_store.fingerprint(old))
    assert removed.entry == old and removed.file == "fees.yaml" and removed.created_directory
    assert removed.kb.get(FEE) is None and len(removed.kb) == len(KnowledgeBase.load()) - 1
    new_lines = (tmp_path / "kb" / "fees.yaml").read_text(encoding="utf-8").splitlines()
    old_lines = (BUNDLED_DIR / "fees.yaml").read_text(encoding="utf-8").splitlines()
    start = old_lines.index(f"- id: {FEE}")
    end = next(i for i in range(start + 1, len(old_lines)) if old_lines[i].startswith(("- id:", "#")))
    while end < len(old_lines) and not old_lines[end].strip():
        end += 1
    assert new_lines == old_lines[:start] + old_lines[end:]  # comments and the other entries as written
    with pytest.raises(Missing):
        store.delete(FEE, kb_store.fingerprint(old))


def test_deleting_the_last_entry_of_a_file_removes_the_file_but_never_the_last_entry(tmp_path):
    kb_dir = tmp_path / "kb"
    kb_dir.mkdir()
    (kb_dir / "a.yaml").write_text("# 甲\n- {id: one, title: 第一条, answer: 答一, source: 甲}\n\n"
                                   "- id: two\n  title: 第二条\n  answer: 答二\n  source: 乙\n", encoding="utf-8")
    (kb_dir / "b.yaml").write_text("- id: three\n  title: 第三条\n  answer: 答三\n  source: 丙\n", encoding="utf-8")
    store = KbStore(kb_dir)
    store.delete("three", kb_store.fingerprint(store.find("three")))
    assert not (kb_dir / "b.yaml").exists() and {e.id for e in store.entries()} == {"one", "two"}
    store.delete("one", kb_store.fingerprint(store.find("one")))  # a flow mapping: the file is rewritten
    assert (kb_dir / "a.yaml").read_text(encoding="utf-8").startswith("# 甲\n")
    with pytest.raises(KbStoreError) as refused:
        store.delete("two", kb_store.fingerprint(store.find("two")))
    assert "唯一的条目" in refused.value.problems[0] and store.find("two") is not None


def test_api_drafts_are_lists_and_checked_by_field():
    draft, errors = kb_store.parse_draft({**NEW_ENTRY, "questions": [" 养鸽子 ", "养鸽子", ""]}, "")
    assert errors == {} and draft.questions == ("养鸽子",) and draft.id == ""
    _, errors = kb_store.parse_draft({"title": 3, "questions": "一条", "keywords": ["物业 费"], "answer": "",
                                      "source": "x" * 301}, "")
    assert set(errors) == {"title", "questions", "keywords", "answer", "source"}
    assert errors["answer"] == "请填写答案" and "空格" in errors["keywords"]


def test_a_dry_run_validates_without_writing(tmp_path):
    store = KbStore(tmp_path / "kb")
    draft, _ = kb_store.parse_draft(NEW_ENTRY, "")
    checked = store.save(draft, new=True, dry_run=True)
    assert checked.entry.id == "local-1" and checked.kb.ask(PIGEONS).best.id == "local-1"
    assert not (tmp_path / "kb").exists()


# ---- the API ----------------------------------------------------------------------------------------------------


async def _kb_world(aiohttp_client, db_url, tmp_path):
    world = await build_world(aiohttp_client, db_url, environ={"LINLI_KB_DIR": str(tmp_path / "kb")})
    world.services.knowledge = KnowledgeHolder()
    async with world.services.db.transaction() as session:
        await repo.record_gap(session, PIGEONS, PIGEONS, "none", world.community["YJ"], NOW)
        for short in TARGETS:
            question = f"{COMMUNITY_NAMES[short]}的快递柜谁来管"
            await repo.record_gap(session, question, question, "none", world.community[short], NOW)
        gaps = {g.example: g.id for g in await session.scalars(select(KbGap))}
    return world, gaps


class Api:
    """Calls the API and checks every answer against the OpenAPI document the server serves."""

    def __init__(self, world, doc: dict):
        self.world, self.doc, self.problems, self.seen = world, doc, [], set()

    async def __call__(self, method: str, path: str, who: str | None = "admin", body=None, expect: int = 200,
                       query: str = "", **params):
        url = "/api/v1" + path.format(**params) + query
        headers = self.world.bearer(who) if who else {}
        resp = await self.world.client.request(method, url, json=body, headers=headers)
        data = await resp.json()
        assert resp.status == expect, (method, url, resp.status, data)
        op = self.doc["paths"][path][method.lower()]
        assert str(expect) in op["responses"], (method, path, expect)
        response = resolve(self.doc, op["responses"][str(expect)])
        self.problems += [(method, path, p) for p in check(self.doc, response["content"]["application/json"]
                                                           ["schema"], data)]
        self.seen.add((method, path))
        return data


async def _api(world) -> Api:
    return Api(world, await (await world.client.get("/api/v1/openapi.json")).json())


async def _actions(world) -> list[str]:
    async with world.services.db.transaction() as session:
        return [a for (a,) in (await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).all()]


async def test_add_read_edit_delete_through_the_api(aiohttp_client, db_url, tmp_path):
    world, gaps = await _kb_world(aiohttp_client, db_url, tmp_path)
    api = await _api(world)
    listing = await api("GET", "/qa/kb/entries", "yijing")
    assert listing["total"] == len(listing["entries"]) > 50 and listing["pending"] == 0
    assert "answer" not in listing["entries"][0]
    added = await api("POST", "/qa/kb/entries", "admin", {**NEW_ENTRY, "gap": gaps[PIGEONS]}, 201)
    assert added["id"] == "local-1" and added["file"] == "local.yaml" and added["generation"] == 1
    assert added["gap"] == {"id": gaps[PIGEONS], "question": PIGEONS, "resolved": True, "outcome": "answer",
                            "best": "local-1"}
    assert world.services.knowledge.ask(PIGEONS).best.id == "local-1"  # this server at once
    async with world.services.db.transaction() as session:
        assert (await session.get(KbGap, gaps[PIGEONS])).resolved_entry == "local-1"
        assert (await session.get(KbGeneration, 1)).directory == str((tmp_path / "kb").resolve())
    found = await api("GET", "/qa/kb/entries", "hexi", query="?q=鸽子")
    assert [e["id"] for e in found["entries"]] == ["local-1"] and found["total"] == listing["total"] + 1
    entry = await api("GET", "/qa/kb/entries/{entry_id}", "yijing", entry_id="local-1")
    assert entry["version"] == added["version"] and entry["answer"] == NEW_ENTRY["answer"]
    assert entry["ratings"] == {"useful": 0, "useless": 0} and entry["pending"] is False
    await api("GET", "/qa/kb/entries/{entry_id}", "yijing", expect=404, entry_id="no-such-entry")

    edited = {**NEW_ENTRY, "questions": NEW_ENTRY["questions"] + ["阳台养信鸽可以吗"], "version": entry["version"]}
    changed = await api("PUT", "/qa/kb/entries/{entry_id}", "admin", edited, entry_id="local-1")
    assert changed["version"] != entry["version"] and changed["generation"] == 2 and changed["gap"] is None
    assert world.services.knowledge.ask("阳台养信鸽可以吗").best.id == "local-1"
    stale = await api("PUT", "/qa/kb/entries/{entry_id}", "admin", {**edited, "title": "被覆盖的标题"}, 409,
                      entry_id="local-1")
    assert "已被修改" in stale["message"]
    assert KnowledgeBase.load(tmp_path / "kb").get("local-1").title == NEW_ENTRY["title"]
    no_version = await api("PUT", "/qa/kb/entries/{entry_id}", "admin", NEW_ENTRY, 422, entry_id="local-1")
    assert set(no_version["errors"]) == {"version"}
    await api("PUT", "/qa/kb/entries/{entry_id}", "admin", edited, 404, entry_id="no-such-entry")

    await api("DELETE", "/qa/kb/entries/{entry_id}", "admin", expect=409, query=f"?version={entry['version']}",
              entry_id="local-1")
    await api("DELETE", "/qa/kb/entries/{entry_id}", "admin", expect=400, entry_id="local-1")  # no ?version=: a malformed request
    deleted = await api("DELETE", "/qa/kb/entries/{entry_id}", "admin", expect=200,
                        query=f"?version={changed['version']}", entry_id="local-1")
    assert deleted["deleted"]["id"] == "local-1" and deleted["generation"] == 3
    assert world.services.knowledge.current.get("local-1") is None
    async with world.services.db.transaction() as session:  # what it answered is a question to cover again
        assert (await session.get(KbGap, gaps[PIGEONS])).resolved_entry is None
    await api("GET", "/qa/kb/entries/{entry_id}", "admin", expect=404, entry_id="local-1")
    await api("DELETE", "/qa/kb/entries/{entry_id}", "admin", expect=404, query=f"?version={changed['version']}",
              entry_id="local-1")
    actions = await _actions(world)
    assert [a for a in actions if a.startswith("qa.kb.")] == ["qa.kb.add", "qa.kb.edit", "qa.kb.delete"]
    assert not api.problems


async def test_validate_reload_and_errors(aiohttp_client, sqlite_url, tmp_path):
    world, _ = await _kb_world(aiohttp_client, sqlite_url, tmp_path)
    api = await _api(world)
    whole = await api("POST", "/qa/kb/validate", "admin", {})
    assert whole["ok"] is True and whole["entries"] > 50 and whole["problems"] == []
    bad = await api("POST", "/qa/kb/validate", "admin", {"entry": {"title": "", "questions": "不是列表",
                                                                    "answer": "答", "source": "依据"}}, 422)
    assert bad["errors"] == {"entry.questions": "请求体 entry.questions：应为列表"}  # the schema, before the service
    bad = await api("POST", "/qa/kb/validate", "admin", {"entry": {"title": "", "questions": [],
                                                                    "answer": "答", "source": "依据"}}, 422)
    assert bad["errors"] == {"title": "请填写标题（标准问法）"}  # the service's own rules
    draft = await api("POST", "/qa/kb/validate", "admin", {"entry": NEW_ENTRY})
    assert draft["ok"] is True and draft["entry"]["id"] == "local-1" and draft["file"] == "local.yaml"
    assert {"question": PIGEONS + "？", "outcome": "answer", "best": "local-1"} in draft["tries"]
    assert not (tmp_path / "kb").exists()  # validated, not saved
    fee = await api("GET", "/qa/kb/entries/{entry_id}", "admin", entry_id=FEE)
    as_edit = {"entry": {**{k: fee[k] for k in ("id", "title", "questions", "keywords", "answer", "source")},
                         "title": "物业费标准是多少"}, "version": fee["version"]}
    assert (await api("POST", "/qa/kb/validate", "admin", as_edit))["entry"]["title"] == "物业费标准是多少"
    await api("POST", "/qa/kb/validate", "admin", {**as_edit, "version": "0" * 16}, 409)
    await api("POST", "/qa/kb/validate", "admin", {"entry": {**NEW_ENTRY, "id": "no-such-entry"}}, 404)

    resp = await world.client.post("/api/v1/qa/kb/entries", data=b"{not json", headers={
        **world.bearer("admin"), "Content-Type": "application/json"})
    assert resp.status == 400 and (await resp.json())["error"] == "bad_request"
    invalid = await api("POST", "/qa/kb/entries", "admin", {**NEW_ENTRY, "answer": " ", "gap": 999999}, 422)
    assert set(invalid["errors"]) == {"answer", "gap"} and not (tmp_path / "kb").exists()
    for gap in ("²", 10 ** 20, True, [1]):  # odd ids are field problems, never a server error
        odd = await api("POST", "/qa/kb/entries", "admin", {**NEW_ENTRY, "gap": gap}, 422)
        assert set(odd["errors"]) == {"gap"}
    listed = await world.client.put(f"/api/v1/qa/kb/entries/{FEE}", json=[NEW_ENTRY], headers=world.bearer("admin"))
    assert listed.status == 422  # JSON, but not the object the schema asks for
    assert "空字符" in (await api("POST", "/qa/kb/reload", "admin", {"directory": "kb\x00"}, 400))["message"]
    assert "只能加载" in (await api("POST", "/qa/kb/reload", "admin", {"directory": "/etc"}, 400))["message"]

    # a broken file in the deployment directory: reported by validate, every edit refused with the reason
    await api("POST", "/qa/kb/entries", "admin", NEW_ENTRY, 201)
    (tmp_path / "kb" / "zz-broken.yaml").write_text("- id: broken\n  title: 缺答案\n", encoding="utf-8")
    broken = await api("POST", "/qa/kb/validate", "admin")
    assert broken["ok"] is False and any("zz-broken.yaml" in p for p in broken["problems"])
    refused = await api("POST", "/qa/kb/entries", "admin", {**NEW_ENTRY, "title": "另一个问题"}, 422)
    assert any("zz-broken.yaml" in p for p in refused["problems"])
    (tmp_path / "kb" / "zz-broken.yaml").unlink()

    reloaded = await api("POST", "/qa/kb/reload", "admin", {"directory": str(tmp_path / "kb")})
    assert reloaded["generation"] == 2
    outside = await api("POST", "/qa/kb/reload", "admin", {"directory": str(tmp_path / "missing")}, 400)
    assert "LINLI_KB_ROOT" in outside["message"]
    nowhere = await api("POST", "/qa/kb/reload", "admin", {"directory": str(tmp_path / "kb" / "missing")}, 422)
    assert "目录不存在" in nowhere["problems"][0]
    async with world.services.db.transaction() as session:
        generation = await session.get(KbGeneration, 1)
    assert generation.generation == 2 and generation.directory == str(tmp_path / "kb")
    assert (await _actions(world)).count("qa.reload") == 1
    assert not api.problems


async def test_the_kb_routes_are_documented_and_exercised(aiohttp_client, sqlite_url, tmp_path):
    world, _ = await _kb_world(aiohttp_client, sqlite_url, tmp_path)
    own = yaml.safe_load((HERE / "openapi.yaml").read_text(encoding="utf-8"))
    documented = {(m.upper(), p) for p, ops in own["paths"].items() for m in ops if p.startswith("/qa/kb")}
    mounted = {(r.method, r.path) for r in world.client.server.app[CONSOLE].registry.api_routes
               if r.path.startswith("/qa/kb")}
    assert mounted == documented and len(mounted) == 7
    api = await _api(world)
    added = await api("POST", "/qa/kb/entries", "admin", NEW_ENTRY, 201)
    await api("GET", "/qa/kb/entries")
    await api("GET", "/qa/kb/entries/{entry_id}", entry_id="local-1")
    changed = await api("PUT", "/qa/kb/entries/{entry_id}", "admin", {**NEW_ENTRY, "version": added["version"]},
                        entry_id="local-1")
    await api("DELETE", "/qa/kb/entries/{entry_id}", query=f"?version={changed['version']}", entry_id="local-1")
    await api("POST", "/qa/kb/validate", "admin", {})
    await api("POST", "/qa/kb/reload", "admin", {"directory": str(tmp_path / "kb")})
    assert api.seen == mounted and not api.problems


# ---- every route × level × inside/outside the jurisdiction ------------------------------------------------------

# (method, url, who may: "staff" reads for every level, "admin" writes); {gap} is a question of the target community
KB_ROUTES = [
    ("GET", "/console/qa/kb?gap={gap}", "staff"), ("GET", "/console/qa/kb/new?gap={gap}", "admin"),
    ("GET", "/console/qa/kb/entries/" + FEE, "staff"),
    ("GET", f"/console/qa/kb/entries/{FEE}/edit?gap={{gap}}", "admin"),
    ("POST", "/console/qa/kb/save", "admin"), ("POST", "/console/qa/kb/validate", "admin"),
    ("POST", f"/console/qa/kb/entries/{FEE}/delete", "admin"), ("POST", "/console/qa/reload", "admin"),
    ("GET", "/api/v1/qa/kb/entries", "staff"), ("POST", "/api/v1/qa/kb/entries", "admin"),
    ("GET", f"/api/v1/qa/kb/entries/{FEE}", "staff"), ("PUT", f"/api/v1/qa/kb/entries/{FEE}", "admin"),
    ("DELETE", f"/api/v1/qa/kb/entries/{FEE}?version={{version}}", "admin"),
    ("POST", "/api/v1/qa/kb/validate", "admin"), ("POST", "/api/v1/qa/kb/reload", "admin"),
]


def test_every_kb_route_is_in_the_matrix():
    registry = build_registry([policy_qa_console.console])
    mounted = {(r.method, "/console" + r.path) for r in registry.pages
               if r.path.startswith(("/qa/kb", "/qa/reload"))}
    mounted |= {(r.method, "/api/v1" + r.path) for r in registry.api_routes if r.path.startswith("/qa/kb")}
    listed = {(m, re.sub(r"\?.*", "", url).replace(FEE, "{entry_id}")) for m, url, _ in KB_ROUTES}
    assert mounted == listed


async def _state(world, tmp_path) -> tuple:
    async with world.services.db.transaction() as session:
        generation = await session.get(KbGeneration, 1)
        resolved = tuple(await session.scalars(select(KbGap.resolved_entry).order_by(KbGap.id)))
    return (tmp_path / "kb").exists(), generation.generation if generation else 0, resolved


async def _call(world, method: str, url: str, who: str | None, csrf: str | None, data: dict):
    if url.startswith("/api/"):
        headers = world.bearer(who) if who else {}
        return await world.client.request(method, url, json=data, headers=headers, allow_redirects=False)
    if method == "GET":
        return await world.client.get(url, allow_redirects=False)
    form = {k: "\n".join(v) if isinstance(v, list) else str(v) for k, v in data.items()}
    return await world.client.post(url, data={**form, "_csrf": csrf or "", "confirm": "yes"},
                                   allow_redirects=False)


async def test_every_route_level_and_jurisdiction(aiohttp_client, sqlite_url, tmp_path):
    world, gaps = await _kb_world(aiohttp_client, sqlite_url, tmp_path)
    version = kb_store.fingerprint(world.services.knowledge.current.get(FEE))
    question = {short: f"{COMMUNITY_NAMES[short]}的快递柜谁来管" for short in TARGETS}
    before, problems = await _state(world, tmp_path), []
    anonymous = world.client
    for method, url, _ in KB_ROUTES:  # anonymous callers: nothing
        resp = await _call(world, method, url.format(gap=gaps[question["YJ"]], version=version), None, None,
                           {**NEW_ENTRY, "version": version, "base": version})
        expected = 401 if url.startswith("/api/") else (303 if method == "GET" else 403)
        if resp.status != expected:
            problems.append(("anonymous", method, url, resp.status))
    for username in LEVELS[:-1] + ["pingjiang", "nankai"]:
        anonymous.session.cookie_jar.clear()
        csrf = await world.login(username)
        for target in TARGETS:
            inside = target in {**SEES, "pingjiang": {"PJ"}, "nankai": {"XY"}}[username]
            gap = gaps[question[target]]
            for method, url, who in KB_ROUTES:
                data = {**NEW_ENTRY, "gap": gap, "version": version, "base": version, "entry": ""}
                resp = await _call(world, method, url.format(gap=gap, version=version), username, csrf, data)
                body = await resp.text()
                allowed = who == "staff"
                if (resp.status == 200) != allowed or (not allowed and resp.status != 403):
                    problems.append((username, target, inside, method, url, resp.status))
                if question[target] in body:  # only admins pick a question to answer, inside or outside
                    problems.append((username, target, url, "shows the question"))
    if await _state(world, tmp_path) != before:
        problems.append(("refused writes changed something", await _state(world, tmp_path), before))
    anonymous.session.cookie_jar.clear()
    await world.login("admin")
    for target in TARGETS:  # the admin's jurisdiction is everything: every question can be picked
        gap = gaps[question[target]]
        for url in (f"/console/qa/kb?gap={gap}", f"/console/qa/kb/new?gap={gap}",
                    f"/console/qa/kb/entries/{FEE}/edit?gap={gap}"):
            resp = await world.client.get(url)
            if resp.status != 200 or question[target] not in await resp.text():
                problems.append(("admin", target, url, resp.status))
    assert not problems


# ---- the page ---------------------------------------------------------------------------------------------------


async def test_admin_deletes_an_entry_from_its_page(aiohttp_client, sqlite_url, tmp_path):
    world, _ = await _kb_world(aiohttp_client, sqlite_url, tmp_path)
    csrf = await world.login("hexi")
    page = await (await world.client.get(f"/console/qa/kb/entries/{FEE}")).text()
    assert "/delete" not in page
    await world.logout(csrf)
    csrf = await world.login("admin")
    page = await (await world.client.get(f"/console/qa/kb/entries/{FEE}")).text()
    assert f'action="/console/qa/kb/entries/{FEE}/delete"' in page and 'name="confirm"' in page
    base = re.search(r'name="base" value="([0-9a-f]+)"', page).group(1)
    url = f"/console/qa/kb/entries/{FEE}/delete"
    unconfirmed = await world.client.post(url, data={"_csrf": csrf, "base": base}, allow_redirects=False)
    assert unconfirmed.status == 303 and not (tmp_path / "kb").exists()
    assert "确认删除" in await (await world.client.get(unconfirmed.headers["Location"])).text()
    forged = await world.client.post(url, data={"base": base, "confirm": "yes"}, allow_redirects=False)
    assert forged.status == 403 and not (tmp_path / "kb").exists()  # no CSRF token
    stale = await world.client.post(url, data={"_csrf": csrf, "base": "0" * 16, "confirm": "yes"},
                                    allow_redirects=False)
    assert stale.status == 303 and "已被修改" in await (await world.client.get(stale.headers["Location"])).text()
    done = await world.client.post(url, data={"_csrf": csrf, "base": base, "confirm": "yes"}, allow_redirects=False)
    assert done.status == 303 and done.headers["Location"] == "/console/qa/kb"
    assert "已删除条目" in await (await world.client.get("/console/qa/kb")).text()
    assert KnowledgeBase.load(tmp_path / "kb").get(FEE) is None
    assert world.services.knowledge.current.get(FEE) is None
    assert (await world.client.get(f"/console/qa/kb/entries/{FEE}")).status == 404
    assert "qa.kb.delete" in await _actions(world)
    audit = await (await world.client.get("/console/audit")).text()
    assert "删除知识库条目" in audit


# ---- the chat ---------------------------------------------------------------------------------------------------


async def test_the_chat_answers_from_an_entry_added_through_the_api(start_bot, settings, tmp_path):
    bot = await start_bot(settings.with_env({"LINLI_KB_DIR": str(tmp_path / "kb")}))
    before = await bot.say("o_kbapi", PIGEONS)
    assert NEW_ENTRY["answer"] not in before
    async with bot.services.db.transaction() as session:
        admin = await staff_repo.staff_by_username(session, "admin")
        _, token = await staff_repo.create_api_token(session, admin.id, "test", NOW)
    async with ClientSession() as http:
        resp = await http.post(str(bot.server.make_url("/api/v1/qa/kb/entries")), json=NEW_ENTRY,
                               headers={"Authorization": f"Bearer {token}"})
        assert resp.status == 201, await resp.text()
    reply = await bot.say("o_kbapi", PIGEONS)
    assert NEW_ENTRY["answer"] in reply and "依据：小区管理规约" in reply
