"""Staff work end to end in real headless Chromium (Debian's `chromium` + `chromium-driver`, driven by selenium),
as a community worker (谊景社区, on a 375-px phone) and a street worker (友谊路街道, on a 1280-px screen):

- a notice: drafted and previewed by the community worker, approved and published by the street worker (four
  eyes), shown as published to both, and the resident-facing /n/ page renders it;
- a ticket through escalation: a resident's complaint is signed, answered and escalated by the community worker;
  the street worker finds it at street level, signs and resolves it; the timeline shows every step;
- survey results: a campaign with seeded votes; the results page and its charts show the right counts;
- the knowledge base: an admin, on a phone, adds an entry for a question residents asked that it could not answer.

Every step asserts on the page's content. Each page is saved as a screenshot at 375 px and 1280 px into
`$LINLI_TEST_ARTIFACTS/flows/` (default test-artifacts/flows/, git-ignored), and no page may be wider than a
375-px phone. Runs on SQLite only: the flows exercise the pages, the database layer is covered elsewhere on both
engines. Skipped, with the reason shown, where Chromium is not installed.
"""
from __future__ import annotations

import asyncio
import os
import re
import unicodedata
from pathlib import Path
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from handlers.surveys import voting
from handlers.tickets import service as tickets
from storage.models import Resident
from storage.notice_models import Notice
from storage.repositories import surveys as survey_repo
from tests.console.conftest import NOW, PASSWORD, build_world
from tests.console.test_browser import CHROMIUM, DRIVER, SELENIUM
from tests.surveys.conftest import add_resident, new_campaign

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("LINLI_TEST_ARTIFACTS") or ROOT / "test-artifacts") / "flows"
PHONE, DESKTOP = 375, 1280
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER and SELENIUM),
                                reason="需要 Debian 的 chromium 和 chromium-driver（apt-get install -y chromium "
                                       "chromium-driver）以及 selenium（pip install selenium）")


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


