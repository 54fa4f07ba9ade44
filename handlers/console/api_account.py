"""One's own API tokens through the API (what 我的账号 shows): list them, revoke one. Any staff, own tokens only."""
from __future__ import annotations

from aiohttp import web

from handlers.console.api import json_response
from handlers.console.guard import current, db, require_staff
from handlers.console.pages_account import revoke_own_token
from storage.console_models import ApiToken
from storage.repositories import staff as staff_repo


def token_json(token: ApiToken, request: web.Request) -> dict:
    user = current(request)
    return {"id": token.id, "prefix": token.prefix, "label": token.label, "created_at": token.created_at,
            "last_used_at": token.last_used_at, "expires_at": token.expires_at, "revoked_at": token.revoked_at,
            "status": staff_repo.token_status(token, user.now), "current": token.id == user.token_id}


@require_staff()
async def my_tokens(request: web.Request) -> web.Response:
    tokens = await staff_repo.list_api_tokens(db(request), current(request).staff.id)
    return json_response({"items": [token_json(t, request) for t in tokens]})


@require_staff()
async def revoke_my_token(request: web.Request) -> web.Response:
    token_id = await revoke_own_token(request)
    token = await db(request).get(ApiToken, token_id)
    return json_response(token_json(token, request))


def register(registry) -> None:
    registry.api("GET", "/me/tokens", my_tokens)
    registry.api("POST", "/me/tokens/{token_id}/revoke", revoke_my_token)
