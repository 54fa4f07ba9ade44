"""Issue 15 low items: `/metrics`, `/healthz` and `/readyz` are for this machine or the metrics token; the pid is not
shown to anyone else; `X-Request-Id` is echoed only when it is a short safe token."""
from __future__ import annotations

import re

import pytest

from bot.logs import request_id_from
from tests.support import BASE

TOKEN = "m" * 24
ROUTES = ("/healthz", "/readyz", "/metrics")


async def _get(bot, path, headers=None):
    async with bot.sim.session.get(bot.server.make_url(path), headers=headers or {}) as resp:
        return resp.status, await resp.text()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_operator_endpoints_answer_this_machine_only(start_bot, settings):
    bot = await start_bot(settings, demo=False)
    for path in ROUTES:
        assert (await _get(bot, path))[0] == 200, path
        # relayed by a proxy (the shipped nginx sets these): somebody else's request
        for header in ({"X-Forwarded-For": "203.0.113.9"}, {"X-Real-IP": "203.0.113.9"},
                       {"Forwarded": "for=203.0.113.9"}):
            status, text = await _get(bot, path, header)
            assert status == 403 and "LINLI_METRICS_TOKEN" in text, (path, header)
    status, text = await _get(bot, "/healthz")
    assert '"pid"' in text  # the local supervisor tells its workers apart by it


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_metrics_token_opens_them_without_the_pid(start_bot, settings):
    bot = await start_bot(settings.with_(metrics_token=TOKEN), demo=False)
    proxied = {"X-Forwarded-For": "203.0.113.9"}
    for path in ROUTES:
        assert (await _get(bot, path, proxied))[0] == 403
        assert (await _get(bot, path, {**proxied, "Authorization": "Bearer wrong-token-wrong-token"}))[0] == 403
        assert (await _get(bot, path, {**proxied, "Authorization": f"Bearer {TOKEN}"}))[0] == 200, path
    status, text = await _get(bot, "/healthz", {**proxied, "Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and "pid" not in text and '"worker"' in text


def test_the_token_setting_is_declared():
    assert BASE.with_env({"LINLI_METRICS_TOKEN": TOKEN}).metrics_token == TOKEN
    with pytest.raises(ValueError):
        BASE.with_env({"LINLI_METRICS_TOKEN": "short"})


def test_request_ids_are_short_safe_tokens():
    assert request_id_from("4f1c2a9b0d8e7f6a5b4c3d2e1f0a9b8c") == "4f1c2a9b0d8e7f6a5b4c3d2e1f0a9b8c"
    assert request_id_from("req-1.2_3") == "req-1.2_3"
    for hostile in ("x" * 65, "a b", "a\r\nSet-Cookie: x=1", "<script>", "\u4e2d", "", None, 'a"b'):
        fresh = request_id_from(hostile)
        assert fresh != hostile and re.fullmatch(r"[0-9a-f]{12}", fresh)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_hostile_request_id_is_replaced(start_bot, settings):
    bot = await start_bot(settings, demo=False)
    async with bot.sim.session.get(bot.server.make_url("/healthz"), headers={"X-Request-Id": "<b>" + "x" * 300}) as r:
        assert re.fullmatch(r"[0-9a-f]{12}", r.headers["X-Request-Id"])
    async with bot.sim.session.get(bot.server.make_url("/healthz"), headers={"X-Request-Id": "nginx-id-42"}) as r:
        assert r.headers["X-Request-Id"] == "nginx-id-42"