class Browser:
    """One staff member in one Chromium window of a given width; every step waits for the page it expects."""

    artifacts, phone = ARTIFACTS, PHONE  # where screenshots go, and the phone width pages must fit

    def __init__(self, base: str, username: str, width: int, prefix: str):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.support.ui import WebDriverWait

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    f"--window-size={DESKTOP},900", "--lang=zh-CN", "--force-device-scale-factor=1"):
            options.add_argument(arg)
        self.driver = webdriver.Chrome(service=Service(DRIVER), options=options)
        self.wait = WebDriverWait(self.driver, 15)
        self.base, self.username, self.width, self.prefix = base, username, width, prefix
        self.widest: dict[str, int] = {}  # page name → document width at the phone's width
        self._viewport(width)
        self.artifacts.mkdir(parents=True, exist_ok=True)

    def _viewport(self, width: int, height: int = 900) -> None:
        # headless windows are at least 500 px wide: emulate the phone's viewport exactly
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})

    def quit(self) -> None:
        self.driver.quit()

    def _ready(self) -> None:
        self.wait.until(lambda d: d.execute_script("return document.readyState") == "complete")

    def go(self, path: str) -> str:
        self.driver.get(path if path.startswith("http") else self.base + path)
        self._ready()
        return self.text()

    def text(self) -> str:
        """The text of <main> (or the body of pages without one), read in one script call; NFKC-normalised
        (ticket texts are stored with full-width punctuation folded: compare with `nfkc(...)`)."""
        return nfkc(self.wait.until(lambda d: d.execute_script(
            "const m = document.querySelector('main') || document.body; return m && m.innerText")))

    def login(self) -> str:
        from selenium.webdriver.common.by import By

        self.go("/console/login")
        self.driver.find_element(By.NAME, "username").send_keys(self.username)
        self.driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        self.submit("form button[type=submit]")
        assert "/console/login" not in self.driver.current_url, self.text()
        return self.text()

    def fill(self, name: str, value: str, form: str = "") -> None:
        from selenium.webdriver.common.by import By

        field = self.driver.find_element(By.CSS_SELECTOR, f"{form} [name={name}]".strip())
        field.clear()
        field.send_keys(value)

    def choose(self, name: str, value: str, form: str = "") -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import Select

        Select(self.driver.find_element(By.CSS_SELECTOR, f"{form} select[name={name}]".strip())).select_by_value(value)

    def submit(self, button_css: str) -> str:
        """Click a submit button and wait for the next page (the same URL after a redirect back counts)."""
        from selenium.webdriver.common.by import By

        self._navigating(lambda: self.driver.find_element(By.CSS_SELECTOR, button_css).click())
        return self.text()

    def click_link(self, text: str, css: str | None = None) -> str:
        """Follow the link containing `text` (or the one matching the CSS selector `css`)."""
        from selenium.webdriver.common.by import By

        self._navigating(lambda: self.driver.find_element(
            *((By.CSS_SELECTOR, css) if css else (By.PARTIAL_LINK_TEXT, text))).click())
        return self.text()

    def _navigating(self, action) -> None:
        """Run `action` (a click) and wait until a new document has loaded.

        The old page is marked with a property on its `window`; a navigation gives the new document a fresh
        `window`, so the mark is gone. (Waiting for the old <html> element to go stale asks Chromium about a DOM
        node mid-navigation, which newer versions answer with "Node with given id does not belong to the
        document" instead of a stale-element error.) Script errors while the navigation is under way are retried.
        """
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver.execute_script("window.__linliOldPage = true")
        action()
        WebDriverWait(self.driver, 15, ignored_exceptions=(WebDriverException,)).until(
            lambda d: d.execute_script("return window.__linliOldPage !== true && document.readyState === 'complete'"))

    def more(self) -> None:
        """Open the ticket page's 更多操作 (the actions besides the next step)."""
        from selenium.webdriver.common.by import By

        details = self.driver.find_element(By.CSS_SELECTOR, "details.more")
        if not details.get_attribute("open"):
            details.find_element(By.CSS_SELECTOR, "summary").click()

    def svg_texts(self, card_heading: str) -> list[str]:
        """The texts drawn in the chart of the card whose heading contains `card_heading`."""
        return self.driver.execute_script("""
            const card = [...document.querySelectorAll('.card')].find(
                c => c.querySelector('h2') && c.querySelector('h2').textContent.includes(arguments[0]));
            if (!card || !card.querySelector('svg')) return null;
            return [...card.querySelectorAll('svg > text')].map(t => t.firstChild ? t.firstChild.textContent : '');
        """, card_heading)

    def shot(self, name: str) -> None:
        """Full-page screenshots at phone and desktop width; remembers how wide the page is on the phone."""
        for width in (self.phone, DESKTOP):
            self._viewport(width)
            height = self.driver.execute_script("return document.documentElement.scrollHeight")
            if width == self.phone:
                self.widest[name] = self.driver.execute_script("return document.documentElement.scrollWidth")
            self._viewport(width, min(max(height, 600), 8000))
            self.driver.save_screenshot(str(self.artifacts / f"{self.prefix}-{self.username}-{name}-{width}.png"))
        self._viewport(self.width)

    def assert_fits_phone(self) -> None:
        too_wide = {name: w for name, w in self.widest.items() if w > self.phone}
        assert not too_wide, f"wider than a {self.phone}-px phone: {too_wide}"


def _run(base: str, script, *browsers: tuple[str, int], prefix: str, kind: type[Browser] | None = None):
    """Open a browser (a `kind`, default `Browser`) per (username, width), log each in, run `script(*browsers)`;
    always close them."""
    opened: list[Browser] = []
    try:
        for username, width in browsers:
            browser = (kind or Browser)(base, username, width, prefix)
            opened.append(browser)
            browser.login()
        return script(*opened)
    finally:
        for browser in opened:
            browser.quit()


