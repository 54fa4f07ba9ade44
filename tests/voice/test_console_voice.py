"""What staff see of a voice nobody could hear: the complaint's voice evidence on the ticket page."""
from __future__ import annotations

import pytest

from handlers import tickets
from handlers.tickets import service
from storage.models import Resident
from tests.console.conftest import build_world


@pytest.fixture
async def world(aiohttp_client, db_url):
    return await build_world(aiohttp_client, db_url, plugins=[tickets.console])


async def test_ticket_page_lists_voice_evidence_apart_from_photos(world):
    evidence = [{"media_id": "vMedia_0099", "pic_url": "", "kind": "voice", "format": "amr"},
                {"media_id": "pMedia_0001", "pic_url": "http://pic.example/1.jpg"}]
    async with world.services.db.transaction() as session:
        resident = await session.get(Resident, world.resident["YJ"])
        ticket = await service.file_ticket(session, world.services, resident, service.Filing(
            "repair", "（居民用语音描述了问题，请收听语音附件）", photos=evidence), world.clock())
    await world.login("yijing")
    page = await (await world.client.get(f"/console/tickets/{ticket.id}")).text()
    assert "照片与语音" in page and "语音 1（居民发来的语音，未转成文字，需收听；MediaId vMedia_0099）" in page
    assert 'href="http://pic.example/1.jpg"' in page and "照片 2" in page
