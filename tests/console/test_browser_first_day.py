"""A worker's first day in real headless Chromium, at 390 px (a phone) and 1280 px, with screenshots of every step
in `$LINLI_TEST_ARTIFACTS/first-day/` (look at them):

- the ticket page: the next step is one primary button (签收 → 答复 → 办结), the rest under 更多操作, and the 办结
  form offers resolution texts;
- the ticket list on a phone: cards, no sideways scrolling, the complaint text visible; the 即将超期 view; bulk 签收;
- a notice: drafted and 提交审核 by one community account, found in 待审核 and approved by the second account;
- 群发: the compose form, the confirmation with preview and recipient count, then sent.

SQLite only (the pages are what is tested); skipped, with the reason, where Chromium is not installed.
"""
from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from handlers.tickets import service as tickets
from storage.delivery_models import Broadcast
from storage.models import Resident
from storage.notice_models import Notice
from storage.repositories import tickets as ticket_repo
from tests.console import test_browser_flows as flows
from tests.console.conftest import NOW
from tests.console.test_browser import CHROMIUM, DRIVER, SELENIUM

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("LINLI_TEST_ARTIFACTS") or ROOT / "test-artifacts") / "first-day"
PHONE, DESKTOP = 390, 1280
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER and SELENIUM),
                                reason="需要 Debian 的 chromium 和 chromium-driver 以及 selenium")
LONG = flows.nfkc("3号楼东侧单元电梯已经坏了一个星期，物业说在等配件，老人和抱孩子的住户上下楼非常困难，"
                  "请社区督促物业尽快修好，并告诉我们大概什么时候能修好")


class Browser(flows.Browser):
    """The flows' browser at 390 px, screenshots into first-day/."""

    artifacts, phone = ARTIFACTS, PHONE

    def primary(self) -> str:
        """The action of the form in the ticket page's next-step card ('' when none)."""
        return self.driver.execute_script(
            "const f = document.querySelector('#next-step form'); return f ? f.dataset.action : ''")

    def visible(self, css: str) -> bool:
        return self.driver.execute_script(
            "const e = document.querySelector(arguments[0]); return !!e && e.checkVisibility()", css)


def _run(base: str, script, *who: tuple[str, int], prefix: str):
    opened: list[Browser] = []
    try:
        for username, width in who:
            browser = Browser(base, username, width, prefix)
            opened.append(browser)
            browser.login()
        return script(*opened)
    finally:
        for browser in opened:
            browser.quit()


async def _file(world, text: str, category: str = "repair"):
    async with world.services.db.transaction() as session:
        resident = await session.get(Resident, world.resident["YJ"])
        ticket = await tickets.file_ticket(session, world.services, resident,
                                           tickets.Filing(category, text, phone="13812345678"), NOW)
        return ticket.id, ticket.number


async def test_ticket_page_next_step_and_the_list_as_cards(aiohttp_client, sqlite_url):
    world, base = await flows._world(aiohttp_client, sqlite_url)
    ticket_id, number = await _file(world, LONG)
    late_id, late = await _file(world, "楼道灯坏了半个月", "property")
    async with world.services.db.transaction() as session:
        row = await ticket_repo.get(session, late_id)
        row.sign_due_at = row.resolve_due_at = NOW - timedelta(hours=3)

    def flow(phone: Browser, desk: Browser):
        listing = phone.go("/console/tickets")
        assert number in listing and LONG[:30] in listing  # the complaint text on the card
        assert phone.driver.execute_script(
            "return getComputedStyle(document.querySelector('table.cards thead')).display") == "none"
        phone.shot("list-cards")
        due = phone.click_link("即将超期/已超期")
        assert late in due and number in due  # overdue, and to be signed within one working day
        assert "即将到期" in due.split(number)[1] and "超期" in due.split(late)[1].split(number)[0]
        assert phone.driver.execute_script("return document.querySelector('tr.overdue') !== null")
        phone.shot("list-due")

        desk.go(f"/console/tickets/{ticket_id}")
        assert desk.primary() == "sign" and not desk.visible("details.more form[data-action=reject]")
        desk.shot("ticket-sign")
        desk.submit("#next-step button[type=submit]")
        assert desk.primary() == "reply" and "已签收" in desk.text()
        desk.shot("ticket-reply")
        desk.fill("text", "已联系电梯维保单位，明天上午上门检修。", "#next-step")
        desk.submit("#next-step button[type=submit]")
        assert desk.primary() == "resolve"
        options = desk.driver.execute_script(
            "return [...document.querySelectorAll('#next-step select[name=canned] option')].map(o => o.value)")
        assert any("维修人员已上门完成维修" in o for o in options), options
        desk.more()
        assert desk.visible("details.more form[data-action=escalate]")
        desk.shot("ticket-resolve")
        desk.choose("canned", options[1], "#next-step")
        done = desk.submit("#next-step button[type=submit]")
        assert "已办结" in done and "等待居民评价" in done
        desk.shot("ticket-resolved")

        phone.go(f"/console/tickets/{ticket_id}")
        phone.shot("ticket-resolved")
        phone.go("/console/tickets")
        phone.driver.execute_script(
            "document.querySelector('input[name=ids][value=\"%s\"]').click()" % late_id)
        signed = phone.submit("button[name=action][value=sign]")
        assert "已签收 1 件" in signed
        phone.shot("list-bulk-signed")
        for browser in (phone, desk):
            browser.assert_fits_phone()

    await asyncio.to_thread(_run, base, flow, ("yijing", PHONE), ("yijing", DESKTOP), prefix="ticket")
    async with world.services.db.transaction() as session:
        assert (await ticket_repo.get(session, ticket_id)).status == "resolved"
        assert (await ticket_repo.get(session, late_id)).status == "assigned"