async def _world(aiohttp_client, sqlite_url):
    world = await build_world(aiohttp_client, sqlite_url)
    return world, str(world.client.make_url("")).rstrip("/")


# ---- a notice: compose → preview → approve and publish → published, and the residents' page ----------------------

TITLE = nfkc("关于12月1日谊景花园停水检修的通知")
BODY = "# 停水安排\n- 时间：12月1日 9:00–15:00\n- 范围：谊景花园 1–6 号楼\n\n请提前**储水**，给您带来不便敬请谅解。"


async def test_notice_is_composed_previewed_published_and_readable(aiohttp_client, sqlite_url):
    world, base = await _world(aiohttp_client, sqlite_url)
    yj = world.community["YJ"]

    def flow(community: Browser, street: Browser):
        community.go("/console/notices/new")
        community.choose("category", "general")
        community.fill("title", TITLE)
        community.fill("body", BODY)
        community.choose("scope", f"community:{yj}")
        community.shot("compose")
        draft = community.submit("form.card button[type=submit]")
        assert re.search(r"/console/notices/\d+$", community.driver.current_url)
        assert TITLE in draft and "草稿" in draft and "不能审核自己撰写的内容" in draft  # four eyes
        assert "审核并发布" not in draft
        community.shot("draft")
        notice_url = community.driver.current_url
        preview = community.click_link("预览居民看到的页面")
        assert TITLE in preview and "停水安排" in preview and "储水" in preview and "谊景社区" in preview
        community.shot("preview")

        listing = street.go("/console/notices")
        assert TITLE in listing and "草稿" in listing
        detail = street.click_link(TITLE)
        assert "审核并发布" in detail
        street.shot("review")
        published = street.submit("form[action$='/approve'] button[type=submit]")
        assert "已审核" in published and "已发布" in published and "审核并发布" not in published
        assert "友谊路街道演示账号" in published and "staff:" not in published  # the approver, by name
        link = street.driver.find_element("css selector", "dl.facts a[href*='/n/']").get_attribute("href")
        street.shot("published")

        again = community.go(notice_url)
        assert "已发布" in again and "草稿" not in again.split("正文")[0]
        assert "已发布" in community.go("/console/notices?state=published") and TITLE in community.text()
        community.shot("published-list")
        page = community.go(base + urlparse(link).path)  # the residents' page (links carry LINLI_PUBLIC_URL)
        assert TITLE in page and "停水安排" in page and "储水" in page and "谊景社区居民委员会" in page
        community.shot("public-page")
        for browser in (community, street):
            browser.assert_fits_phone()
        return link

    link = await asyncio.to_thread(_run, base, flow, ("yijing", PHONE), ("youyilu", DESKTOP), prefix="notice")
    async with world.services.db.transaction() as session:
        notice = (await session.execute(select(Notice).where(Notice.public_id == link.rsplit("/", 1)[1]))).scalar_one()
    assert notice.state == "published" and notice.approver == "staff:youyilu" and notice.author == "staff:yijing"


# ---- a ticket: 签收 → reply → escalate (community) → 签收 → resolve (street) -------------------------------------------

COMPLAINT = nfkc("3号楼电梯坏了一周没人修，老人上下楼很困难")
REPLY = nfkc("已联系电梯维保单位，明天上午上门检修。")
WHY = nfkc("电梯主板需更换，要动用维修资金，需街道协调")
RESOLUTION = nfkc("街道已协调动用维修资金更换电梯主板，电梯已恢复运行。")


