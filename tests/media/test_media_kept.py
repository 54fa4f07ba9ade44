"""Media that are kept: a complaint's photo is downloaded with `media/get` by the sweep and stored; faults are
retried and then shown on the ticket (never lost silently); WeChat's expiry (40007) fails at once; files are
served only to staff who may see the ticket, and to the resident through a signed, expiring link; erasure
deletes the resident's files and keeps staff evidence."""
from __future__ import annotations

import io
import os
import stat
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from handlers.privacy.erasure import erase_resident
from handlers.tickets import media
from storage.media_models import TicketMedia
from storage.models import Resident
from storage.ticket_models import TicketEvent
from tests.console.conftest import csrf_in
from tests.media.conftest import JPEG, MP4, PNG, complaint, put


async def rows(world, ticket_id: int) -> list[TicketMedia]:
    async with world.services.db.reading() as session:
        found = list((await session.scalars(select(TicketMedia).where(TicketMedia.ticket_id == ticket_id)
                                            .order_by(TicketMedia.id))).all())
        session.expunge_all()
        return found


def test_rules_of_what_is_kept():
    assert media.refusal("image", "image/jpeg", 1000) is None
    assert "类型" in media.refusal("image", "text/html", 10)
    assert "应为语音" in media.refusal("voice", "image/png", 10)
    assert "10 MB" in media.refusal("image", "image/png", 10 * 1024 * 1024 + 1)
    assert "2 MB" in media.refusal("voice", "audio/amr", 2 * 1024 * 1024 + 1)
    assert media.refusal("image", "image/png", 0) == "文件是空的"
    assert [media.retry_delay(n) for n in (1, 2, 3)] == [30, 60, 120] and media.retry_delay(40) == 3600


async def test_photo_voice_and_video_are_downloaded_stored_and_served_to_staff(world, control, tmp_path):
    photo = await put(control, "image", JPEG, "image/jpeg")
    video = await put(control, "video", MP4, "video/mp4")
    ticket = await complaint(world, [{"media_id": photo, "pic_url": "http://pic.example/1.jpg"},
                                     {"media_id": "vMedia_0042", "pic_url": "", "kind": "voice", "format": "amr"},
                                     {"media_id": video, "pic_url": "", "kind": "video"}])
    assert [r.status for r in await rows(world, ticket.id)] == ["pending"] * 3
    counts = await media.sweep(world.services, world.clock())
    assert counts["stored"] == 3
    kept = await rows(world, ticket.id)
    assert [(r.status, r.kind, r.content_type, r.media_id) for r in kept] == [
        ("stored", "image", "image/jpeg", None), ("stored", "voice", "audio/amr", None),
        ("stored", "video", "video/mp4", None)]
    path = Path(tmp_path / "media" / kept[0].key)
    assert path.read_bytes() == JPEG and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert await media.sweep(world.services, world.clock()) == {"stored": 0, "retried": 0, "failed": 0, "purged": 0}

    await world.login("yijing")
    page = await (await world.client.get(f"/console/tickets/{ticket.id}")).text()
    assert f'/console/tickets/{ticket.id}/media/{kept[0].id}' in page and "投诉时居民发送" in page
    assert f'action="/console/tickets/{ticket.id}/media" enctype="multipart/form-data"' in page  # staff upload
    resp = await world.client.get(f"/console/tickets/{ticket.id}/media/{kept[0].id}")
    assert resp.status == 200 and await resp.read() == JPEG
    assert resp.headers["Content-Type"] == "image/jpeg" and resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Disposition"].startswith("inline;")
    voice = await world.client.get(f"/console/tickets/{ticket.id}/media/{kept[1].id}")
    assert voice.headers["Content-Type"] == "audio/amr" and voice.headers["Content-Disposition"].startswith("attachment")
    api = await (await world.client.get(f"/api/v1/tickets/{ticket.id}", headers=world.bearer("yijing"))).json()
    assert [m["status"] for m in api["media"]] == ["stored"] * 3


async def test_media_urls_refuse_staff_outside_the_jurisdiction_and_strangers(world, control, aiohttp_client):
    photo = await put(control, "image", JPEG, "image/jpeg")
    ticket = await complaint(world, [{"media_id": photo, "pic_url": ""}])
    other = await complaint(world, [{"media_id": await put(control, "image", PNG, "image/png"), "pic_url": ""}],
                            who="LS")
    await media.sweep(world.services, world.clock())
    [mine], [theirs] = await rows(world, ticket.id), await rows(world, other.id)
    url = f"/console/tickets/{ticket.id}/media/{mine.id}"
    anonymous = await world.client.get(url, allow_redirects=False)
    assert anonymous.status in (302, 303, 401) and await anonymous.read() != JPEG
    await world.login("pingjiang1")  # another community's staff: the ticket does not exist for them
    assert (await world.client.get(url)).status == 404
    world.client.session.cookie_jar.clear()
    await world.login("yijing")
    assert (await world.client.get(url)).status == 200
    assert (await world.client.get(f"/console/tickets/{ticket.id}/media/{theirs.id}")).status == 404  # not its file
    assert (await world.client.get(f"/console/tickets/{other.id}/media/{theirs.id}")).status == 404  # not visible
    assert (await world.client.get(f"/console/tickets/{ticket.id}/media/abc")).status == 404
    assert (await world.client.get(f"/console/tickets/{ticket.id}/media/999999999999999999")).status == 404
    assert (await world.client.get("/m/not-a-token")).status == 404


