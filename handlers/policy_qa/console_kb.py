"""The knowledge base in the staff console: browse and search the entries residents are answered from, try a
question, and (admins) edit an entry or add one, typically from a question residents asked that the knowledge
base could not answer; validate; the reload itself stays in handlers/policy_qa/console.py.

    GET  /console/qa/kb                       entries (?q= search, ?ask= try a question, ?gap= pick an entry)
    GET  /console/qa/kb/entries/{entry_id}    one entry with its ratings
    GET  /console/qa/kb/new?gap=ID            form for a new entry (from an unanswered question)
    GET  /console/qa/kb/entries/{entry_id}/edit[?gap=ID]   form (the question added as another phrasing)
    POST /console/qa/kb/save                  validate the whole knowledge base with the change, write, reload
    POST /console/qa/kb/validate              validate the knowledge base that edits apply to

Edits go to the deployment directory (`LINLI_KB_DIR`, handlers/policy_qa/kb_store.py), never to the bundled
knowledge base; every server switches to it through the reload generation.
"""
from __future__ import annotations

import asyncio

from aiohttp import web

from handlers.console.audit import audit
from handlers.console.authz import can_see_community
from handlers.console.guard import current, db, require_staff
from handlers.console.render import flash, render, see_other
from handlers.console.state import state_of
from handlers.policy_qa import kb_store
from handlers.policy_qa.kb_store import Draft, KbStore, KbStoreError
from knowledge import KnowledgeBaseError
from knowledge.loader import BUNDLED_DIR
from storage.models import StaffLevel
from storage.policy_qa_models import KbGap, KbRating
from storage.repositories import policy_qa as repo

OUTCOMES = {"answer": "直接回答", "ambiguous": "列出候选让居民选", "none": "答不上来"}


def _holder(request: web.Request):
    return state_of(request).services.knowledge


def _store(request: web.Request) -> KbStore:
    holder = _holder(request)
    seed = holder.current.directory if holder is not None else None
    return KbStore(kb_store.deployment_dir(state_of(request).services.settings), seed)


def _source_label(directory, store: KbStore) -> str:
    if directory is None or directory.resolve() == BUNDLED_DIR.resolve():
        return "内置知识库"
    if directory.resolve() == store.directory:
        return f"部署目录 {store.directory}"
    return f"目录 {directory}"


async def _gap(request: web.Request, raw: str | None) -> KbGap | None:
    if not raw:
        return None
    if not raw.isdigit():
        raise web.HTTPNotFound()
    gap = await db(request).get(KbGap, int(raw))
    if gap is None or not can_see_community(current(request).scope, gap.community_id):
        raise web.HTTPNotFound()
    return gap


def _matches(entry, q: str) -> bool:
    q = q.lower()
    return any(q in text.lower() for text in (entry.id, entry.title, entry.answer, *entry.questions,
                                               *entry.keywords))


async def _entries(request: web.Request, store: KbStore):
    """The entries residents are answered from now, and how many edits wait to take effect."""
    holder = _holder(request)
    if holder is None:  # a process without the knowledge base: show the files
        return await asyncio.to_thread(store.entries), None, 0
    kb = holder.current
    pending = 0
    if store.initialized and kb.directory is not None and kb.directory.resolve() == store.directory:
        try:
            saved = {e.id: kb_store.fingerprint(e) for e in await asyncio.to_thread(store.entries)}
        except KnowledgeBaseError:
            saved = {}
        live = {e.id: kb_store.fingerprint(e) for e in kb.entries}
        pending = sum(1 for i in saved.keys() | live.keys() if saved.get(i) != live.get(i))
    return kb.entries, kb, pending


@require_staff()
async def kb_page(request: web.Request) -> web.Response:
    store = _store(request)
    entries, kb, pending = await _entries(request, store)
    q = request.query.get("q", "").strip()[:50]
    shown = [e for e in entries if _matches(e, q)] if q else list(entries)
    asked = request.query.get("ask", "").strip()[:200]
    answer = kb.ask(asked) if kb is not None and asked else None
    gap = await _gap(request, request.query.get("gap")) if current(request).level == StaffLevel.admin else None
    return render(request, "policy_qa/kb.html", title="知识库", entries=shown, total=len(entries), q=q,
                  asked=asked, answer=answer, outcomes=OUTCOMES, gap=gap, pending=pending, store=store,
                  source=_source_label(kb.directory if kb else store.source, store), live=kb is not None)


def _entry_in(entries, entry_id: str):
    return next((e for e in entries if e.id == entry_id), None)


@require_staff()
async def entry_page(request: web.Request) -> web.Response:
    store, entry_id = _store(request), request.match_info["entry_id"]
    entries, kb, _ = await _entries(request, store)
    entry = _entry_in(entries, entry_id)
    saved = _entry_in(await asyncio.to_thread(store.entries), entry_id) if store.initialized else None
    if entry is None and saved is None:
        raise web.HTTPNotFound()
    changed = saved is not None and (entry is None or kb_store.fingerprint(saved) != kb_store.fingerprint(entry))
    rating = await db(request).get(KbRating, entry_id)
    return render(request, "policy_qa/kb_entry.html", title=(entry or saved).title, entry=entry or saved,
                  changed=changed, rating=rating)


