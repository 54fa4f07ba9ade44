"""Staff link their WeChat: by a 6-digit code sent in chat or by scanning a temporary QR code (single use, ten
minutes), unlink from the console or the chat, the admin's list; guesses at codes get nowhere."""
from __future__ import annotations

import re

from sqlalchemy import select

from storage.console_models import AuditEntry
from storage.models import Resident, Staff

CODE = re.compile(r'id="link-code"[^>]*>(\d{6})<')


async def new_code(client, csrf) -> str:
    page = await client.post("/console/account/wechat/code", data={"_csrf": csrf})
    assert page.status == 200
    return CODE.search(await page.text()).group(1)


async def openid_of(loop, username: str) -> str | None:
    return (await loop.staff(username)).openid


async def test_link_by_code_once_then_unlink_by_chat(loop):
    client, csrf = await loop.console("yijing")
    page = await (await client.get("/console/account/wechat")).text()
    assert "未绑定" in page and "生成绑定码" in page
    code = await new_code(client, csrf)
    reply = await loop.bot.say("o_worker", code)
    assert "已绑定工作账号" in reply and "待办" in reply
    assert await openid_of(loop, "yijing") == "o_worker"
    page = await (await client.get("/console/account/wechat")).text()
    assert "已绑定" in page and "解除绑定" in page
    # the same code again, from another WeChat user: refused, the link stays
    assert "绑定码无效或已过期" in await loop.bot.say("o_other", code)
    assert await openid_of(loop, "yijing") == "o_worker"
    assert "已解除" in await loop.bot.say("o_worker", "解绑工作账号")
    assert await openid_of(loop, "yijing") is None
    # a WeChat user with no staff link: the word is not theirs (the ordinary resident answer)
    assert "已解除" not in (await loop.bot.say("o_other", "解绑工作账号") or "")
    async with loop.services.db.transaction() as session:
        actions = list((await session.execute(select(AuditEntry.action))).scalars())
    assert "staff.wechat.code" in actions


async def test_an_expired_code_and_a_replaced_code_are_refused(loop):
    client, csrf = await loop.console("yijing")
    first = await new_code(client, csrf)
    second = await new_code(client, csrf)
    if first != second:
        assert "绑定码无效或已过期" in await loop.bot.say("o_late", first)  # a new code voids the old
    loop.advance(minutes=10, seconds=1)
    assert "绑定码无效或已过期" in await loop.bot.say("o_late", second)
    assert await openid_of(loop, "yijing") is None
    fresh = await new_code(client, csrf)
    assert "已绑定" in await loop.bot.say("o_late", fresh)


async def test_link_by_qr_scan_and_by_subscribe_with_scene(loop):
    client, csrf = await loop.console("youyilu")
    page = await client.post("/console/account/wechat/qr", data={"_csrf": csrf})
    html = await page.text()
    src = re.search(r'<img src="(/console/account/wechat/qr-image[^"]*)"', html).group(1)
    image = await client.get(src)
    assert image.status == 200 and image.content_type.startswith("image/")
    scene = loop.last_qr_scene()
    assert scene.startswith("staff-link:") and len(scene) <= 64
    reply = (await loop.bot.sim.event("o_street", "SCAN", scene)).text
    assert "已绑定工作账号" in reply
    assert await openid_of(loop, "youyilu") == "o_street"
    # the token is single-use
    assert "已失效" in (await loop.bot.sim.event("o_intruder", "SCAN", scene)).text
    assert await openid_of(loop, "youyilu") == "o_street"
    # a new follower scanning: subscribe with qrscene_, linked and following
    client2, csrf2 = await loop.console("hexi")
    assert (await client2.get("/console/account/wechat/qr-image")).status == 200
    scene = loop.last_qr_scene()
    reply = (await loop.bot.sim.event("o_district", "subscribe", "qrscene_" + scene)).text
    assert "已绑定工作账号" in reply
    async with loop.services.db.transaction() as session:
        follower = (await session.execute(select(Resident).where(Resident.openid == "o_district"))).scalar_one()
    assert follower.subscribed and await openid_of(loop, "hexi") == "o_district"
    # an expired QR token
    assert (await client.get("/console/account/wechat/qr-image")).status == 200
    scene = loop.last_qr_scene()
    loop.advance(minutes=11)
    assert "已失效" in (await loop.bot.sim.event("o_street", "SCAN", scene)).text
    # a community poster's scene still goes to the resident binding
    assert "已识别您所在的社区" in (await loop.bot.sim.event("o_poster", "SCAN", "HX-YYL-YJ")).text