async def test_notice_submitted_for_review_and_approved_by_the_second_account(aiohttp_client, sqlite_url):
    world, base = await flows._world(aiohttp_client, sqlite_url)
    yj = world.community["YJ"]
    title = flows.nfkc("关于12月8日谊景花园停水的通知")

    def flow(author: Browser, reviewer: Browser):
        author.go("/console/notices/new")
        author.choose("category", "general")
        author.fill("title", title)
        author.fill("body", "12月8日9:00–15:00停水检修，请提前储水。")
        author.choose("scope", f"community:{yj}")
        draft = author.submit("form.card button[type=submit]")
        assert "提交审核" in draft and "审核并发布" not in draft
        author.shot("draft")
        submitted = author.submit("form.submit-review button[type=submit]")
        assert "已提交审核" in submitted and "待审核" in submitted and "谊景社区演示账号" in submitted
        author.shot("submitted")

        home = reviewer.go("/console/")
        assert "待审核的公示" in home and title in home
        reviewer.shot("dashboard-queue")
        detail = reviewer.click_link(title)
        assert "审核并发布" in detail
        published = reviewer.submit("form[action$='/approve'] button[type=submit]")
        assert "已发布" in published and "谊景社区第二演示账号" in published and "staff:" not in published
        reviewer.shot("approved")
        assert title not in reviewer.go("/console/")
        for browser in (author, reviewer):
            browser.assert_fits_phone()

    await asyncio.to_thread(_run, base, flow, ("yijing", PHONE), ("yijing2", DESKTOP), prefix="notice")
    async with world.services.db.transaction() as session:
        notice = (await session.execute(select(Notice))).scalar_one()
    assert notice.state == "published" and notice.author == "staff:yijing" and notice.approver == "staff:yijing2"


async def test_broadcast_is_composed_confirmed_and_sent(aiohttp_client, sqlite_url):
    world, base = await flows._world(aiohttp_client, sqlite_url)
    yj = world.community["YJ"]
    for _ in range(3):
        await world.add_resident("YJ")
    text = flows.nfkc("本周六上午9点在社区活动室召开电梯更新说明会，欢迎业主参加。")

    def flow(phone: Browser, desk: Browser):
        listing = desk.go("/console/broadcasts")
        form = desk.click_link("发起群发")
        assert "发送范围" in form and "平江社区" not in form
        desk.choose("scope", f"community:{yj}")
        desk.choose("category", "meeting")
        desk.fill("title", "电梯更新说明会")
        desk.fill("text", text)
        desk.shot("compose")
        confirm = desk.submit("form.card button[type=submit]")
        assert "确认群发" in confirm and text in confirm and "4 位居民会收到" in confirm
        desk.shot("confirm")
        sent = desk.submit("form input[value=send] ~ button")
        assert "群发已开始发送" in sent
        desk.shot("sent")

        phone.go("/console/broadcasts/new")
        phone.shot("compose")
        phone.choose("scope", f"community:{yj}")
        phone.fill("text", text)
        phone.fill("send_at", "")
        confirm = phone.submit("form.card button[type=submit]")
        assert "确认群发" in confirm
        phone.shot("confirm")
        back = phone.submit("form input[value=edit] ~ button")
        assert "预览并确认" in back
        for browser in (phone, desk):
            browser.assert_fits_phone()
        return listing

    await asyncio.to_thread(_run, base, flow, ("yijing", PHONE), ("yijing", DESKTOP), prefix="broadcast")
    async with world.services.db.transaction() as session:
        rows = list((await session.execute(select(Broadcast))).scalars())
    assert len(rows) == 1 and rows[0].category == "meeting" and rows[0].created_by == "staff:yijing"


async def test_a_long_unanswered_question_keeps_the_tables_on_screen(aiohttp_client, sqlite_url):
    from storage.repositories import policy_qa as qa_repo

    world, base = await flows._world(aiohttp_client, sqlite_url)
    question = ("请问小区地下车库的车位产权到底归谁，" * 30)[:500]
    async with world.services.db.transaction() as session:
        await qa_repo.record_gap(session, question, question, "none", world.community["YJ"], NOW)

    def flow(admin: Browser, phone: Browser):
        admin.go("/console/qa")
        admin.shot("qa-long-question")
        overflow = admin.driver.execute_script("""
            const table = [...document.querySelectorAll('.card')].find(c => c.textContent.includes('知识库答不好的问题'));
            return table.scrollWidth - table.clientWidth""")
        assert overflow <= 0, f"the table is {overflow} px wider than its card at 1280 px"
        home = admin.go("/console/")
        panel = home.split("居民问了、知识库答不好的问题", 1)[1]
        assert flows.nfkc(question[:40]) in panel and flows.nfkc(question) not in panel and "..." in panel  # shortened (… read NFKC-folded)
        admin.shot("dashboard")
        phone.go("/console/")
        phone.shot("dashboard")
        legend = phone.driver.execute_script(
            "return [...document.querySelectorAll('.chart-legend')].map(p => p.textContent)")
        assert "近 14 天每日新绑定居民" in legend, legend
        rows = phone.driver.execute_script(
            "return [...document.querySelectorAll('a[href*=\"level=\"]')].map(a => a.textContent)")
        assert "街道" not in rows and "区县" not in rows
        phone.assert_fits_phone()

    await asyncio.to_thread(_run, base, flow, ("admin", DESKTOP), ("yijing", PHONE), prefix="labels")
