"""`WeChatClient.get_media` against the sandbox's `media/get`: the file as binary, errors as WeChat's JSON, one
access_token refresh, no silent success."""
from __future__ import annotations

import pytest

from bot.outbound import WeChatError, WeChatUnavailable
from bot.sandbox.api import VOICE_PAYLOAD


async def test_media_get_returns_the_recording(client, control):
    data, content_type = await client.get_media("vMedia_0001")
    assert data == VOICE_PAYLOAD and data.startswith(b"#!AMR\n") and content_type == "audio/amr"
    stats = await (await control.get("/sandbox/stats")).json()
    assert stats["requests"]["/cgi-bin/media/get"] == 1


async def test_media_get_invalid_media_id_is_wechats_error(client):
    with pytest.raises(WeChatError) as failure:
        await client.get_media("../../etc/passwd")
    assert failure.value.errcode == 40007


async def test_media_get_refreshes_a_rejected_token_once(client, control):
    await control.post("/sandbox/faults", json={"endpoint": "media/get", "errcode": 40001, "count": 1})
    data, _ = await client.get_media("vMedia_0002")
    assert data == VOICE_PAYLOAD
    await control.post("/sandbox/faults", json={"endpoint": "media/get", "errcode": 40001, "count": 2})
    with pytest.raises(WeChatError) as failure:
        await client.get_media("vMedia_0003")
    assert failure.value.errcode == 40001


async def test_media_get_busy_or_too_large_is_unavailable(client, control):
    await control.post("/sandbox/faults", json={"endpoint": "media/get", "errcode": -1, "count": 1})
    with pytest.raises(WeChatUnavailable):
        await client.get_media("vMedia_0004")
    with pytest.raises(WeChatUnavailable, match="超过"):
        await client.get_media("vMedia_0005", max_bytes=100)