async def test_unlink_in_the_console_and_the_admin_sees_who_is_linked(loop):
    await loop.link("yijing", "o_yj")
    await loop.link("youyilu", "o_yyl")
    admin, admin_csrf = await loop.console("admin")
    listing = await (await admin.get("/console/staff-wechat")).text()
    assert "yijing" in listing and "youyilu" in listing and "hexi" not in listing
    accounts = await (await admin.get("/console/staff")).text()
    assert accounts.count('badge ok">已绑定') == 2 and "未绑定" in accounts
    api = await admin.get("/api/v1/staff-wechat", headers=await loop.bearer("admin"))
    assert api.status == 200 and {r["username"] for r in (await api.json())["items"]} == {"yijing", "youyilu"}
    community, ccsrf = await loop.console("yijing")
    assert (await community.get("/console/staff-wechat")).status == 403
    assert (await community.get("/api/v1/staff-wechat", headers=await loop.bearer("yijing"))).status == 403
    mine = await community.get("/api/v1/account/wechat", headers=await loop.bearer("yijing"))
    assert (await mine.json())["linked"] is True
    await community.post("/console/account/wechat/unlink", data={"_csrf": ccsrf})
    assert await openid_of(loop, "yijing") is None
    yyl = (await loop.staff("youyilu")).id
    resp = await admin.post(f"/console/staff-wechat/{yyl}/unlink", data={"_csrf": admin_csrf}, allow_redirects=False)
    assert resp.status == 303 and await openid_of(loop, "youyilu") is None
    resp = await admin.post(f"/console/staff-wechat/{yyl}/unlink", data={"_csrf": admin_csrf}, allow_redirects=False)
    assert resp.status == 404


async def test_guessing_codes_gets_nowhere(loop):
    client, csrf = await loop.console("yijing")
    code = await new_code(client, csrf)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    # one WeChat user: five wrong guesses, then even the right code is refused while the wait runs
    for _ in range(5):
        assert "绑定码无效或已过期" in await loop.bot.say("o_guess", wrong)
    assert "尝试次数过多" in await loop.bot.say("o_guess", code)
    assert await openid_of(loop, "yijing") is None
    # many WeChat users, one guess each: past the shared limit nobody links, not even with the right code
    for n in range(30):
        await loop.bot.say(f"o_crowd_{n}", f"{(int(code) + 2 + n) % 10**6:06d}")
    assert "尝试次数过多" in await loop.bot.say("o_honest", code)
    assert await openid_of(loop, "yijing") is None
    loop.advance(minutes=9)  # within the code's ten minutes, past the shared wait
    assert "已绑定" in await loop.bot.say("o_honest", code)


async def test_six_digits_mean_nothing_special_when_nobody_is_linking(loop):
    reply = await loop.bot.say("o_resident", "123456")
    assert "绑定码" not in reply and "尝试次数" not in reply


async def test_a_resident_who_is_also_staff_keeps_the_two_apart(loop):
    from tests.tickets.conftest import bind
    await bind(loop.services, "o_both")
    assert "已受理" in await loop.bot.say("o_both", "投诉 3号楼楼道灯坏了三天了，电话13900001111") + \
        await loop.bot.say("o_both", "确认")
    await loop.link("pingjiang1", "o_both")  # staff of another community
    mine = await loop.bot.say("o_both", "我的投诉")
    assert "JF" in mine  # the resident's own complaint
    todo = await loop.bot.say("o_both", "待办")
    assert "没有待办" in todo  # the complaint is in 谊景社区, not in pingjiang's jurisdiction
    async with loop.services.db.transaction() as session:
        staff = (await session.execute(select(Staff).where(Staff.username == "pingjiang1"))).scalar_one()
        resident = (await session.execute(select(Resident).where(Resident.openid == "o_both"))).scalar_one()
    assert staff.openid == resident.openid and resident.community_id is not None



async def test_push_settings_in_the_console(loop):
    client, csrf = await loop.console("yijing")
    bad = await client.post("/console/account/wechat/settings", data={
        "_csrf": csrf, "kind": ["ticket_new"], "quiet_start": "25:00", "quiet_end": "07:00"})
    assert bad.status == 400 and "请按 时:分 填写" in await bad.text()
    half = await client.post("/console/account/wechat/settings", data={"_csrf": csrf, "quiet_start": "22:00"})
    assert half.status == 400 and "须同时填写" in await half.text()
    ok = await client.post("/console/account/wechat/settings", data=[
        ("_csrf", csrf), ("kind", "ticket_new"), ("kind", "handoff"), ("quiet_start", "22:00"),
        ("quiet_end", "07:30")], allow_redirects=False)
    assert ok.status == 303
    state = await (await client.get("/api/v1/account/wechat", headers=await loop.bearer("yijing"))).json()
    assert state["kinds"]["ticket_new"] and state["kinds"]["handoff"] and not state["kinds"]["meeting"]
    assert (state["quiet_start"], state["quiet_end"]) == ("22:00", "07:30")


async def test_unfollowing_forgets_the_link(loop):
    await loop.link("yijing", "o_leaving")
    await loop.bot.sim.event("o_leaving", "unsubscribe")
    assert await openid_of(loop, "yijing") is None
