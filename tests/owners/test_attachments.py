"""Attachments of an owners' motion on SQLite and PostgreSQL: staff in the jurisdiction upload PDF/JPEG/PNG
(type by the first bytes) before the motion opens, list and download them; others get 404; after the opening
nothing more is attached; an owner who may vote gets a signed link in the 「表决」 message, which opens the file
for them only (not tampered, not expired, not another resident, not a ticket-media token)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from handlers.media_links import link_token
from handlers.owners import attachments
from handlers.owners.attachments import public_route
from handlers.owners.console import console
from storage.console_models import AuditEntry
from storage.media_store import LocalStore, sniffed_type
from storage.models import Estate
from storage.owner_models import Motion, MotionAttachment, OwnerLink
from storage.repositories import owners as repo
from tests.console.conftest import NOW, build_world
from tests.owners.conftest import ROSTER, add_owner, load_roster, new_motion
from tests.owners.support import ESTATE

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def test_sniffed_type_and_refusals():
    assert sniffed_type(PDF) == "application/pdf" and sniffed_type(PNG) == "image/png"
    assert sniffed_type(b"<html>%PDF-") is None
    motion = Motion(status="scheduled", opens_at=NOW + timedelta(days=1))
    assert attachments.refusal(motion, "application/pdf", 100, 0, NOW) is None
    assert "PDF" in attachments.refusal(motion, "image/gif", 100, 0, NOW)
    assert "MB" in attachments.refusal(motion, "application/pdf", attachments.MAX_BYTES + 1, 0, NOW)
    assert "空" in attachments.refusal(motion, "application/pdf", 0, 0, NOW)
    assert "最多" in attachments.refusal(motion, "application/pdf", 1, attachments.MAX_FILES, NOW)
    assert "已经开始" in attachments.refusal(motion, "application/pdf", 1, 0, NOW + timedelta(days=1))
    opened = Motion(status="open", opens_at=NOW + timedelta(days=1))
    assert "已经开始" in attachments.refusal(opened, "application/pdf", 1, 0, NOW)


@pytest.fixture
async def world(aiohttp_client, db_url, tmp_path):
    world = await build_world(aiohttp_client, db_url, plugins=[console])
    world.services.extras["media_store"] = LocalStore(str(tmp_path / "media"))
    await load_roster(world.services, ROSTER)
    async with world.services.db.transaction() as session:
        world.estate_id = await session.scalar(select(Estate.id).where(Estate.code == ESTATE))
    return world


def upload_form(csrf: str, data: bytes, filename: str, name: str = "", purpose: str = "text") -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("_csrf", csrf)
    form.add_field("name", name)
    form.add_field("purpose", purpose)
    form.add_field("file", data, filename=filename, content_type="application/octet-stream")
    return form


async def test_staff_attach_list_and_download_within_the_jurisdiction(world):
    body = {"estate_id": world.estate_id, "title": "使用维修资金更换2号楼电梯", "body": "全文见附件。",
            "kind": "ordinary", "opens_at": "2026-12-05T09:00", "closes_at": "2026-12-12T18:00"}
    resp = await world.client.post("/api/v1/owners/motions", json=body, headers=world.bearer("yijing"))
    mid = (await resp.json())["id"]
    csrf = await world.login("yijing")
    url = f"/console/owners/motions/{mid}/attachments"
    resp = await world.client.post(url, data=upload_form(csrf, PDF, "全文.pdf", "表决事项全文"), allow_redirects=False)
    assert resp.status == 303
    resp = await world.client.post(url, data=upload_form(csrf, PNG, "quote.png", purpose="quote"),
                                   allow_redirects=False)
    assert resp.status == 303
    # a text file named .pdf is refused by its first bytes
    page = await world.client.post(url, data=upload_form(csrf, b"hello, not a pdf", "fake.pdf"))
    assert page.status == 200 and "只能上传 PDF、JPG 或 PNG" in await page.text()
    async with world.services.db.transaction() as session:
        rows = await repo.attachments_of(session, mid)
        audits = list(await session.scalars(select(AuditEntry.target).where(
            AuditEntry.action == "owners.attachment")))
    assert [(a.name, a.purpose, a.content_type, a.size) for a in rows] == [
        ("表决事项全文", "text", "application/pdf", len(PDF)), ("quote.png", "quote", "image/png", len(PNG))]
    assert len(audits) == 2
    listed = await world.client.get(f"/api/v1/owners/motions/{mid}/attachments", headers=world.bearer("yijing"))
    assert [i["name"] for i in (await listed.json())["items"]] == ["表决事项全文", "quote.png"]
    assert (await world.client.get(f"/api/v1/owners/motions/{mid}/attachments",
                                   headers=world.bearer("pingjiang"))).status == 404
    html = await (await world.client.get(f"/console/owners/motions/{mid}")).text()
    assert "表决事项全文" in html and "维修资金报价" in html and f"{url}/{rows[0].id}" in html
    got = await world.client.get(f"{url}/{rows[0].id}?download=1")
    assert got.status == 200 and await got.read() == PDF
    assert got.headers["Content-Type"] == "application/pdf" and got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert (await world.client.get(f"{url}/{rows[0].id + 100}")).status == 404
    # another motion's id with this attachment: 404
    other = await world.client.post("/api/v1/owners/motions", json=body, headers=world.bearer("yijing"))
    assert (await world.client.get(f"/console/owners/motions/{(await other.json())['id']}/attachments/"
                                   f"{rows[0].id}")).status == 404
    # staff outside the jurisdiction: 404 for the file and the upload
    world.client.session.cookie_jar.clear()
    csrf_out = await world.login("pingjiang")
    assert (await world.client.get(f"{url}/{rows[0].id}")).status == 404
    assert (await world.client.post(url, data=upload_form(csrf_out, PDF, "x.pdf"),
                                    allow_redirects=False)).status == 404
    # once open: no more attachments
    world.client.session.cookie_jar.clear()
    world.clock.state["now"] = datetime(2026, 12, 5, 2, 0, tzinfo=timezone.utc)  # 10:00, opened at 09:00
    csrf = await world.login("yijing")
    page = await world.client.post(url, data=upload_form(csrf, PDF, "late.pdf"))
    html = await page.text()
    assert "表决已经开始" in html, re.findall(r"flash[^<]*<[^<]*", html)
    async with world.services.db.transaction() as session:
        assert len(await repo.attachments_of(session, mid)) == 2


async def test_owner_gets_a_signed_link_in_the_ballot_message(owners_bot, aiohttp_client, tmp_path):
    from tests.owners.test_votes import verify_by_phone

    services = owners_bot.services
    store = services.extras["media_store"] = LocalStore(str(tmp_path / "media"))
    await load_roster(services)
    mid = await new_motion(services)
    await store.put("202612/" + "a" * 32 + ".pdf", PDF, "application/pdf")
    async with services.db.transaction() as session:
        row = repo.add_attachment(session, mid, purpose="text", name="表决事项全文", content_type="application/pdf",
                                  size=len(PDF), key="202612/" + "a" * 32 + ".pdf", uploaded_by="staff:yijing",
                                  now=NOW)
        await session.flush()
        att_id = row.id
    zhang = await add_owner(services, "1", "1-101")
    stranger = await add_owner(services, "2", "202")  # bound, not verified
    await verify_by_phone(owners_bot, zhang, "13800000001")
    text = await owners_bot.say(zhang.openid, "表决")
    assert "附件（72 小时内有效）" in text and "表决事项全文" in text
    token = re.search(r"/m/a/([A-Za-z0-9_-]+)", text).group(1)
    app = web.Application()
    app.router.add_get("/m/a/{token}", public_route(services))
    client = await aiohttp_client(app)
    got = await client.get(f"/m/a/{token}")
    assert got.status == 200 and await got.read() == PDF and got.headers["Content-Type"] == "application/pdf"
    assert (await client.get(f"/m/a/{token[:-2]}xx")).status == 404  # tampered
    now = services.clock()
    stale = link_token(services.settings, att_id, zhang.ref, now - timedelta(seconds=1), purpose="owners-attachment")
    assert (await client.get(f"/m/a/{stale}")).status == 404  # expired
    someone = link_token(services.settings, att_id, stranger.ref, now + timedelta(hours=1),
                         purpose="owners-attachment")
    assert (await client.get(f"/m/a/{someone}")).status == 404  # not verified for a room of the motion
    ticket_token = link_token(services.settings, att_id, zhang.ref, now + timedelta(hours=1))
    assert (await client.get(f"/m/a/{ticket_token}")).status == 404  # a ticket-media token opens nothing here
    async with services.db.transaction() as session:  # the owner's link gone (erased): the link stops working
        for link in await session.scalars(select(OwnerLink).where(OwnerLink.resident_id == zhang.id)):
            await session.delete(link)
        assert await session.get(MotionAttachment, att_id) is not None
    assert (await client.get(f"/m/a/{token}")).status == 404