def _form_values(entry=None, gap: KbGap | None = None) -> dict[str, str]:
    questions = list(entry.questions) if entry else []
    if gap is not None and entry is not None and gap.example not in questions and gap.example != entry.title:
        questions.append(gap.example)
    return {"title": entry.title if entry else (gap.example if gap else ""), "questions": "\n".join(questions),
            "keywords": "、".join(entry.keywords) if entry else "", "answer": entry.answer if entry else "",
            "source": entry.source if entry else ""}


def _edit_form(request, *, entry, values, gap, errors, status=200, base=""):
    return render(request, "policy_qa/kb_form.html", title="修改知识库条目" if entry else "新增知识库条目",
                  entry=entry, values=values, gap=gap, errors=errors, base=base, status=status,
                  store=_store(request))


@require_staff(StaffLevel.admin)
async def new_page(request: web.Request) -> web.Response:
    gap = await _gap(request, request.query.get("gap"))
    return _edit_form(request, entry=None, values=_form_values(None, gap), gap=gap, errors={})


@require_staff(StaffLevel.admin)
async def edit_page(request: web.Request) -> web.Response:
    store = _store(request)
    try:
        entry = await asyncio.to_thread(store.find, request.match_info["entry_id"])
    except KnowledgeBaseError as exc:
        await flash(request, "知识库文件校验不通过，请先修正：" + "；".join(exc.problems[:5]), "error")
        raise see_other("/console/qa/kb") from None
    if entry is None:
        raise web.HTTPNotFound()
    gap = await _gap(request, request.query.get("gap"))
    return _edit_form(request, entry=entry, values=_form_values(entry, gap), gap=gap, errors={},
                      base=kb_store.fingerprint(entry))


@require_staff(StaffLevel.admin)
async def save(request: web.Request) -> web.Response:
    data = await request.post()
    values = {k: str(data.get(k, "")) for k in ("title", "questions", "keywords", "answer", "source")}
    entry_id, base = str(data.get("entry", "")).strip(), str(data.get("base", "")).strip() or None
    gap = await _gap(request, str(data.get("gap", "")).strip() or None)
    store, user, session = _store(request), current(request), db(request)
    entry = None
    if entry_id:
        entry = await asyncio.to_thread(store.find, entry_id)
        if entry is None:
            raise web.HTTPNotFound()
    else:
        entry_id = kb_store.next_local_id({e.id for e in await asyncio.to_thread(store.entries)})
    draft, errors = kb_store.parse_form(values, entry_id)
    if draft is not None:
        try:
            saved = await asyncio.to_thread(store.save, draft, new=entry is None, base=base)
        except KbStoreError as exc:
            errors = {"form": "；".join(exc.problems)}
    if errors:
        return _edit_form(request, entry=entry, values=values, gap=gap, errors=errors, status=422,
                          base=base or "")
    generation = await repo.request_reload(session, str(store.directory), f"staff:{user.staff.username}", user.now)
    holder = _holder(request)
    if holder is not None:  # this server at once; the others within their next check
        try:
            await asyncio.to_thread(holder.reload, store.directory)
        except KnowledgeBaseError:  # validated a moment ago; the watcher will say so if it still fails
            pass
    action = "qa.kb.add" if entry is None else "qa.kb.edit"
    await audit(session, user, action, f"{saved.entry.id}：{saved.entry.title[:40]}", request,
                detail={"file": saved.file, "generation": generation})
    message = (f"已{'新增' if entry is None else '修改'}条目「{saved.entry.title}」（{saved.file}），"
               f"已通知所有服务换用（第 {generation} 版），约 10 秒内生效。")
    if gap is not None:
        tried = saved.kb.ask(gap.example)
        if tried.outcome == "answer" and tried.best.id == saved.entry.id:
            await repo.resolve_gap(session, gap.id, saved.entry.id)
            message += f"试答「{gap.example}」：现在会直接用这条回答，该问题已从待补充列表移除。"
        else:
            now = OUTCOMES[tried.outcome] + (f"「{tried.best.title}」" if tried.best else "")
            message += f"但试答「{gap.example}」仍是：{now}。可再补充问法或关键词。"
            await flash(request, message, "info")
            raise see_other(f"/console/qa/kb/entries/{saved.entry.id}")
    await flash(request, message)
    raise see_other(f"/console/qa/kb/entries/{saved.entry.id}")


@require_staff(StaffLevel.admin)
async def validate(request: web.Request) -> web.Response:
    store = _store(request)
    try:
        kb = await asyncio.to_thread(store.validate)
    except KnowledgeBaseError as exc:
        await flash(request, f"{_source_label(store.source, store)} 有 {len(exc.problems)} 处问题："
                    + "；".join(exc.problems[:10]), "error")
    else:
        files = len({e.file for e in kb.entries})
        await flash(request, f"{_source_label(store.source, store)} 校验通过：{len(kb)} 个条目，{files} 个文件。")
    raise see_other("/console/qa/kb")


def register(registry) -> None:
    registry.labels({"qa.kb.add": "新增知识库条目", "qa.kb.edit": "修改知识库条目"})
    registry.page("GET", "/qa/kb", kb_page)
    registry.page("GET", "/qa/kb/new", new_page)
    registry.page("GET", "/qa/kb/entries/{entry_id}", entry_page)
    registry.page("GET", "/qa/kb/entries/{entry_id}/edit", edit_page)
    registry.page("POST", "/qa/kb/save", save)
    registry.page("POST", "/qa/kb/validate", validate)
