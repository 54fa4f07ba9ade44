"""Media fixtures: the WeChat sandbox on loopback (its `media/get`), a console world whose WeChat client points at
it and whose media go to a temporary directory, and helpers to put a file in the sandbox and file a complaint
carrying it."""
from __future__ import annotations

import random

import pytest

from bot.sandbox import create_sandbox_app
from bot.settings import Settings
from handlers import tickets
from handlers.tickets import service
from storage.models import Resident
from tests.console.conftest import build_world

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(400)


@pytest.fixture
async def sandbox(aiohttp_server):
    s = Settings()
    return await aiohttp_server(create_sandbox_app(s.wechat_appid, s.wechat_secret, rng=random.Random(5)))


@pytest.fixture
async def control(aiohttp_client, sandbox):
    return await aiohttp_client(sandbox)


@pytest.fixture
def api_base(sandbox) -> str:
    return str(sandbox.make_url("/")).rstrip("/")


@pytest.fixture
async def world(aiohttp_client, db_url, api_base, tmp_path):
    return await build_world(aiohttp_client, db_url, plugins=[tickets.console], wechat_api_base=api_base,
                             media_dir=str(tmp_path / "media"), media_attempts=3, http_timeout=0.5,
                             wechat_retry_attempts=1)


async def put(control, kind: str, data: bytes, content_type: str) -> str:
    resp = await control.post(f"/sandbox/media?type={kind}", data=data, headers={"Content-Type": content_type})
    body = await resp.json()
    assert "media_id" in body, body
    return body["media_id"]


async def complaint(world, evidence: list[dict], who: str = "YJ"):
    async with world.services.db.transaction() as session:
        resident = await session.get(Resident, world.resident[who])
        return await service.file_ticket(session, world.services, resident, service.Filing(
            "repair", "3号楼楼道灯坏了三天了", photos=evidence), world.clock())
