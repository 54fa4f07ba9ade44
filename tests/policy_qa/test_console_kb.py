"""The knowledge base in the console: browsing for every level, editing (admins) into the deployment directory
only, validated before the swap, from an unanswered question, with concurrent edits refused."""
from __future__ import annotations

import hashlib
import re
import shutil

import pytest
from sqlalchemy import select

from handlers.policy_qa import kb_store
from handlers.policy_qa.kb_store import Conflict, Draft, KbStore, KbStoreError
from knowledge import KnowledgeBase, KnowledgeHolder
from knowledge.cli import QUALITY_HEADS
from knowledge.loader import BUNDLED_DIR, RESOURCE_FILES
from knowledge.quality import review, review_entry
from storage.console_models import AuditEntry
from storage.policy_qa_models import KbGap, KbGeneration
from storage.repositories import policy_qa as repo
from tests.console.conftest import NOW, build_world

PIGEONS = "小区里能养鸽子吗"


def _bundled_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(BUNDLED_DIR.iterdir()):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def _draft(entry: object, **changes) -> Draft:
    fields = {k: getattr(entry, k) for k in ("id", "title", "questions", "keywords", "answer", "source")}
    return Draft(**{**fields, **changes})


def test_parse_form_splits_lists_and_reports_missing_fields():
    draft, errors = kb_store.parse_form({"title": " 能养鸽子吗 ", "questions": "养鸽子\n\n 养鸽子 \n鸽子扰民",
                                         "keywords": "鸽子、饲养, 扰民 鸽子", "answer": "第一行\r\n第二行",
                                         "source": "《天津市养犬管理条例》"}, "local-1")
    assert errors == {}
    assert draft.questions == ("养鸽子", "鸽子扰民") and draft.keywords == ("鸽子", "饲养", "扰民")
    assert draft.title == "能养鸽子吗" and draft.answer == "第一行\n第二行"
    _, errors = kb_store.parse_form({"title": "", "answer": "x" * 5000, "source": " "}, "local-1")
    assert set(errors) == {"title", "answer", "source"}


def test_first_edit_copies_the_kb_in_use_and_changes_one_entry_in_place(tmp_path):
    before_bundled = _bundled_digest()
    store = KbStore(tmp_path / "kb")
    assert not store.initialized
    old = store.find("property-fee-standard")
    saved = store.save(_draft(old, questions=old.questions + ("物业费一年一涨",)), new=False,
                       base=kb_store.fingerprint(old))
    assert saved.created_directory and saved.file == "fees.yaml"
    assert _bundled_digest() == before_bundled  # the bundled knowledge base is never written
    copied = {p.name for p in (tmp_path / "kb").iterdir() if not p.name.startswith(".")}
    assert copied == {p.name for p in BUNDLED_DIR.iterdir() if p.suffix == ".yaml" or p.name in RESOURCE_FILES}
    # only the edited entry's lines differ; comments and every other entry stay as written
    new_lines = (tmp_path / "kb" / "fees.yaml").read_text(encoding="utf-8").splitlines()
    old_lines = (BUNDLED_DIR / "fees.yaml").read_text(encoding="utf-8").splitlines()
    assert new_lines[0] == old_lines[0] and new_lines[0].startswith("#")

    def without_entry(lines):
        start = lines.index("- id: property-fee-standard")
        end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("- id:"))
        return lines[:start] + lines[end:]

    assert without_entry(new_lines) == without_entry(old_lines)
    assert "    - 物业费一年一涨" in new_lines
    kb = KnowledgeBase.load(tmp_path / "kb")
    assert len(kb) == len(KnowledgeBase.load()) and "物业费一年一涨" in kb.get("property-fee-standard").questions
    assert kb.ask("物业费一年一涨").best.id == "property-fee-standard"
    # an edit started from the old version is refused, nothing written
    with pytest.raises(Conflict):
        store.save(_draft(old, title="改个标题"), new=False, base=kb_store.fingerprint(old))
    assert KnowledgeBase.load(tmp_path / "kb").get("property-fee-standard").title == old.title


def test_new_entries_go_to_local_yaml_and_a_broken_directory_is_never_swapped(tmp_path):
    store = KbStore(tmp_path / "kb")
    draft = Draft("local-1", PIGEONS + "？", ("能不能在楼顶养鸽子",), ("养鸽子", "鸽子"),
                  "小区里饲养鸽子等家禽，须遵守管理规约：不得影响公共卫生和邻居生活。\n有纠纷先找物业和居委会协调。",
                  "小区管理规约；linli 常见问题")
    saved = store.save(draft, new=True)
    assert saved.file == "local.yaml" and saved.kb.ask(PIGEONS).best.id == "local-1"
    text = (tmp_path / "kb" / "local.yaml").read_text(encoding="utf-8")
    assert text.startswith("#") and "- id: local-1" in text and "answer: |-" in text
    with pytest.raises(Conflict):
        store.save(draft, new=True)  # the id exists
    assert kb_store.next_local_id({e.id for e in store.entries()}) == "local-2"
    # someone hand-edits a broken file into the directory: edits are refused and nothing is written
    (tmp_path / "kb" / "zz-broken.yaml").write_text("- id: broken\n  title: 缺答案\n", encoding="utf-8")
    with pytest.raises(KbStoreError) as refused:
        store.save(Draft("local-2", "另一个问题", (), (), "答案", "依据"), new=True)
    assert any("zz-broken.yaml" in p for p in refused.value.problems)
    assert (tmp_path / "kb" / "local.yaml").read_text(encoding="utf-8") == text
    with pytest.raises(KbStoreError):
        KbStore(BUNDLED_DIR).save(draft, new=True)  # never the bundled directory


