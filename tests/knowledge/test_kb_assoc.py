"""Word associations learned from paraphrases (knowledge.assoc): a question word no entry uses still finds the
entry its associated words belong to, and an association never makes a match on its own."""
from __future__ import annotations

from dataclasses import replace

import pytest

from knowledge import KnowledgeBase
from knowledge.assoc import AssociationTable, EntryAssociations, domain_table
from knowledge.matcher import Matcher
from tests.knowledge.kb_testutil import write

# Paraphrase groups of another knowledge base: 趴窝 is said where the entries write 故障, 漏水 next to 渗水.
GROUPS = [
    ([["电梯", "故障", "报修"], ["电梯", "趴窝", "找", "谁"], ["电梯", "趴窝", "修"]], []),
    ([["门禁", "故障"], ["门禁", "趴窝", "修"]], []),
    ([["楼顶", "渗水"], ["楼顶", "漏水", "修"]], []),
]

ENTRIES = """\
    - id: lift-fault
      title: 电梯故障怎么报修
      questions: [电梯停运报修电话]
      answer: 拨打物业24小时报修电话。
      source: 合成
    - id: lift-check
      title: 电梯年检多久一次
      questions: [电梯检验周期]
      answer: 每年一次定期检验。
      source: 合成
    """


@pytest.fixture()
def lift_kb(tmp_path) -> KnowledgeBase:
    write(tmp_path, "kb.yaml", ENTRIES)
    return KnowledgeBase.load(tmp_path)


def test_learned_table_pairs_words_of_different_phrasings_of_one_entry():
    table = AssociationTable.learn(GROUPS)
    assert table.table["故障"]["趴窝"] > 0.1
    assert "故障" in table.reverse["趴窝"]
    assert "渗水" not in table.reverse["趴窝"]   # never in the same entry: no association
    assert AssociationTable.from_json(table.to_json()).table["故障"]["趴窝"] == pytest.approx(table.table["故障"]["趴窝"],
                                                                                         abs=1e-3)


def test_a_word_no_entry_uses_finds_the_entry_through_an_association(lift_kb):
    kb = lift_kb
    a = kb.analyzer.analyze("电梯又趴窝了")
    assert "趴窝" in a.tokens and "趴窝" not in kb.matcher.words.idf   # no entry says 趴窝
    table = AssociationTable.learn(GROUPS)
    without = Matcher(kb.entries, kb.analyzer, replace(kb.matcher.policy, assoc_weight=0.0))
    plain = without.rank(a, 2)
    assert plain[0][0] == pytest.approx(plain[1][0], rel=0.05) or without.entries[plain[0][1]].id == "lift-check"
    with_assoc = Matcher(kb.entries, kb.analyzer, kb.matcher.policy, table)
    ranked = with_assoc.rank(a, 2)
    assert with_assoc.entries[ranked[0][1]].id == "lift-fault"
    # the order is the association's, the scores stay lexical: moved ahead by an association alone, the entry
    # does not lead by the answer margin, so the resident gets the "which one?" menu, never a guess
    assert {d: s for s, d in ranked} == pytest.approx({d: s for s, d in plain})
    assert with_assoc.ask("电梯又趴窝了").outcome != "answer"


def test_shared_words_are_anchors_not_paraphrases():
    table = AssociationTable.learn(GROUPS, substitutions_only=True)
    assert "故障" in table.reverse["趴窝"]
    assert "电梯" not in table.reverse["趴窝"]   # in both phrasings: the topic, not a rewording
    assert "电梯" in AssociationTable.learn(GROUPS).reverse["趴窝"]


def test_an_association_alone_is_never_a_match(lift_kb):
    kb = lift_kb
    m = Matcher(kb.entries, kb.analyzer, kb.matcher.policy, AssociationTable.learn(GROUPS))
    assert m.rank(kb.analyzer.analyze("趴窝了"), 3) == []   # 趴窝 only associates with 故障: no entry matched


