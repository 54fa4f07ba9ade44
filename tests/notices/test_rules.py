"""Pure rules: categories, states, who may approve, money and table totals, CSV import, Markdown safety, summary."""
from __future__ import annotations

from decimal import Decimal
from html.parser import HTMLParser

import pytest

from handlers.notices import rules
from handlers.notices.markdown import plain_lines, render
from storage.models import StaffLevel


@pytest.mark.parametrize("word,key", [("收支", "finance"), ("收支公示", "finance"), ("物业服务", "property"),
                                      ("旧楼区补贴", "subsidy"), ("业委会", "committee"), ("联席会议", "meeting"),
                                      ("通知", "general"), ("会议纪要", "meeting"), ("ｆｉｎａｎｃｅ", "finance")])
def test_category_words(word, key):
    assert rules.category_of(word) == key


def test_unknown_category_word():
    assert rules.category_of("天气") is None and rules.category_of("") is None


def test_state_machine():
    assert rules.allowed("approve", "draft") and not rules.allowed("approve", "published")
    assert rules.allowed("correct", "corrected") and not rules.allowed("correct", "draft")
    assert not rules.allowed("withdraw", "withdrawn") and not rules.allowed("edit", "scheduled")
    assert "已发布" in rules.state_problem("edit", "published")


def test_required_levels():
    assert rules.required_level("finance", "estate") is StaffLevel.community
    assert rules.required_level("subsidy", "community") is StaffLevel.street  # the street office organises these
    assert rules.required_level("general", "district") is StaffLevel.district
    assert rules.required_level("general", "all") is StaffLevel.admin


def test_approval_problems():
    ok = dict(level=StaffLevel.community, is_author=False, category="finance", scope_level="community",
              in_jurisdiction=True)
    assert rules.approval_problem(**ok) is None
    assert "辖区" in rules.approval_problem(**{**ok, "in_jurisdiction": False})
    assert "街道" in rules.approval_problem(**{**ok, "category": "subsidy"})
    assert "自己撰写" in rules.approval_problem(**{**ok, "is_author": True})
    assert rules.approval_problem(**{**ok, "is_author": True, "four_eyes": False}) is None
    # only the minutes of a recorded meeting are exempt, not whatever is filed under the meeting category
    assert "自己撰写" in rules.approval_problem(**{**ok, "is_author": True, "category": "meeting"})
    assert rules.approval_problem(**{**ok, "is_author": True, "category": "meeting", "exempt": True}) is None
    assert rules.four_eyes_exempt("meeting", "meeting:3") and not rules.four_eyes_exempt("meeting", None)
    assert not rules.four_eyes_exempt("finance", "meeting:3")
    assert rules.approval_problem(**{**ok, "level": StaffLevel.street, "scope_level": "all"}) is not None


@pytest.mark.parametrize("raw,value", [("1234.5", "1234.50"), ("¥1,234.50", "1234.50"), ("１２元", "12.00"),
                                       ("(12.30)", "-12.30"), ("-0.01", "-0.01"), ("0", "0.00")])
def test_parse_amount(raw, value):
    assert rules.parse_amount(raw) == Decimal(value)


@pytest.mark.parametrize("raw", ["abc", "1.234", "1e3", "", "12..5", "NaN"])
def test_parse_amount_rejects(raw):
    with pytest.raises(ValueError):
        rules.parse_amount(raw)


def test_totals_are_exact_decimals():
    table = rules.table_from({"columns": ["项目", "收入（元）", "支出（元）"],
                              "rows": [["停车费", "0.10", ""], ["场地占用费", "0.20", "1,000"],
                                       ["维修", "", "0.05"]]})
    assert table.money == [False, True, True]
    assert rules.totals(table) == [None, Decimal("0.30"), Decimal("1000.05")]
    assert rules.format_amount(Decimal("1234567.5")) == "1,234,567.50"


def test_money_guess_needs_a_money_header_and_amounts():
    table = rules.table_from({"columns": ["楼号", "户数", "金额"], "rows": [["1", "12", "100"], ["2", "8", "50.5"]]})
    assert table.money == [False, False, True]
    mixed = rules.table_from({"columns": ["项目", "费用说明"], "rows": [["a", "按月收取"]]})
    assert mixed.money == [False, False]


def test_table_errors_are_named():
    with pytest.raises(rules.TableError) as err:
        rules.table_from({"columns": ["项目", "金额"], "money": [False, True], "rows": [["a", "x"], ["b"]]})
    text = "；".join(err.value.problems)
    assert "第1行「金额」" in text and "第2行有 1 格" in text


def test_csv_import_with_line_numbers_and_gbk():
    csv_text = "项目,收入（元）,支出（元）\n物业费,12000,\n车位费,3600.5,\n电梯维修,,8000\n"
    table = rules.table_from_csv(rules.decode_upload(csv_text.encode("gbk")), "10月收支")
    assert table.title == "10月收支" and rules.totals(table)[1:] == [Decimal("15600.50"), Decimal("8000.00")]
    with pytest.raises(rules.TableError) as err:
        rules.table_from_csv("项目,金额（元）\n物业费,12000\n车位费,三千\n")
    assert any("第3行" in p for p in err.value.problems)
    with pytest.raises(rules.TableError):
        rules.table_from_csv("项目,金额\n")


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_markdown_escapes_everything():
    html = render('# 标题<script>\n\n<img src=x onerror=alert(1)> **粗<b>** [点我](javascript:alert(1)) '
                  '[官网](https://example.cn/a?b=1&c="x") https://example.cn/p"onmouseover=1\n- 一\n- <i>二</i>\n> 引用')
    parser = _Tags()
    parser.feed(html)
    assert {t for t, _ in parser.tags} <= {"h2", "p", "strong", "a", "ul", "li", "blockquote"}
    for tag, attrs in parser.tags:
        if tag == "a":
            assert set(attrs) == {"href", "rel"} and attrs["href"].startswith("https://")
        else:
            assert attrs == {}
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<strong>粗&lt;b&gt;</strong>" in html and "javascript:alert(1))" in html  # left as plain text
    assert "<h2>标题&lt;script&gt;</h2>" in html and "<ul><li>一</li><li>&lt;i&gt;二&lt;/i&gt;</li></ul>" in html
    assert "<blockquote><p>引用</p></blockquote>" in html


def test_markdown_blocks():
    html = render("第一行\n第二行\n\n1. 甲\n2. 乙\n\n---\n`代码`")
    assert html == "<p>第一行<br>第二行</p>\n<ol><li>甲</li><li>乙</li></ol>\n<hr>\n<p><code>代码</code></p>"
    assert plain_lines("## 小标题\n- **加粗**项\n[链接](https://a.cn)") == ["小标题", "加粗项", "链接"]


def test_summary_is_two_lines_with_totals():
    table = rules.table_from({"columns": ["项目", "支出（元）"], "rows": [["电梯", "8000"], ["绿化", "1200.5"]]})
    text = rules.summary("## 2026年10月收支情况\n详见下表。\n第三行", [table])
    assert text == "2026年10月收支情况\n支出（元）合计 9,200.50"
    assert rules.summary("一\n二\n三", []) == "一\n二"
    assert len(rules.summary("长" * 100, []).split("\n")[0]) == rules.LINE_MAX
    assert rules.summary("", []) == "详见公示全文"
