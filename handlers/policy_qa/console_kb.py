"""The knowledge base in the staff console: browse and search the entries residents are answered from, try a
question, and (admins) edit an entry or add one, typically from a question residents asked that the knowledge
base could not answer; delete an entry; validate. The reload page stays in handlers/policy_qa/console.py and the
JSON API for the same operations is handlers/policy_qa/api_kb.py; both share `publish` and `reload_everywhere`
with these pages.

    GET  /console/qa/kb                       entries (?q= search, ?ask= try a question, ?gap= pick an entry)
    GET  /console/qa/kb/entries/{entry_id}    one entry with its ratings
    GET  /console/qa/kb/new?gap=ID            form for a new entry (from an unanswered question)
    GET  /console/qa/kb/entries/{entry_id}/edit[?gap=ID]   form (the question added as another phrasing)
    POST /console/qa/kb/save                  validate the whole knowledge base with the change, write, reload
    POST /console/qa/kb/entries/{entry_id}/delete   (confirm=yes, base=version) remove the entry, reload
    POST /console/qa/kb/validate              validate the knowledge base that edits apply to

Edits go to the deployment directory (`LINLI_KB_DIR`, handlers/policy_qa/kb_store.py), never to the bundled
knowledge base; every server switches to it through the reload generation.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

from aiohttp import web

from handlers.console.audit import audit
from handlers.console.authz import can_see_community
from handlers.console.guard import current, db, require_staff
from handlers.console.render import Form, flash, render, see_other
from handlers.console.state import state_of
from handlers.policy_qa import kb_roots, kb_store, service
from handlers.policy_qa.kb_store import KbStore, KbStoreError, Saved
from knowledge import Answer, Entry, KnowledgeBaseError
from knowledge.cli import QUALITY_HEADS
from knowledge.loader import BUNDLED_DIR
from knowledge.quality import review_entry
from storage.models import StaffLevel
from storage.policy_qa_models import KbGap, KbRating
from storage.repositories import policy_qa as repo

OUTCOMES = {"answer": "直接回答", "ambiguous": "列出候选让居民选", "none": "答不上来"}


def holder_of(request: web.Request):
    return state_of(request).services.knowledge


def store_of(request: web.Request) -> KbStore:
    holder = holder_of(request)
    seed = holder.current.directory if holder is not None else None
    return KbStore(kb_store.deployment_dir(state_of(request).services.settings), seed)


def source_label(directory, store: KbStore) -> str:
    if directory is None or directory.resolve() == BUNDLED_DIR.resolve():
        return "内置知识库"
    if directory.resolve() == store.directory:
        return f"部署目录 {store.directory}"
    return f"目录 {directory}"


async def gap_of(request: web.Request, raw: str | None) -> KbGap | None:
    """The unanswered question `raw` (its id) when the caller may see it; 404 otherwise; None when not given."""
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10):  # "²" or 10**20: no such question, not a 500
        raise web.HTTPNotFound()
    gap = await db(request).get(KbGap, int(raw))
    if gap is None or not can_see_community(current(request).scope, gap.community_id):
        raise web.HTTPNotFound()
    return gap


def matches(entry, q: str) -> bool:
    q = q.lower()
    return any(q in text.lower() for text in (entry.id, entry.title, entry.answer, *entry.questions,
                                               *entry.keywords))


async def live_entries(request: web.Request, store: KbStore):
    """The entries residents are answered from now, and how many edits wait to take effect."""
    holder = holder_of(request)
    if holder is None:  # a process without the knowledge base: show the files
        try:
            return await asyncio.to_thread(store.entries), None, 0
        except KnowledgeBaseError:
            return [], None, 0
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
    store = store_of(request)
    entries, kb, pending = await live_entries(request, store)
    q = request.query.get("q", "").strip()[:50]
    shown = [e for e in entries if matches(e, q)] if q else list(entries)
    asked = request.query.get("ask", "").strip()[:200]
    answer = kb.ask(asked) if kb is not None and asked else None
    gap = await gap_of(request, request.query.get("gap")) if current(request).level == StaffLevel.admin else None
    return render(request, "policy_qa/kb.html", title="知识库", entries=shown, total=len(entries), q=q,
                  asked=asked, answer=answer, outcomes=OUTCOMES, gap=gap, pending=pending, store=store,
                  source=source_label(kb.directory if kb else store.source, store), live=kb is not None)


def entry_in(entries, entry_id: str):
    return next((e for e in entries if e.id == entry_id), None)


@dataclass(frozen=True)
class EntryView:
    """One entry for reading: as it is in the files edits apply to (as residents are answered when it is not
    saved there), the version an edit or deletion must name, and whether the saved version is not in use yet."""

    entry: Entry
    version: str | None  # fingerprint of the saved version; None when the entry is only in the one in use
    changed: bool
    rating: KbRating | None = None  # residents' 有用 / 没用 counts


async def entry_view(request: web.Request, store: KbStore, entry_id: str) -> EntryView | None:
    entries, _, _ = await live_entries(request, store)
    live = entry_in(entries, entry_id)
    try:
        saved = await asyncio.to_thread(store.find, entry_id)
    except KnowledgeBaseError:  # the files are broken: show what residents get; edits are refused anyway
        saved = None
    if live is None and saved is None:
        return None
    version = kb_store.fingerprint(saved) if saved is not None else None
    changed = store.initialized and saved is not None and (live is None or kb_store.fingerprint(live) != version)
    return EntryView(saved or live, version, changed)


async def requested_entry(request: web.Request) -> EntryView:
    """The entry named in the path, with its ratings, for the entry page and the API (404 when unknown)."""
    entry_id = request.match_info["entry_id"]
    view = await entry_view(request, store_of(request), entry_id)
    if view is None:
        raise web.HTTPNotFound()
    return replace(view, rating=await db(request).get(KbRating, entry_id))


@require_staff()
async def entry_page(request: web.Request) -> web.Response:
    view = await requested_entry(request)
    return render(request, "policy_qa/kb_entry.html", title=view.entry.title, entry=view.entry,
                  changed=view.changed, version=view.version, rating=view.rating)


def _form_values(entry=None, gap: KbGap | None = None) -> dict[str, str]:
    questions = list(entry.questions) if entry else []
    if gap is not None and entry is not None and gap.example not in questions and gap.example != entry.title:
        questions.append(gap.example)
    return {"title": entry.title if entry else (gap.example if gap else ""), "questions": "\n".join(questions),
            "keywords": "、".join(entry.keywords) if entry else "", "answer": entry.answer if entry else "",
            "source": entry.source if entry else ""}


def _edit_form(request, *, entry, values, gap, errors, status=200, base="", findings=()):
    return render(request, "policy_qa/kb_form.html", title="修改知识库条目" if entry else "新增知识库条目",
                  entry=entry, values=values, gap=gap, errors=errors, base=base, status=status,
                  store=store_of(request), findings=list(findings), quality_heads=QUALITY_HEADS)


async def entry_findings(request: web.Request, entry_id: str) -> list:
    """How well residents will be answered by this entry of the knowledge base in use (knowledge.quality, the
    warnings `linli kb check` prints); empty when the entry is not in it yet."""
    holder = holder_of(request)
    if holder is None:
        return []
    return await asyncio.to_thread(review_entry, holder.current, entry_id)


@require_staff(StaffLevel.admin)
async def new_page(request: web.Request) -> web.Response:
    gap = await gap_of(request, request.query.get("gap"))
    return _edit_form(request, entry=None, values=_form_values(None, gap), gap=gap, errors={})


@require_staff(StaffLevel.admin)
async def edit_page(request: web.Request) -> web.Response:
    store = store_of(request)
    try:
        entry = await asyncio.to_thread(store.find, request.match_info["entry_id"])
    except KnowledgeBaseError as exc:
        await flash(request, "知识库文件校验不通过，请先修正：" + "；".join(exc.problems[:5]), "error")
        raise see_other("/console/qa/kb") from None
    if entry is None:
        raise web.HTTPNotFound()
    gap = await gap_of(request, request.query.get("gap"))
    return _edit_form(request, entry=entry, values=_form_values(entry, gap), gap=gap, errors={},
                      base=kb_store.fingerprint(entry), findings=await entry_findings(request, entry.id))


@dataclass(frozen=True)
class Published:
    """What a written edit set off: the reload generation every server switches to and, for an edit made from an
    unanswered question, that question asked again and whether it is now resolved."""

    generation: int
    tried: Answer | None = None
    resolved: bool = False


async def publish(request: web.Request, store: KbStore, saved: Saved, action: str,
                  gap: KbGap | None = None) -> Published:
    """After `KbStore.save` or `KbStore.delete` (page or API): ask every server to switch to the deployment
    directory (this one at once), record `action` in the audit log and, for an edit made from an unanswered
    question, ask it again: resolved when the saved entry now answers it. Deleting an entry reopens the questions
    it had resolved."""
    user, session = current(request), db(request)
    generation = await repo.request_reload(session, str(store.directory), f"staff:{user.staff.username}", user.now)
    holder = holder_of(request)
    if holder is not None:  # this server at once; the others within their next check
        try:
            await asyncio.to_thread(holder.reload, store.directory)
        except KnowledgeBaseError:  # validated a moment ago; the watcher will say so if it still fails
            pass
    await audit(session, user, action, f"{saved.entry.id}：{saved.entry.title[:40]}", request,
                detail={"file": saved.file, "generation": generation})
    if action == "qa.kb.delete":  # what it answered is unanswered again: back on the list of questions to cover
        await repo.reopen_gaps(session, saved.entry.id)
    if gap is None:
        return Published(generation)
    tried = saved.kb.ask(gap.example)
    resolved = tried.outcome == "answer" and tried.best is not None and tried.best.id == saved.entry.id
    if resolved:
        await repo.resolve_gap(session, gap.id, saved.entry.id)
    return Published(generation, tried, resolved)


def describe(tried: Answer) -> str:
    """What residents now get for a question, in words."""
    return OUTCOMES[tried.outcome] + (f"「{tried.best.title}」" if tried.best else "")


@require_staff(StaffLevel.admin)
async def save(request: web.Request) -> web.Response:
    form = await Form.read(request, "title", "questions", "keywords", "answer", "source", "entry", "base", "gap")
    values = {k: form.values[k] for k in ("title", "questions", "keywords", "answer", "source")}
    entry_id, base = form.values["entry"], form.values["base"] or None
    gap = await gap_of(request, form.values["gap"] or None)
    store = store_of(request)
    entry = None
    if entry_id:
        try:
            entry = await asyncio.to_thread(store.find, entry_id)
        except KnowledgeBaseError as exc:
            await flash(request, "知识库文件校验不通过，请先修正：" + "；".join(exc.problems[:5]), "error")
            raise see_other("/console/qa/kb") from None
        if entry is None:
            raise web.HTTPNotFound()
    draft, errors = kb_store.parse_form(values, entry_id)  # a new entry gets its id when it is written
    if draft is not None:
        try:
            saved = await asyncio.to_thread(store.save, draft, new=entry is None, base=base)
        except KbStoreError as exc:
            errors = {"form": "；".join(exc.problems)}
    if errors:
        return _edit_form(request, entry=entry, values=values, gap=gap, errors=errors, status=422,
                          base=base or "")
    done = await publish(request, store, saved, "qa.kb.add" if entry is None else "qa.kb.edit", gap)
    message = (f"已{'新增' if entry is None else '修改'}条目「{saved.entry.title}」（{saved.file}），"
               f"已通知所有服务换用（第 {done.generation} 版），约 10 秒内生效。")
    if gap is not None and done.resolved:
        message += f"试答「{gap.example}」：现在会直接用这条回答，该问题已从待补充列表移除。"
    elif gap is not None:
        message += f"但试答「{gap.example}」仍是：{describe(done.tried)}。可再补充问法或关键词。"
    await flash(request, message, "info" if gap is not None and not done.resolved else "ok")
    raise see_other(f"/console/qa/kb/entries/{saved.entry.id}")


@require_staff(StaffLevel.admin)
async def delete(request: web.Request) -> web.Response:
    entry_id = request.match_info["entry_id"]
    form = await Form.read(request, "base", "confirm")
    store, base = store_of(request), form.values["base"]
    back = see_other(f"/console/qa/kb/entries/{entry_id}")
    if form.values["confirm"] != "yes":
        await flash(request, "请先勾选“确认删除”再删除条目", "error")
        raise back
    try:
        removed = await asyncio.to_thread(store.delete, entry_id, base)
    except KbStoreError as exc:
        await flash(request, "未删除：" + "；".join(exc.problems), "error")
        raise back from None
    done = await publish(request, store, removed, "qa.kb.delete")
    await flash(request, f"已删除条目「{removed.entry.title}」（{removed.file}），已通知所有服务换用"
                         f"（第 {done.generation} 版），约 10 秒内生效。")
    raise see_other("/console/qa/kb")


async def reload_everywhere(request: web.Request, directory: str | None) -> int:
    """What the reload page and the reload API do: validate the knowledge base at `directory` (None: the
    bundled one), bump the generation every server watches, audit it. Raises kb_roots.OutsideRoot (not under
    an allowed root), KnowledgeBaseError or OSError."""
    directory = kb_roots.checked(directory, state_of(request).services.settings)
    user = current(request)
    generation = await service.request_reload(db(request), directory, f"staff:{user.staff.username}", user.now)
    await audit(db(request), user, "qa.reload", f"知识库第 {generation} 版", request)
    return generation


@require_staff(StaffLevel.admin)
async def validate(request: web.Request) -> web.Response:
    store = store_of(request)
    try:
        kb = await asyncio.to_thread(store.validate)
    except KnowledgeBaseError as exc:
        await flash(request, f"{source_label(store.source, store)} 有 {len(exc.problems)} 处问题："
                    + "；".join(exc.problems[:10]), "error")
    else:
        files = len({e.file for e in kb.entries})
        await flash(request, f"{source_label(store.source, store)} 校验通过：{len(kb)} 个条目，{files} 个文件。")
    raise see_other("/console/qa/kb")


def register(registry) -> None:
    registry.labels({"qa.kb.add": "新增知识库条目", "qa.kb.edit": "修改知识库条目", "qa.kb.delete": "删除知识库条目"})
    registry.page("GET", "/qa/kb", kb_page)
    registry.page("GET", "/qa/kb/new", new_page)
    registry.page("GET", "/qa/kb/entries/{entry_id}", entry_page)
    registry.page("GET", "/qa/kb/entries/{entry_id}/edit", edit_page)
    registry.page("POST", "/qa/kb/save", save)
    registry.page("POST", "/qa/kb/entries/{entry_id}/delete", delete)
    registry.page("POST", "/qa/kb/validate", validate)