async def test_a_failing_download_is_retried_then_shown_on_the_ticket(world, control):
    await control.post("/sandbox/faults", json={"endpoint": "media/get", "errcode": -1})
    photo = await put(control, "image", JPEG, "image/jpeg")
    ticket = await complaint(world, [{"media_id": photo, "pic_url": ""}])
    now = world.clock()
    assert (await media.sweep(world.services, now))["retried"] == 1
    [row] = await rows(world, ticket.id)
    assert row.status == "pending" and row.attempts == 1 and row.next_try_at == now + timedelta(seconds=30)
    assert (await media.sweep(world.services, now))["retried"] == 0  # not due yet
    assert (await media.sweep(world.services, now + timedelta(seconds=31)))["retried"] == 1
    assert (await media.sweep(world.services, now + timedelta(seconds=200)))["failed"] == 1  # 3rd of 3 attempts
    [row] = await rows(world, ticket.id)
    assert row.status == "failed" and row.attempts == 3 and row.media_id == photo
    async with world.services.db.reading() as session:
        events = [(e.text, e.public) for e in (await session.scalars(select(TicketEvent).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "media_failed"))).all()]
    assert len(events) == 1 and "照片下载失败（已尝试 3 次" in events[0][0] and not events[0][1]
    await world.login("yijing")
    page = await (await world.client.get(f"/console/tickets/{ticket.id}")).text()
    assert "下载失败" in page and "请联系居民重新发送" in page and "重试下载" in page
    csrf = csrf_in(page)
    await control.delete("/sandbox/faults")  # WeChat is back
    retry = await world.client.post(f"/console/tickets/{ticket.id}/media/{row.id}/retry", data={"_csrf": csrf},
                                    allow_redirects=False)
    assert retry.status == 303
    assert (await media.sweep(world.services, now + timedelta(seconds=300)))["stored"] == 1


async def test_a_file_wechat_no_longer_has_fails_at_once(world, control):
    photo = await put(control, "image", JPEG, "image/jpeg")
    ticket = await complaint(world, [{"media_id": photo, "pic_url": ""}])
    await control.post("/sandbox/clock", json={"advance": 3 * 24 * 3600})  # WeChat deleted it
    assert (await media.sweep(world.services, world.clock()))["failed"] == 1
    [row] = await rows(world, ticket.id)
    assert row.status == "failed" and row.attempts == 1 and "40007" in row.last_error


async def test_the_sandbox_keeps_wechats_limits(control):
    too_big = await control.post("/sandbox/media?type=voice", data=b"#!AMR\n" + bytes(2 * 1024 * 1024),
                                 headers={"Content-Type": "audio/amr"})
    assert (await too_big.json())["errcode"] == 40006
    wrong = await control.post("/sandbox/media?type=image", data=b"<html>", headers={"Content-Type": "text/html"})
    assert (await wrong.json())["errcode"] == 40004


async def test_the_resident_gets_a_signed_expiring_link_and_erasure_deletes_their_files(world, control, tmp_path):
    photo = await put(control, "image", JPEG, "image/jpeg")
    ticket = await complaint(world, [{"media_id": photo, "pic_url": ""}])
    await media.sweep(world.services, world.clock())
    [row] = await rows(world, ticket.id)
    settings, now = world.services.settings, world.clock()
    token = media.link_token(settings, row.id, ticket.resident_ref, now + timedelta(hours=1))
    resp = await world.client.get(f"/m/{token}")
    assert resp.status == 200 and await resp.read() == JPEG and resp.headers["X-Content-Type-Options"] == "nosniff"
    assert (await world.client.get(f"/m/{token[:-2]}xx")).status == 404  # tampered
    stale = media.link_token(settings, row.id, ticket.resident_ref, now - timedelta(seconds=1))
    assert (await world.client.get(f"/m/{stale}")).status == 404  # expired
    someone = media.link_token(settings, row.id, "someone-else", now + timedelta(hours=1))
    assert (await world.client.get(f"/m/{someone}")).status == 404

    # staff evidence on the same ticket is kept when the resident erases their data
    csrf = await world.login("yijing")
    up = await world.client.post(f"/console/tickets/{ticket.id}/media", data={"_csrf": csrf, "file": io.BytesIO(PNG)},
                                 allow_redirects=False)
    assert up.status == 303
    refused = await world.client.post(f"/console/tickets/{ticket.id}/media",
                                      data={"_csrf": csrf, "file": io.BytesIO(b"<script>alert(1)</script>")})
    assert "没有上传" in await refused.text()
    resident_file, staff_file = await rows(world, ticket.id)
    assert staff_file.source == "staff" and staff_file.content_type == "image/png"
    async with world.services.db.transaction() as session:
        await erase_resident(session, await session.get(Resident, world.resident["YJ"]), now)
    assert (await world.client.get(f"/m/{token}")).status == 404
    assert (await media.sweep(world.services, now))["purged"] == 1
    resident_file, staff_file = await rows(world, ticket.id)
    assert resident_file.status == "erased" and resident_file.key is None
    assert not list((tmp_path / "media").rglob("*.jpg"))
    assert staff_file.status == "stored"
    assert (await world.client.get(f"/console/tickets/{ticket.id}/media/{staff_file.id}")).status == 200
