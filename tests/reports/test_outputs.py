"""The report's outputs: the XLSX opens with openpyxl and holds the figures, the PDF renders through the headless
Chromium and its text says what the report says, the print HTML has its charts inline, `linli report month`
writes both files, and the job on the 1st builds each street's and district's report once and tells the heads."""
from __future__ import annotations

import io
import threading
from datetime import datetime

import openpyxl
import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from bot.localtime import LOCAL_TZ
from handlers.console.authz import Scope
from handlers.reports import render, service
from handlers.reports.jobs import monthly
from handlers.reports.pdf import PdfError, html_to_pdf
from handlers.reports.xlsx import workbook
from storage.delivery_models import Broadcast
from storage.models import Resident, Staff, StaffLevel
from storage.report_models import ReportIssue
from tests.reports.conftest import NOW, OCT

ADMIN = Scope(StaffLevel.admin)


async def _report(services, code: str):
    async with services.db.transaction() as session:
        return await service.report_for(session, ADMIN, code, OCT, NOW)


async def test_xlsx_has_one_sheet_per_table(services):
    report = await _report(services, "HX-YYL")
    book = openpyxl.load_workbook(io.BytesIO(workbook(report)))
    assert book.sheetnames[:6] == ["概览", "投诉-渠道", "投诉-类别", "投诉-物业企业", "投诉-社区", "投诉-趋势"]
    assert {"公示", "满意度调查", "企业满意率", "政策问答", "排名-解决率"} <= set(book.sheetnames)
    overview = {row[0]: row[1:4] for row in book["概览"].iter_rows(min_row=2, values_only=True)}
    assert overview["受理投诉"] == (9, 1, 8)
    channels = {row[0]: row[1] for row in book["投诉-渠道"].iter_rows(min_row=2, values_only=True)}
    assert channels == {"微信": 7, "电话": 1, "12345": 1}
    ranks = list(book["排名-受理投诉"].iter_rows(min_row=2, values_only=True))
    assert ranks == [(1, "谊景社区", 9), (2, "平江社区", 0)]


async def test_pdf_renders_and_says_what_the_report_says(services):
    report = await _report(services, "HX-YYL-YJ")
    html = render.print_html(report, generated_by="测试")
    assert "<svg" in html and "<style>" in html and "http" not in html.split("</style>")[0]
    data = await service.to_pdf(report, services.settings, "测试")
    assert data.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).replace(" ", "")
    assert "谊景社区2026年10月工作月报" in text
    for words in ("受理投诉", "响应率", "按受理渠道", "12345", "联席会议", "物业费标准"):
        assert words in text, words


async def test_pdf_without_a_browser_is_a_clear_503():
    with pytest.raises(PdfError) as refused:
        await html_to_pdf("<p>x</p>", chromium="/nonexistent/chromium")
    assert refused.value.status == 503 and "Chromium" in refused.value.message


def test_cli_writes_the_pdf_and_the_xlsx(services, tmp_path, monkeypatch, capsys):
    from bot.cli import build_parser

    monkeypatch.setenv("LINLI_DATABASE_URL", services.settings.database_url)
    parser = build_parser()

    def run(*argv):
        args = parser.parse_args(list(argv))
        box = {}
        thread = threading.Thread(target=lambda: box.update(code=args.func(args)))
        thread.start()
        thread.join()
        return box["code"], capsys.readouterr()

    pdf, xlsx = tmp_path / "r.pdf", tmp_path / "r.xlsx"
    code, out = run("report", "month", "--scope", "HX-YYL-YJ", "--month", OCT, "--pdf", str(pdf), "--xlsx", str(xlsx))
    assert code == 0, out.err
    assert "谊景社区2026年10月工作月报" in out.out and "受理投诉 | 9件 | 1件 | ↑ 8件" in out.out
    assert pdf.read_bytes().startswith(b"%PDF") and openpyxl.load_workbook(xlsx).sheetnames[0] == "概览"
    code, out = run("report", "month", "--scope", "NOPE", "--month", OCT)
    assert code == 1 and "NOPE" in out.err
    code, out = run("report", "month", "--scope", "HX", "--month", "2026-13")
    assert code == 1 and "月份" in out.err


async def test_the_monthly_job_builds_once_and_tells_the_heads(services):
    first = datetime(2026, 11, 1, 6, 30, tzinfo=LOCAL_TZ)
    async with services.db.transaction() as session:  # 友谊路街道's account linked WeChat (a follower row)
        session.add(Resident(openid="o_staff_youyilu", followed_at=first))
        await session.execute(update(Staff).where(Staff.username == "youyilu").values(openid="o_staff_youyilu"))
    assert await monthly(services, first) == 5  # streets HX-YYL, HX-MJ, NK-XF; districts HX, NK
    assert await monthly(services, first) == 0  # already built: nothing twice
    async with services.db.transaction() as session:
        issues = {i.code: i for i in await session.scalars(select(ReportIssue))}
        pushes = list(await session.scalars(select(Broadcast).where(Broadcast.source.like("report:%"))))
        street = Scope(StaffLevel.street, street_id=issues["HX-YYL"].node_id,
                       community_ids=frozenset((await service.place_for(session, ADMIN, "HX-YYL")).ids))
        seen = [i.code for i in await service.issues(session, street)]
    assert set(issues) == {"HX-YYL", "HX-MJ", "NK-XF", "HX", "NK"} and {i.month for i in issues.values()} == {OCT}
    assert issues["HX-YYL"].headline["received"] == 9 and issues["HX-YYL"].pushed == 1
    assert [p.source for p in pushes] == [f"report:street:{issues['HX-YYL'].node_id}:{OCT}"]
    assert "友谊路街道2026年10月工作月报已生成" in pushes[0].text
    assert "/console/reports/view?scope=HX-YYL" in pushes[0].link
    assert seen == ["HX-YYL"]  # the street head sees the street's report, not the district's
