"""Policy Q&A in the staff console: questions residents handed to staff (answer them), what residents ask
that the knowledge base lacks (with counts), answer ratings, and reloading the knowledge base (admins). Browsing and
editing the knowledge base itself: handlers/policy_qa/console_kb.py.

    GET  /api/v1/qa/inquiries?status=open|answered     inquiries inside the jurisdiction
    POST /api/v1/qa/inquiries/{inquiry_id}/answer      {"answer": "..."}: recorded and pushed to the resident
    GET  /api/v1/qa/gaps                               unanswered or ambiguous questions, most asked first

The knowledge base itself (browse, add, edit, delete, validate, reload) as JSON: handlers/policy_qa/api_kb.py.
"""
from __future__ import annotations

from pathlib import Path

from aiohttp import web

from handlers.console.api import json_error, json_response, read_json
from handlers.console.audit import audit
from handlers.console.authz import restrict
from handlers.console.guard import current, db, require_staff
from handlers.console.registry import SLOTS
from handlers.console.render import Form, flash, render, see_other, staff_names_for
from handlers.console.state import state_of
from handlers.console.toolkit import visible
from handlers.policy_qa import api_kb, console_kb, kb_roots, kb_store, service
from knowledge import KnowledgeBaseError
from storage.models import StaffLevel
from storage.policy_qa_models import Inquiry, KbGap
from storage.repositories import policy_qa as repo

HERE = Path(__file__).parent


async def _inquiry(request: web.Request) -> Inquiry:
    return await visible(request, "inquiry_id", lambda session, i: session.get(Inquiry, i),
                         community=lambda inquiry: inquiry.community_id)


def _inquiry_json(i: Inquiry) -> dict:
    return {"id": i.id, "community_id": i.community_id, "resident_ref": i.resident_ref, "question": i.question,
            "status": i.status, "answer": i.answer, "answered_by": i.answered_by, "created_at": i.created_at,
            "answered_at": i.answered_at}


async def _lists(request: web.Request, status: str | None = "open", limit: int = 100):
    scope, session = current(request).scope, db(request)
    inquiries = list(await session.scalars(restrict(repo.inquiries_query(status), scope, Inquiry.community_id)
                                           .limit(limit)))
    gaps = list(await session.scalars(restrict(repo.gaps_query(), scope, KbGap.community_id).limit(limit)))
    return inquiries, gaps


@require_staff()
async def qa_page(request: web.Request) -> web.Response:
    status = request.query.get("status", "open")
    inquiries, gaps = await _lists(request, status if status in ("open", "answered") else "open")
    ratings = await repo.ratings(db(request), 20)
    holder = state_of(request).services.knowledge
    kb = holder.current if holder is not None else None
    kb_dir = kb_store.deployment_dir(state_of(request).services.settings)
    return render(request, "policy_qa/qa.html", title="政策问答", inquiries=inquiries, gaps=gaps, ratings=ratings,
                  showing=status, kb=kb, kb_dir=kb_dir if kb_store.KbStore(kb_dir).initialized else None,
                  staff_names=await staff_names_for(db(request), [i.answered_by for i in inquiries]))


@require_staff()
async def answer_page(request: web.Request) -> web.Response:
    inquiry, user = await _inquiry(request), current(request)
    text = (await Form.read(request, "answer")).get("answer")
    if inquiry.status != "open":
        await flash(request, f"Q{inquiry.id} 已答复过", "error")
    elif not text:
        await flash(request, "答复不能为空", "error")
    else:
        await service.answer_inquiry(db(request), inquiry, text, f"staff:{user.staff.username}", user.now)
        await audit(db(request), user, "qa.answer", f"咨询 Q{inquiry.id}", request, community_id=inquiry.community_id)
        await flash(request, f"已答复 Q{inquiry.id}，答复将推送给居民")
    raise see_other("/console/qa")


@require_staff(StaffLevel.admin)
async def reload_page(request: web.Request) -> web.Response:
    directory = (await Form.read(request, "directory")).get("directory") or None
    try:
        generation = await console_kb.reload_everywhere(request, directory)
    except kb_roots.OutsideRoot as exc:
        return render(request, "error.html", title="不能加载该目录", status=400, message=str(exc))
    except KnowledgeBaseError as exc:
        await flash(request, "知识库有问题，未重新加载：" + "；".join(exc.problems[:5]), "error")
    except OSError as exc:
        await flash(request, f"无法读取知识库目录：{exc}", "error")
    else:
        await flash(request, f"已通知所有服务重新加载知识库（第 {generation} 版），约 10 秒内生效")
    raise see_other("/console/qa")


@require_staff()
async def api_inquiries(request: web.Request) -> web.Response:
    status = request.query.get("status", "open")
    if status not in ("open", "answered"):
        return json_error(400, "status 应为 open 或 answered")
    inquiries, _ = await _lists(request, status, 200)
    return json_response({"inquiries": [_inquiry_json(i) for i in inquiries]})


@require_staff()
async def api_answer(request: web.Request) -> web.Response:
    inquiry, user = await _inquiry(request), current(request)
    body = await read_json(request)
    if inquiry.status != "open":
        return json_error(422, "该咨询已答复")
    try:
        await service.answer_inquiry(db(request), inquiry, str(body.get("answer") or ""),
                                     f"staff:{user.staff.username}", user.now)
    except ValueError as exc:
        return json_error(422, str(exc))
    await audit(db(request), user, "qa.answer", f"咨询 Q{inquiry.id}", request, community_id=inquiry.community_id)
    return json_response(_inquiry_json(inquiry))


@require_staff()
async def api_gaps(request: web.Request) -> web.Response:
    _, gaps = await _lists(request, "open", 200)
    return json_response({"gaps": [{"id": g.id, "question": g.example, "outcome": g.outcome, "count": g.count,
                                    "community_id": g.community_id, "last_asked": g.last_asked} for g in gaps]})


def console(registry) -> None:
    registry.labels({"qa.answer": "答复转人工咨询", "qa.reload": "重新加载知识库"})
    registry.templates(HERE / "templates")
    registry.openapi(HERE / "openapi.yaml")
    registry.nav("政策问答", "/console/qa", order=50)
    registry.page("GET", "/qa", qa_page)
    registry.page("POST", "/qa/inquiries/{inquiry_id}/answer", answer_page)
    registry.page("POST", "/qa/reload", reload_page)
    registry.api("GET", "/qa/inquiries", api_inquiries)
    registry.api("POST", "/qa/inquiries/{inquiry_id}/answer", api_answer)
    registry.api("GET", "/qa/gaps", api_gaps)
    console_kb.register(registry)  # browsing and editing the knowledge base
    api_kb.register(registry)  # the same as JSON: /api/v1/qa/kb/...

    @registry.panel("knowledge", "居民问了、知识库答不好的问题", order=SLOTS["knowledge"], cache_seconds=60)
    async def top_gaps(session, user):
        gaps = list(await session.scalars(restrict(repo.gaps_query(), user.scope, KbGap.community_id).limit(8)))
        open_inquiries = list(await session.scalars(
            restrict(repo.inquiries_query("open"), user.scope, Inquiry.community_id).limit(200)))
        if not gaps and not open_inquiries:
            return None
        return user.fragment("policy_qa/panel.html", gaps=gaps, open_count=len(open_inquiries))

