"""knowledge.quality: how well a knowledge base a community wrote will be answered (issue 17), and `kb check`."""
from __future__ import annotations

from knowledge import KnowledgeBase
from knowledge.quality import MIN_QUESTIONS, review, review_entry
from tests.knowledge.kb_testutil import write
from tests.knowledge.test_kb_cli import run

COMMUNITY = """\
- id: parking-fee
  title: 小区停车费多少钱一个月？
  questions: [月租车位多少钱, 地面停车怎么收费, 停车费标准, 包月停车价格]
  answer: 地面车位每月150元，地下车库每月300元。
  source: 小区停车管理办法
- id: parking-card
  title: 小区停车卡在哪里办理？
  questions: [停车卡怎么办, 车辆登记去哪, 办停车证要带什么, 停车费多少钱一个月]
  answer: 带行驶证和房本到物业前台办理。
  source: 小区停车管理办法
- id: water-outage
  title: 停水了找谁？
  questions: [家里没水了]
  answer: 先看单元门口的停水通知，没有通知请拨打物业24小时电话。
  source: 物业服务中心
- id: water-bill
  title: 停水了找谁问？
  questions: [水费在哪交, 水表怎么看, 自来水收费标准]
  answer: 水费在自来水公司营业厅或网上交。
  source: 自来水公司
"""


def _kb(tmp_path):
    write(tmp_path, "community.yaml", COMMUNITY)
    return KnowledgeBase.load(tmp_path)


def test_an_example_question_that_finds_another_entry_is_reported(tmp_path):
    findings = review(_kb(tmp_path))
    misrouted = [f for f in findings if f.kind == "misrouted"]
    # parking-card's "停车费多少钱一个月" is parking-fee's question in other words
    assert any(f.entry_id == "parking-card" and f.other == "parking-fee" and "停车费多少钱一个月" in f.message
               for f in misrouted)
    assert all(f.other != f.entry_id for f in misrouted)


def test_entries_too_close_are_reported_once(tmp_path):
    close = [f for f in review(_kb(tmp_path)) if f.kind == "too_close"]
    pairs = [frozenset((f.entry_id, f.other)) for f in close]
    assert frozenset(("water-outage", "water-bill")) in pairs and len(pairs) == len(set(pairs))
    assert all("二选一" in f.message for f in close)


def test_too_few_example_questions(tmp_path):
    few = [f for f in review(_kb(tmp_path)) if f.kind == "few_questions"]
    assert [f.entry_id for f in few] == ["water-outage"]
    assert f"只有 1 个其他问法（建议至少 {MIN_QUESTIONS} 个" in few[0].message


def test_one_entry_gets_what_the_whole_review_gives_it(tmp_path):
    kb = _kb(tmp_path)
    full = review(kb)
    for entry in kb.entries:
        mine = review_entry(kb, entry.id)
        assert [f for f in mine if f.kind != "too_close"] == \
            [f for f in full if f.entry_id == entry.id and f.kind != "too_close"]
    assert review_entry(kb, "no-such-entry") == []


def test_kb_check_prints_the_quality_warnings(capsys, tmp_path):
    write(tmp_path, "community.yaml", COMMUNITY)
    code, out, _ = run(["kb", "check", str(tmp_path)], capsys)
    assert code == 0 and "有效：4 个条目" in out
    assert "回答质量：" in out and "问法会找到别的条目" in out and "条目之间太接近（" in out
    assert "- parking-card：问法「停车费多少钱一个月」（不算它自己时）会先找到条目 parking-fee" in out
    assert "其他问法太少（1）" in out and "- water-outage：只有 1 个其他问法" in out


def test_kb_check_on_a_clean_knowledge_base(capsys, tmp_path):
    write(tmp_path, "one.yaml", """\
        - id: only
          title: 业委会多久换届？
          questions: [业委会任期几年, 业主委员会换届, 业委会到期了怎么办]
          answer: 每届任期不超过5年。
          source: 条例
        """)
    code, out, _ = run(["kb", "check", str(tmp_path)], capsys)
    assert code == 0 and "回答质量：没有发现问题。" in out