async def test_ticket_is_worked_through_escalation(aiohttp_client, sqlite_url):
    world, base = await _world(aiohttp_client, sqlite_url)
    async with world.services.db.transaction() as session:
        resident = await session.get(Resident, world.resident["YJ"])
        ticket = await tickets.file_ticket(session, world.services, resident,
                                           tickets.Filing("repair", COMPLAINT, phone="13812345678"), NOW)
        number, ticket_id = ticket.number, ticket.id

    def flow(community: Browser, street: Browser):
        listing = community.go("/console/tickets")
        assert number in listing and "待签收" in listing and "138****5678" not in listing.split(number)[0]
        community.shot("list")
        detail = community.click_link(number)
        assert COMPLAINT in detail and "签收" in detail and "13812345678" not in detail
        signed = community.submit("form[action$='/actions/sign'] button")
        assert "处理中" in signed or "已签收" in signed
        community.shot("signed")
        community.fill("text", REPLY, "form[action$='/actions/reply']")
        replied = community.submit("form[action$='/actions/reply'] button")
        assert REPLY in replied
        community.more()
        community.fill("reason", WHY, "form[action$='/actions/escalate']")
        escalated = community.submit("form[action$='/actions/escalate'] button")
        assert "已升级" in escalated and WHY in escalated
        facts = escalated.split("办理过程")[0]
        assert "街道" in facts
        assert not community.driver.find_elements(  # the street's turn now
            "css selector", "form[action$='/actions/sign'], form[action$='/actions/resolve']")
        community.shot("escalated")

        queue = street.go("/console/tickets?level=street")
        assert number in queue
        street.shot("street-queue")
        detail = street.click_link(number)
        assert WHY in detail and REPLY in detail and COMPLAINT in detail
        signed = street.submit("form[action$='/actions/sign'] button")
        assert "处理中" in signed or "已签收" in signed
        street.more()  # the next step is 答复; the street resolves at once, from 更多操作
        street.fill("text", RESOLUTION, "form[action$='/actions/resolve']")
        resolved = street.submit("form[action$='/actions/resolve'] button")
        assert "已办结" in resolved and RESOLUTION in resolved
        timeline = resolved.split("办理过程")[1]
        for step in (COMPLAINT, REPLY, WHY, RESOLUTION):
            assert step in timeline, step
        street.shot("resolved")

        figures = street.go("/console/tickets/stats?since=2026-11-01&until=2026-11-30")
        assert "本期受理 1 件,其中已办结 1 件" in figures and "趋势(按受理日期,每日)" in figures
        legend = street.svg_texts("趋势")
        assert legend[:2] == ["受理", "其中已办结"] and legend[-3:] == ["11-01", "11-16", "11-30"], legend
        street.shot("figures")

        done = community.go(f"/console/tickets/{ticket_id}")
        assert "已办结" in done and RESOLUTION in done
        assert number not in community.go("/console/tickets")  # no longer open
        assert number in community.go("/console/tickets?status=")  # but in 全部
        for browser in (community, street):
            browser.assert_fits_phone()

    await asyncio.to_thread(_run, base, flow, ("yijing", PHONE), ("youyilu", DESKTOP), prefix="ticket")
    async with world.services.db.transaction() as session:
        from storage.repositories import tickets as ticket_repo

        final = await ticket_repo.get(session, ticket_id)
        kinds = [e.kind for e in await ticket_repo.events(session, ticket_id)]
    assert final.status == "resolved" and final.level == "street" and final.resolved_level == "street"
    assert kinds.index("escalate") < kinds.index("resolve")


# ---- survey results with seeded votes ----------------------------------------------------------------------------

VOTE = {"q2": 4, "q3": 4, "q4": 4, "q5": 4, "q6": 3, "q7": 1, "q8": [1, 3]}


