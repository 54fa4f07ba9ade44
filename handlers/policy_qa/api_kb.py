"""The knowledge base as JSON under /api/v1/qa/kb (documented in handlers/policy_qa/openapi.yaml): the same reads
for every staff level and the same writes for admins as the pages (handlers/policy_qa/console_kb.py), through the
same `KbStore` edits (staged, validated in full, refused when the entry changed since the client read its
`version`) and the same publishing (every server reloads, audit entry, unanswered question resolved).

    GET    /api/v1/qa/kb/entries[?q=]                  the entries residents are answered from now
    GET    /api/v1/qa/kb/entries/{entry_id}            one entry with its version and ratings
    POST   /api/v1/qa/kb/entries                       add an entry (optionally from an unanswered question)
    PUT    /api/v1/qa/kb/entries/{entry_id}            replace an entry (`version` as read)
    DELETE /api/v1/qa/kb/entries/{entry_id}?version=   remove an entry
    POST   /api/v1/qa/kb/validate                      validate the knowledge base, or a draft entry in it
    POST   /api/v1/qa/kb/reload                        what the reload page does

Errors: 400 unreadable JSON, 404 unknown entry, 409 the entry changed (or a new id exists), 422 invalid fields
(`errors` by field, in Chinese) or a knowledge base that does not validate with the change (`problems`).
"""
from __future__ import annotations

import asyncio

from aiohttp import web

from handlers.console.api import json_error, json_response, read_json
from handlers.console.guard import require_staff
from handlers.policy_qa import kb_roots, kb_store
from handlers.policy_qa.console_kb import (
    Published,
    gap_of,
    live_entries,
    matches,
    publish,
    reload_everywhere,
    requested_entry,
    source_label,
    store_of,
)
from handlers.policy_qa.kb_store import Conflict, Draft, KbStore, KbStoreError, Missing, Saved
from knowledge import Entry, KnowledgeBase, KnowledgeBaseError
from storage.models import StaffLevel
from storage.policy_qa_models import KbGap

ADMIN = StaffLevel.admin
FIELDS = ("title", "questions", "keywords", "answer", "source")
VERSION_NEEDED = "请提供读取条目时得到的 version（防止覆盖他人在此期间的修改）"


def entry_json(entry: Entry, *, full: bool = False) -> dict:
    data = {"id": entry.id, "title": entry.title, "file": entry.file, "questions": list(entry.questions),
            "keywords": list(entry.keywords), "source": entry.source}
    if full:
        data["answer"] = entry.answer
    return data


def _detail(entry: Entry, version: str | None) -> dict:
    return {**entry_json(entry, full=True), "version": version}


def _invalid(errors: dict[str, str]) -> web.Response:
    return json_error(422, "；".join(errors.values()), errors=errors)


def _refused(exc: KbStoreError) -> web.Response:
    """A KbStore refusal: 404 the entry is gone, 409 it changed, 422 the knowledge base would not validate."""
    if isinstance(exc, Missing):
        return json_error(404, exc.problems[0])
    if isinstance(exc, Conflict):
        return json_response({"error": "conflict", "message": exc.problems[0], "problems": exc.problems}, 409)
    return json_error(422, exc.problems[0].rstrip("："), problems=exc.problems)


async def _body(request: web.Request) -> dict:
    return await read_json(request) if request.body_exists else {}


async def _submitted(request: web.Request, body: dict, entry_id: str):
    """The draft of an add or a replace and the unanswered question it comes from (`gap`: its id), or the
    problems by field: (draft | None, gap | None, errors)."""
    draft, errors = kb_store.parse_draft({k: body.get(k) for k in FIELDS}, entry_id)
    raw, gap = body.get("gap"), None
    if isinstance(raw, bool) or not isinstance(raw, (int, str, type(None))):
        errors = {**errors, "gap": "gap 应为待补充问题的编号"}
    elif raw is not None and str(raw).strip():
        try:
            gap = await gap_of(request, str(raw).strip())
        except web.HTTPNotFound:
            errors = {**errors, "gap": f"没有编号为 {raw} 的待补充问题"}
    return draft, gap, errors


async def _exists(store: KbStore, entry_id: str) -> bool:
    try:
        return await asyncio.to_thread(store.find, entry_id) is not None
    except KnowledgeBaseError:  # broken files: the edit itself reports them (422)
        return True


def _version(body: dict, request: web.Request | None = None) -> str | None:
    raw = body.get("version", request.query.get("version") if request is not None else None)
    return raw.strip() if isinstance(raw, str) and raw.strip() else None


def _written(saved: Saved, done: Published, gap: KbGap | None) -> dict:
    data = {**_detail(saved.entry, kb_store.fingerprint(saved.entry)), "generation": done.generation, "gap": None}
    if gap is not None and done.tried is not None:
        best = done.tried.best
        data["gap"] = {"id": gap.id, "question": gap.example, "resolved": done.resolved,
                       "outcome": done.tried.outcome, "best": best.id if best else None}
    return data


def _tries(kb: KnowledgeBase, draft: Entry) -> list[dict]:
    """Each phrasing of `draft` asked of the knowledge base it would be part of."""
    tries = []
    for question in draft.phrasings():
        answer = kb.ask(question)
        tries.append({"question": question, "outcome": answer.outcome,
                      "best": answer.best.id if answer.best else None})
    return tries


@require_staff()
async def list_entries(request: web.Request) -> web.Response:
    store = store_of(request)
    entries, kb, pending = await live_entries(request, store)
    q = request.query.get("q", "").strip()[:50]
    shown = [e for e in entries if matches(e, q)] if q else list(entries)
    return json_response({"entries": [entry_json(e) for e in shown], "total": len(entries), "pending": pending,
                          "source": source_label(kb.directory if kb else store.source, store)})


