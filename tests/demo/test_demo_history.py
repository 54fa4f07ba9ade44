"""`linli org demo` shows the product (issue 22): after it, a newcomer's tour in the chat meets something real at
every step; loading twice changes nothing; production refuses it; `/` leads to the console's login; the start
banner names the console and the demo logins (never in production, never a password that is not the published
one)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, select, update

from bot.demo import load_demo_everything
from bot.serve import banner, startup_demo_logins
from storage.delivery_models import Broadcast
from storage.models import Resident, Staff
from storage.notice_models import Notice
from storage.passwords import hash_password
from storage.policy_qa_models import Inquiry, KbGap
from storage.repositories.org import demo_logins, demo_passwords
from storage.schema import Base
from storage.scorecard_models import ScorecardPublication
from storage.survey_models import Survey
from storage.ticket_models import Ticket
from tests.support import fixed_clock

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 7, 4, 0, tzinfo=timezone.utc)  # 12:00 in Tianjin, a Monday


async def _demo_bot(start_bot, settings):
    summary, written = await load_demo_everything(settings, NOW)
    assert written
    return await start_bot(settings, demo=False, clock=fixed_clock(NOW))


async def test_a_newcomers_tour_meets_something_real_at_every_step(start_bot, settings):
    bot = await _demo_bot(start_bot, settings)
    scanned = await bot.sim.event("o_newcomer", "subscribe", "qrscene_HX-YYL-YJ")
    assert "谊景社区" in scanned.text and "1. 谊景花园" in scanned.text
    await bot.dialog("o_newcomer", [("1", "业主"), ("1", "楼号和房号"), ("3-2-501", "小区：谊景花园"),
                                    ("确认", "绑定成功")])
    listing = await bot.say("o_newcomer", "公示")
    for title in ("谊景社区电梯安全评估结果公示", "[收支] 谊景社区2026年10月公共收益收支公示（已更正）",
                  "[联席会议] 谊景社区2026年12月物业管理工作联席会议纪要", "2026年第四季度津安物业服务质量满意度调查结果公布",
                  "[通知] 友谊路街道关于开展冬季消防安全检查的通知", "[业委会] 谊景花园第三届业主委员会换届选举筹备公告"):
        assert title in listing, listing
    finance = next(line.split(".")[0] for line in listing.splitlines() if "[收支]" in line)
    await bot.dialog("o_newcomer", [
        (finance, "收入合计 20,150.00，支出合计 10,370.50"),  # the table, as corrected
        (finance, "更正说明：经业主委员会核对"),
        ("调查", "【津城置业发展有限公司开发建设单位房屋质量满意度调查】"),
        ("3", "第 2/6 题"), ("2", "第 3/6 题"), ("3", "第 4/6 题"), ("2", "第 5/6 题"), ("跳过", "第 6/6 题"),
        ("跳过", "4. 报修经历：报修过，未修好"), ("确认", "提交成功"),
        ("会议纪要", "1. 谊景社区2026年12月物业管理工作联席会议纪要（12月2日）"),
        ("1", "主持人：社区书记"),
        ("物业评分", "【物业服务评分】津安物业服务有限公司"),
        ("开发商评分", "【开发建设单位评分】津城置业发展有限公司"),
    ])
    scores = await bot.say("o_newcomer", "物业评分")
    assert "2026年第4季度，友谊路街道公布" in scores and "15 份答卷" in scores and "受理投诉 11 件" in scores
    developer = await bot.say("o_newcomer", "开发商评分")
    assert "投诉办理：受理投诉 1 件" in developer
    await bot.dialog("o_newcomer", [
        ("投诉", "请选择投诉类别"), ("1", "请描述"),
        ("5号楼楼道里堆满了杂物，消防通道被堵住，请物业清理。", "照片"), ("跳过", "手机号"), ("跳过", "请核对您的投诉"),
        ("确认", "已受理您的投诉，编号 JF20261207-"),
        ("查询", "物业服务 · 已受理（谊景社区）"),
    ])


async def test_a_demo_residents_complaints_have_a_month_of_progress(start_bot, settings):
    bot = await _demo_bot(start_bot, settings)
    async with bot.services.db.transaction() as session:
        resident = await session.scalar(select(Resident).where(Resident.openid == "o_demo_resident_003"))
        number = await session.scalar(select(Ticket.number).where(Ticket.resident_id == resident.id))
    mine = await bot.say("o_demo_resident_003", "我的投诉")
    assert f"{number} 停车 · 处理中（谊景社区）" in mine, mine
    timeline = await bot.say("o_demo_resident_003", f"查询 {number}")
    for step in ("地下车库入口被长期占用", "签收", "已交由津安物业服务有限公司办理", "物业已清理车库入口的三轮车",
                 "第二天又停回来了", "物业已在入口加装隔离桩"):
        assert step in timeline, timeline


async def _counts(services) -> dict[str, int]:
    async with services.db.transaction() as session:
        return {t.name: await session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


async def test_the_history_is_whole_and_loading_it_twice_changes_nothing(start_bot, settings):
    bot = await _demo_bot(start_bot, settings)
    before = await _counts(bot.services)
    async with bot.services.db.transaction() as session:
        tickets = (await session.execute(select(Ticket.level, Ticket.status))).all()
        notices = (await session.execute(select(Notice.category, Notice.state))).all()
        surveys = set(await session.scalars(select(Survey.status)))
        pubs = set(await session.scalars(select(ScorecardPublication.kind)))
        gaps = await session.scalar(select(func.count()).select_from(KbGap))
        inquiries = set(await session.scalars(select(Inquiry.status)))
        sending = await session.scalar(select(Broadcast).where(Broadcast.source.is_(None),
                                                               Broadcast.status == "sending"))
    assert {level for level, _ in tickets} == {"community", "street", "district"}
    assert {status for _, status in tickets} == {"received", "assigned", "resolved", "closed", "escalated",
                                                 "rejected"}
    assert {c for c, _ in notices} == {"property", "finance", "subsidy", "committee", "meeting", "general"}
    assert {"corrected", "scheduled", "published"} <= {s for _, s in notices}
    assert surveys == {"open", "published"} and pubs == {"property", "developer"}
    assert gaps >= 5 and inquiries == {"open"} and sending.title == "供暖试水提醒"

    summary, written = await load_demo_everything(settings, NOW)
    assert not written and summary.staff.created == 0
    assert await _counts(bot.services) == before
    later, again = await load_demo_everything(settings, datetime(2027, 1, 7, tzinfo=timezone.utc))
    assert not again and await _counts(bot.services) == before


async def test_the_unanswered_questions_are_ones_the_knowledge_base_cannot_answer():
    from handlers.policy_qa.demo import GAPS
    from knowledge import KnowledgeBase

    kb = KnowledgeBase.load(None)
    for question, _outcome, _times in GAPS:
        assert kb.answer(question, top=3).outcome != "answer", question


def _env(tmp_path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINLI_", "WECHAT_"))}
    env.update(PYTHONPATH=str(ROOT), LINLI_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", **values)
    return env


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=180)


def test_production_refuses_the_demo_and_writes_nothing(tmp_path):
    env = _env(tmp_path, LINLI_WECHAT_API_BASE="https://api.weixin.qq.com")
    assert _run(["db", "upgrade"], env, tmp_path).returncode == 0
    done = _run(["org", "demo"], env, tmp_path)
    assert done.returncode == 1 and "生产环境" in done.stderr and "不能载入演示数据" in done.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "x.db") as db:
        assert [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("staff", "residents", "tickets")] \
            == [0, 0, 0]


async def test_root_leads_to_the_console_login(start_bot, settings, aiohttp_client):
    bot = await start_bot(settings)
    client = await aiohttp_client(bot.server)
    response = await client.get("/", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/console/login"
    followed = await client.get("/")
    assert followed.status == 200 and "登录" in await followed.text()


async def test_the_banner_names_the_console_and_the_demo_logins_only_outside_production(start_bot, settings):
    bot = await start_bot(settings, demo=False)
    app = bot.server.app
    assert await startup_demo_logins(app, settings) == []  # no demo loaded
    await load_demo_everything(settings, NOW)
    logins = await startup_demo_logins(app, settings)
    assert [d.username for d in logins] == list(demo_passwords())
    text = banner(settings, logins)
    assert f"{settings.base_url}/console/" in text
    assert "admin      密码 linli-demo  系统管理员（管理员）" in text and "yijing" in text
    async with bot.services.db.transaction() as session:  # a changed password is never shown
        await session.execute(update(Staff).where(Staff.username == "yijing")
                              .values(password_hash=hash_password("Own-Passw0rd-2026"), must_change_password=False))
    async with bot.services.db.transaction() as session:
        assert "yijing" not in [d.username for d in await demo_logins(session)]
    production = settings.with_(wechat_api_base="https://api.weixin.qq.com")
    assert await startup_demo_logins(app, production) == []
    shown = banner(production, logins)
    assert "linli-demo" not in shown and "/console/" in shown


def test_make_run_prints_the_console_and_demo_logins_and_root_redirects(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = _env(tmp_path, LINLI_WECHAT_API_BASE="http://127.0.0.1:9", LINLI_PORT=str(port),
               LINLI_PUBLIC_URL=f"http://127.0.0.1:{port}")
    assert _run(["db", "upgrade"], env, tmp_path).returncode == 0
    started = time.monotonic()
    loaded = _run(["org", "demo"], env, tmp_path)
    took = time.monotonic() - started
    assert loaded.returncode == 0 and "已载入近一个月的演示记录" in loaded.stdout, loaded.stderr
    assert took < 60, f"linli org demo took {took:.1f} s"
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(port)], env=env,
                                cwd=tmp_path, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 90
        while "邻里服务已启动" not in log.read_text(errors="replace") and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text(errors="replace")
            time.sleep(0.2)
        text = log.read_text(errors="replace")
        assert f"工作人员控制台：http://127.0.0.1:{port}/console/" in text, text
        assert "admin      密码 linli-demo" in text and "yijing     密码 linli-demo" in text
        assert "jinanwuye  密码 linli-demo  津安物业演示账号（承办单位）" in text  # a property company's account
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            opener.open(f"http://127.0.0.1:{port}/", timeout=10)
            raise AssertionError("/ did not redirect")
        except urllib.error.HTTPError as exc:
            assert exc.code == 302 and exc.headers["Location"] == "/console/login"
    finally:
        proc.terminate()
        proc.wait(30)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


async def test_the_first_console_login_shows_the_month(start_bot, settings, aiohttp_client):
    from tests.console.conftest import csrf_in
    from tests.support import TEST_PASSWORD, ready_staff

    bot = await _demo_bot(start_bot, settings)
    async with bot.services.db.transaction() as session:
        await ready_staff(session)
    client = await aiohttp_client(bot.server)
    login = await client.get("/")
    answer = await client.post("/console/login", data={"username": "yijing", "password": TEST_PASSWORD,
                                                       "_csrf": csrf_in(await login.text())}, allow_redirects=False)
    assert answer.status == 303
    pages = {"/console/": "谊景社区", "/console/tickets": "已升级",
             "/console/notices": "公共收益收支公示", "/console/meetings": "谊景社区",
             "/console/surveys": "津城置业发展有限公司开发建设单位房屋质量满意度调查",
             "/console/scorecards": "津安物业服务有限公司", "/console/broadcasts": "供暖试水提醒",
             "/console/qa": "楼上空调外机一直往我家窗台滴水怎么办"}
    for path, expected in pages.items():
        page = await client.get(path)
        body = await page.text()
        assert page.status == 200 and expected in body, (path, page.status, body[:300])
