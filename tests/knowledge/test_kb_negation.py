"""Negated words (不交, 没有业委会) and words the knowledge base never uses (the `unknown` confidence feature)."""
from __future__ import annotations

from knowledge import KnowledgeBase
from tests.knowledge.kb_testutil import write


def test_negator_marks_the_next_content_word(kb):
    a = kb.analyzer.analyze("我能不交物业费吗")
    assert a.negated == ("¬交",) and "交" in a.tokens
    assert kb.analyzer.analyze("小区没有业委会").negated == ("¬业主委员会",)  # aliases are canonicalised first
    assert kb.analyzer.analyze("物业费怎么交").negated == ()


PAY_OR_NOT = """\
- id: fee-pay
  title: 物业费怎么交？
  questions: [物业费交到哪里]
  answer: 到物业服务中心交。
  source: s
- id: fee-refuse
  title: 不交物业费会怎样？
  questions: [物业费没交会被起诉吗]
  answer: 会被催告。
  source: s
"""


def test_negation_tells_paying_from_not_paying(tmp_path):
    write(tmp_path, "fees.yaml", PAY_OR_NOT)
    kb = KnowledgeBase.load(tmp_path)
    assert kb.ask("物业费我不交").matches[0].entry.id == "fee-refuse"  # word order alone would pick fee-pay
    assert kb.ask("物业费交哪").matches[0].entry.id == "fee-pay"


def test_unknown_word_lowers_confidence(kb):
    m = kb.matcher
    known = m.features(a := m.analyzer.analyze("物业费在哪交"), m.rank(a, 3))
    other = m.features(b := m.analyzer.analyze("契税在哪交"), m.rank(b, 3))
    assert known.unknown == 0.0 and other.unknown > 1.0
    assert kb.ask("契税在哪交").outcome != "answer"