@require_staff()
async def get_entry(request: web.Request) -> web.Response:
    view = await requested_entry(request)
    rating = view.rating
    return json_response({**_detail(view.entry, view.version), "pending": view.changed,
                          "ratings": {"useful": rating.useful if rating else 0,
                                      "useless": rating.useless if rating else 0}})


async def _write(request: web.Request, draft: Draft, *, new: bool, base: str | None, gap: KbGap | None,
                 status: int) -> web.Response:
    store = store_of(request)
    try:
        saved = await asyncio.to_thread(store.save, draft, new=new, base=base)
    except KbStoreError as exc:
        return _refused(exc)
    done = await publish(request, store, saved, "qa.kb.add" if new else "qa.kb.edit", gap)
    return json_response(_written(saved, done, gap), status)


@require_staff(ADMIN)
async def add_entry(request: web.Request) -> web.Response:
    draft, gap, errors = await _submitted(request, await read_json(request), "")
    if errors:
        return _invalid(errors)
    return await _write(request, draft, new=True, base=None, gap=gap, status=201)


@require_staff(ADMIN)
async def replace_entry(request: web.Request) -> web.Response:
    entry_id = request.match_info["entry_id"]
    body = await read_json(request)
    if not await _exists(store_of(request), entry_id):
        raise web.HTTPNotFound()
    draft, gap, errors = await _submitted(request, body, entry_id)
    base = _version(body)
    if base is None:
        errors = {**errors, "version": VERSION_NEEDED}
    if errors:
        return _invalid(errors)
    return await _write(request, draft, new=False, base=base, gap=gap, status=200)


@require_staff(ADMIN)
async def delete_entry(request: web.Request) -> web.Response:
    entry_id = request.match_info["entry_id"]
    body = await _body(request)
    store = store_of(request)
    if not await _exists(store, entry_id):
        raise web.HTTPNotFound()
    base = _version(body, request)
    if base is None:
        return _invalid({"version": VERSION_NEEDED})
    try:
        removed = await asyncio.to_thread(store.delete, entry_id, base)
    except KbStoreError as exc:
        return _refused(exc)
    done = await publish(request, store, removed, "qa.kb.delete")
    return json_response({"deleted": entry_json(removed.entry), "file": removed.file,
                          "generation": done.generation})


@require_staff(ADMIN)
async def validate(request: web.Request) -> web.Response:
    """Without a draft: the knowledge base edits apply to, `ok` and its problems (200 either way: the request
    was fine). With `{"entry": {...}}` (and its `id` and `version` for an edit): that draft staged in it and
    validated exactly as saving would, nothing written; an invalid draft is 422."""
    body, store = await _body(request), store_of(request)
    label = source_label(store.source, store)
    raw = body.get("entry")
    if raw is None:
        try:
            kb = await asyncio.to_thread(store.validate)
        except KnowledgeBaseError as exc:
            return json_response({"ok": False, "source": label, "entries": 0, "files": 0, "problems": exc.problems})
        return json_response({"ok": True, "source": label, "entries": len(kb),
                              "files": len({e.file for e in kb.entries}), "problems": []})
    if not isinstance(raw, dict):
        return _invalid({"entry": "entry 应为条目对象（title、questions、keywords、answer、source）"})
    entry_id = raw.get("id") or ""
    if not isinstance(entry_id, str):
        return _invalid({"id": "id 应为条目编号"})
    if entry_id and not await _exists(store, entry_id):
        raise web.HTTPNotFound()
    draft, errors = kb_store.parse_draft({k: raw.get(k) for k in FIELDS}, entry_id)
    if errors:
        return _invalid(errors)
    try:
        checked = await asyncio.to_thread(store.save, draft, new=not entry_id, base=_version(body),
                                          dry_run=True)
    except KbStoreError as exc:
        return _refused(exc)
    kb = checked.kb
    return json_response({"ok": True, "source": label, "entries": len(kb), "files": len({e.file for e in kb.entries}),
                          "problems": [], "entry": entry_json(checked.entry, full=True), "file": checked.file,
                          "tries": await asyncio.to_thread(_tries, kb, checked.entry)})


@require_staff(ADMIN)
async def reload(request: web.Request) -> web.Response:
    body = await _body(request)
    directory = body.get("directory")
    if directory is not None and not isinstance(directory, str):
        return _invalid({"directory": "directory 应为知识库目录的路径"})
    directory = (directory or "").strip() or None
    try:
        generation = await reload_everywhere(request, directory)
    except kb_roots.OutsideRoot as exc:
        return json_error(400, str(exc))
    except KnowledgeBaseError as exc:
        return json_error(422, "知识库有问题，未重新加载", problems=exc.problems)
    except OSError as exc:
        return json_error(422, f"无法读取知识库目录：{exc}")
    return json_response({"generation": generation, "directory": directory})


def register(registry) -> None:
    registry.api("GET", "/qa/kb/entries", list_entries)
    registry.api("POST", "/qa/kb/entries", add_entry)
    registry.api("GET", "/qa/kb/entries/{entry_id}", get_entry)
    registry.api("PUT", "/qa/kb/entries/{entry_id}", replace_entry)
    registry.api("DELETE", "/qa/kb/entries/{entry_id}", delete_entry)
    registry.api("POST", "/qa/kb/validate", validate)
    registry.api("POST", "/qa/kb/reload", reload)