def test_an_entry_that_cannot_be_found_by_its_lines_is_rewritten_with_its_file(tmp_path):
    kb_dir = tmp_path / "kb"
    kb_dir.mkdir()
    (kb_dir / "a.yaml").write_text(
        "# 头部注释\n- {id: one, title: 第一条, answer: 答一, source: 甲}\n- title: 第二条\n  id: two\n"
        "  answer: 答二\n  source: 乙\n", encoding="utf-8")
    store = KbStore(kb_dir)
    two = store.find("two")
    store.save(_draft(two, answer="新的答二"), new=False, base=kb_store.fingerprint(two))
    kb = KnowledgeBase.load(kb_dir)
    assert kb.get("two").answer == "新的答二" and kb.get("one").answer == "答一"
    assert (kb_dir / "a.yaml").read_text(encoding="utf-8").startswith("# 头部注释\n")


async def _kb_world(aiohttp_client, db_url, tmp_path):
    world = await build_world(aiohttp_client, db_url, environ={"LINLI_KB_DIR": str(tmp_path / "kb")})
    world.services.knowledge = KnowledgeHolder()
    async with world.services.db.transaction() as session:
        await repo.record_gap(session, PIGEONS, PIGEONS, "none", world.community["YJ"], NOW)
        await repo.record_gap(session, "物业费一年一涨", "物业费一年一涨", "ambiguous", world.community["LS"], NOW)
        gaps = {g.example: g.id for g in await session.scalars(select(KbGap))}
    return world, gaps


async def _post(world, url, csrf, **data):
    return await world.client.post(url, data={"_csrf": csrf, **data}, allow_redirects=False)


async def test_admin_adds_an_entry_from_an_unanswered_question(aiohttp_client, db_url, tmp_path):
    world, gaps = await _kb_world(aiohttp_client, db_url, tmp_path)
    csrf = await world.login("admin")
    qa = await (await world.client.get("/console/qa")).text()
    assert f"/console/qa/kb?gap={gaps[PIGEONS]}" in qa
    form = await (await world.client.get(f"/console/qa/kb/new?gap={gaps[PIGEONS]}")).text()
    assert f'value="{PIGEONS}"' in form and str(tmp_path / "kb") in form
    missing = await _post(world, "/console/qa/kb/save", csrf, gap=str(gaps[PIGEONS]), title=PIGEONS, answer="",
                          source="")
    assert missing.status == 422 and "请填写答案" in await missing.text()
    assert not (tmp_path / "kb").exists() or not (tmp_path / "kb" / "local.yaml").exists()
    resp = await _post(world, "/console/qa/kb/save", csrf, gap=str(gaps[PIGEONS]), entry="", base="",
                       title=PIGEONS + "？", questions="楼顶养鸽子行不行\n养鸽子扰民怎么办", keywords="养鸽子、鸽子",
                       answer="饲养鸽子须遵守小区管理规约，不得影响公共卫生和邻居生活；有纠纷先找物业和居委会协调。",
                       source="小区管理规约")
    assert resp.status == 303 and resp.headers["Location"] == "/console/qa/kb/entries/local-1"
    page = await (await world.client.get("/console/qa/kb/entries/local-1")).text()
    assert "已新增条目" in page and "现在会直接用这条回答" in page and "楼顶养鸽子行不行" in page
    assert world.services.knowledge.ask(PIGEONS).best.id == "local-1"  # this server at once
    async with world.services.db.transaction() as session:
        generation = await session.get(KbGeneration, 1)
        assert generation.directory == str((tmp_path / "kb").resolve()) and generation.generation == 1
        assert (await session.get(KbGap, gaps[PIGEONS])).resolved_entry == "local-1"
        actions = [a for (a,) in (await session.execute(select(AuditEntry.action))).all()]
    assert "qa.kb.add" in actions
    qa = await (await world.client.get("/console/qa")).text()
    assert PIGEONS not in qa  # no longer waiting for an answer
    listing = await (await world.client.get("/console/qa/kb?q=鸽子")).text()
    assert "local-1" in listing and "找到 1 条" in listing