@pytest.mark.parametrize("question", ["护照过期了怎么换", "契税怎么交", "孩子发烧去哪个医院"])
def test_out_of_scope_questions_are_not_pulled_in_by_the_domain_table(kb, question):
    assert kb.matcher.associations is not None   # the shipped table is on
    assert kb.ask(question).outcome != "answer"


def test_shipped_domain_table_loads():
    table = domain_table()
    assert len(table.table) > 500 and len(table.reverse) > 500


def test_reorder_keeps_the_strongest_lexical_competitor_second(lift_kb):
    """An association may lift a candidate over others, but never push the best entry's runner-up down the list
    (that would widen the margin the gate reads)."""
    class Fixed(EntryAssociations):
        def scores(self, analysis, docs):   # association scores given per entry
            return [{0: 0.0, 1: 0.0, 2: 1.5, 3: 0.0}[d] for d in docs]

    ea = Fixed(AssociationTable({}), lift_kb.matcher)
    lexical = {0: 10.0, 1: 9.0, 2: 8.0}
    assert ea.reorder(None, lexical, 3, 1.0) == [(10.0, 0), (9.0, 1), (8.0, 2)]   # 9.5 > 9.0, still third
    assert ea.reorder(None, lexical, 3, 2.0) == [(8.0, 2), (10.0, 0), (9.0, 1)]   # 11 > 10: first, lexical scores kept
    assert ea.reorder(None, {0: 10.0, 1: 9.0, 2: 8.5, 3: 1.0}, 3, 0.0)[:2] == [(10.0, 0), (9.0, 1)]


def test_whether_a_question_is_ours_is_judged_on_the_entry_sharing_most_words(lift_kb):
    """An entry the associations moved first shares fewer of the question's words than the lexical best; P(in
    scope) reads the lexical best's features, so the reordering never turns an in-scope question into a "none"."""
    kb = lift_kb
    matcher = Matcher(kb.entries, kb.analyzer, kb.matcher.policy, AssociationTable.learn(GROUPS))
    question = "电梯趴窝了检验"  # 检验 is lift-check's word; 趴窝 is associated with lift-fault's 故障
    a = kb.analyzer.analyze(question)
    ranked = matcher.rank(a, 3)
    lexical = max(ranked)
    assert kb.entries[ranked[0][1]].id == "lift-fault" and kb.entries[lexical[1]].id == "lift-check"
    assert ranked[0][0] < matcher.policy.min_score <= lexical[0]  # the first entry alone would be no match
    _, p_in_first, _ = matcher.decide(matcher.features(a, ranked))
    outcome, p_in, _ = matcher.decide(matcher.features(a, ranked), matcher.features(a, [lexical]))
    assert p_in > p_in_first and outcome == "ambiguous"
    answer = matcher.ask(question)
    assert answer.outcome == "ambiguous"  # a list with both entries, not "none"
    assert {m.entry.id for m in answer.matches} == {"lift-fault", "lift-check"}


def test_scores_of_all_candidates_follow_the_formula(lift_kb):
    """`scores` (the question's words looked up once for all candidates) is, per entry, Σ over the question words the
    entry lacks of idf × s / (s + saturation), s = Σ_t P(t | entry) P(w | t)."""
    table = AssociationTable.learn(GROUPS)
    matcher = Matcher(lift_kb.entries, lift_kb.analyzer, lift_kb.matcher.policy, table)
    ea = matcher.associations
    a = lift_kb.analyzer.analyze("电梯趴窝了漏水")
    docs = list(range(len(lift_kb.entries)))
    expected = []
    for d in docs:
        present = matcher.words.doc_terms[d]
        total = sum(present.values())
        out = 0.0
        for w in set(a.tokens) - set(present):
            s = sum(p * present[t] for t, p in table.reverse.get(w, {}).items() if t in present) / total
            if s:
                out += matcher.words.term_idf(w) * s / (s + ea.saturation)
        expected.append(out)
    assert any(expected)
    assert ea.scores(a, docs) == pytest.approx(expected)
    assert [ea.score(a, d) for d in docs] == pytest.approx(expected)