async def test_survey_results_show_the_right_counts(aiohttp_client, sqlite_url):
    world, base = await _world(aiohttp_client, sqlite_url)
    sid = await new_campaign(world.services, codes=("HX-YYL-YJ",))
    for q1 in (5, 5, 2):  # two 非常满意, one 不满意
        voter = await add_resident(world.services, "HX-YYL-YJ-01")
        async with world.services.db.transaction() as session:
            survey = await survey_repo.get(session, sid)
            await voting.submit(session, survey, voter, {**VOTE, "q1": q1}, survey.questions_version, NOW,
                                  household_key=world.services.settings.household_secret)
            title = survey.title

    def flow(community: Browser, street: Browser):
        seen = {}
        for browser in (community, street):
            listing = browser.go("/console/surveys")
            assert title in listing
            page = browser.click_link(title)
            stats = page.split("各小区")[0]
            assert re.search(r"\b3\s*已参与", stats), stats
            q1 = browser.svg_texts("1. 服务态度")
            assert q1 is not None, "no chart for the first question"
            values = dict(zip(q1[0::2], q1[1::2]))  # label, value, label, value, …
            seen[browser.username] = values
            assert values["非常满意"] == "2 · 66.7%" and values["不满意"] == "1 · 33.3%"
            assert values["满意"] == "0 · 0.0%" and values["一般"] == "0 · 0.0%"
            q8 = browser.svg_texts("最需改进")  # every voter picked options 1 and 3, nobody option 2
            assert q8[1] == "3 · 100.0%" and q8[3] == "0 · 0.0%" and q8[5] == "3 · 100.0%", q8
            estates = browser.svg_texts("参与情况")
            assert estates and estates[0] == "谊景花园" and estates[1].startswith("3/")
            browser.shot("results")
            browser.assert_fits_phone()
        return seen

    seen = await asyncio.to_thread(_run, base, flow, ("yijing", PHONE), ("youyilu", DESKTOP), prefix="survey")
    assert seen["yijing"] == seen["youyilu"]


# ---- the knowledge base: an entry for an unanswered question ----------------------------------------------------

QUESTION = "小区里能养鸽子吗"
ANSWER = nfkc("饲养鸽子须遵守小区管理规约，不得影响公共卫生和邻居生活；有纠纷先找物业和居委会协调。")


async def test_admin_adds_a_knowledge_base_entry_from_an_unanswered_question(aiohttp_client, sqlite_url, tmp_path):
    from knowledge import KnowledgeHolder
    from storage.repositories import policy_qa as qa_repo

    world = await build_world(aiohttp_client, sqlite_url, environ={"LINLI_KB_DIR": str(tmp_path / "kb")})
    world.services.knowledge = KnowledgeHolder()
    base = str(world.client.make_url("")).rstrip("/")
    async with world.services.db.transaction() as session:
        await qa_repo.record_gap(session, QUESTION, QUESTION, "none", world.community["YJ"], NOW)

    def flow(admin: Browser):
        qa = admin.go("/console/qa")
        assert QUESTION in qa.split("知识库答不好的问题")[1]
        admin.shot("gaps")
        picker = admin.click_link("补充", css="td a[href*='gap=']")
        assert "答不上来" in picker or "列出候选" in picker  # the try-out of the question, before the change
        admin.shot("picker")
        admin.click_link("新建条目")
        admin.fill("questions", "楼顶养鸽子行不行\n养鸽子扰民怎么办")
        admin.fill("keywords", "养鸽子、鸽子")
        admin.fill("answer", ANSWER)
        admin.fill("source", "小区管理规约")
        admin.shot("form")
        saved = admin.submit("form.card button[type=submit]")
        assert "已新增条目" in saved and "现在会直接用这条回答" in saved and ANSWER in saved
        admin.shot("saved")
        tried = admin.go("/console/qa/kb?ask=" + QUESTION)
        assert "结果:直接回答" in tried and QUESTION in tried.split("结果")[1]
        assert QUESTION not in admin.go("/console/qa").split("知识库答不好的问题")[1]
        admin.assert_fits_phone()

    await asyncio.to_thread(_run, base, flow, ("admin", PHONE), prefix="kb")
    assert world.services.knowledge.ask(QUESTION).best.id == "local-1"
    assert (tmp_path / "kb" / "local.yaml").is_file()