async def test_admin_adds_a_phrasing_to_an_existing_entry(aiohttp_client, sqlite_url, tmp_path):
    world, gaps = await _kb_world(aiohttp_client, sqlite_url, tmp_path)
    csrf = await world.login("admin")
    gap = gaps["物业费一年一涨"]
    picker = await (await world.client.get(f"/console/qa/kb?gap={gap}&ask=物业费一年一涨")).text()
    assert f"/console/qa/kb/entries/property-fee-standard/edit?gap={gap}" in picker and "试问" in picker
    form = await (await world.client.get(f"/console/qa/kb/entries/property-fee-standard/edit?gap={gap}")).text()
    questions = re.search(r'<textarea name="questions"[^>]*>([^<]*)</textarea>', form).group(1)
    assert questions.splitlines()[-1] == "物业费一年一涨"
    base = re.search(r'name="base" value="([0-9a-f]+)"', form).group(1)
    fields = {name: re.search(rf'name="{name}" value="([^"]*)"', form).group(1) for name in ("title", "source")}
    fields["keywords"] = re.search(r'name="keywords" value="([^"]*)"', form).group(1)
    fields["answer"] = re.search(r'<textarea name="answer"[^>]*>([^<]*)</textarea>', form).group(1)
    resp = await _post(world, "/console/qa/kb/save", csrf, entry="property-fee-standard", base=base, gap=str(gap),
                       questions=questions, **fields)
    assert resp.status == 303
    assert world.services.knowledge.ask("物业费一年一涨").best.id == "property-fee-standard"
    # the same form sent again is based on an outdated version: refused, with the reason on the page
    again = await _post(world, "/console/qa/kb/save", csrf, entry="property-fee-standard", base=base,
                        questions=questions, **{**fields, "title": "被覆盖的标题"})
    assert again.status == 422 and "已被修改" in await again.text()
    assert KnowledgeBase.load(tmp_path / "kb").get("property-fee-standard").title == fields["title"]
    ok = await _post(world, "/console/qa/kb/validate", csrf)
    assert ok.status == 303
    assert "校验通过" in await (await world.client.get("/console/qa/kb")).text()
    (tmp_path / "kb" / "zz.yaml").write_text("- id: x\n", encoding="utf-8")
    await _post(world, "/console/qa/kb/validate", csrf)
    assert "处问题" in await (await world.client.get("/console/qa/kb")).text()


async def test_the_entry_form_shows_the_kb_check_warnings(aiohttp_client, sqlite_url, tmp_path):
    """Issue 17: the entry form shows knowledge.quality's findings for the entry, as `linli kb check` does."""
    world, _ = await _kb_world(aiohttp_client, sqlite_url, tmp_path)
    await world.login("admin")
    kb = world.services.knowledge.current
    findings = review_entry(kb, "property-fee-how-to-pay")
    assert findings  # the bundled entry has example questions that, left out, find another entry
    form = await (await world.client.get("/console/qa/kb/entries/property-fee-how-to-pay/edit")).text()
    assert 'id="kb-quality"' in form and "linli kb check" in form
    for f in findings:
        assert f"{QUALITY_HEADS[f.kind]}：{f.message}" in form
    flagged = {x for f in review(kb) for x in (f.entry_id, f.other)}
    quiet = next(e for e in kb.entries if e.id not in flagged)
    assert 'id="kb-quality"' not in await (await world.client.get(f"/console/qa/kb/entries/{quiet.id}/edit")).text()
    assert 'id="kb-quality"' not in await (await world.client.get("/console/qa/kb/new")).text()


async def test_other_levels_browse_but_cannot_edit(aiohttp_client, sqlite_url, tmp_path):
    world, gaps = await _kb_world(aiohttp_client, sqlite_url, tmp_path)
    csrf = await world.login("hexi")
    listing = await (await world.client.get("/console/qa/kb?ask=物业费怎么交")).text()
    assert "property-fee-standard" in listing and "新增条目" not in listing and "结果：" in listing
    entry = await world.client.get("/console/qa/kb/entries/property-fee-standard")
    assert entry.status == 200 and "修改</a>" not in await entry.text()
    assert (await world.client.get("/console/qa/kb/entries/no-such-entry")).status == 404
    for url in ("/console/qa/kb/new", "/console/qa/kb/entries/property-fee-standard/edit"):
        assert (await world.client.get(url, allow_redirects=False)).status == 403
    for url in ("/console/qa/kb/save", "/console/qa/kb/validate"):
        resp = await _post(world, url, csrf, title="x", answer="y", source="z")
        assert resp.status == 403
    assert not (tmp_path / "kb").exists()
    await world.logout(csrf)
    admin_csrf = await world.login("admin")
    forged = await world.client.post("/console/qa/kb/save", data={"title": "x", "answer": "y", "source": "z"},
                                     allow_redirects=False)
    assert forged.status == 403 and not (tmp_path / "kb").exists()  # no CSRF token
    assert admin_csrf


def test_the_bundled_directory_is_refused_as_deployment_directory(tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(BUNDLED_DIR, copy)
    assert kb_store.is_bundled(BUNDLED_DIR) and kb_store.is_bundled(BUNDLED_DIR / "sub")
    assert not kb_store.is_bundled(copy)
