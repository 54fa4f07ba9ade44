"""Ranking signals that do not depend on segmentation, and the shared weighting of repeated phrasings."""
from __future__ import annotations

import math
from dataclasses import replace

import pytest

from knowledge import KnowledgeBase
from knowledge.analyzer import char_bigrams
from knowledge.matcher import Matcher
from tests.knowledge.kb_testutil import write


def test_char_bigrams_stay_inside_cjk_runs():
    assert char_bigrams(["物业a费交了吗", "x", "业委会"]) == ["物业", "费交", "交了", "了吗", "业委", "委会"]
    assert char_bigrams(["12345"]) == []


def test_analysis_carries_bigrams_of_the_normalised_text(kb):
    a = kb.analyzer.analyze("都交了物业费了，凭嘛还得出维修的钱")
    assert "得出" in a.tokens  # jieba cuts 还得出维修 as 还 / 得出 / 维修 …
    assert "出维" in a.bigrams and "维修" in a.bigrams  # … the bigrams see 出 next to 维修 all the same


def test_bigram_field_recovers_a_missegmented_question(kb):
    """还得出维修的钱 is cut into 得出 (to conclude): word-level scoring alone prefers the fee-standard entry."""
    q = kb.analyzer.analyze("都交了物业费了 凭嘛还得出维修的钱")
    # word-level scoring alone: no bigram field, and no word associations (knowledge.assoc) either
    without = Matcher(kb.entries, kb.analyzer, replace(kb.matcher.policy, bigram_weight=0.0, assoc_weight=0.0))
    assert without.entries[without.rank(q, 1)[0][1]].id != "maintenance-fund-vs-fee"
    assert kb.matcher.entries[kb.matcher.rank(q, 1)[0][1]].id == "maintenance-fund-vs-fee"


def test_repeated_phrasings_are_weighted_once_and_shared(tmp_path):
    write(tmp_path, "kb.yaml", """\
        - id: a
          title: 物业费怎么交
          questions: [物业费交到哪里, 物业费怎么交]
          answer: 略
          source: 合成
        - id: b
          title: 物业费交到哪里
          questions: [物业费可以线上交吗]
          answer: 略
          source: 合成
        """)
    kb = KnowledgeBase.load(tmp_path)
    m = kb.matcher
    a, b = m.entry_phrases
    assert len(a) == 2  # the title repeated as a question counts once for the entry
    assert set(a) & set(b)  # 物业费交到哪里 is one phrasing shared by both entries
    # Each distinct phrasing is weighted once, exactly as BM25 over every phrasing occurrence would weight it.
    occurrences = [t for e in kb.entries for t in e.phrasings()]
    ids = {t: i for i, t in enumerate(dict.fromkeys(occurrences))}
    assert len(m.phrase_terms) == len(ids) == 3
    for text, pid in ids.items():
        assert m.phrase_terms[pid] == _reference_weights(kb, occurrences, text)


def _reference_weights(kb, occurrences, text):
    """BM25 weights of `text`'s terms with one document per phrasing occurrence (the plain definition)."""
    p = kb.matcher.policy
    out: dict[str, float] = {}
    for field, scale in (("tokens", 1.0), ("grams", p.gram_weight)):
        docs = [list(getattr(kb.analyzer.analyze(t), field)) for t in occurrences]
        n, avg = len(docs), sum(map(len, docs)) / len(docs)
        doc = list(getattr(kb.analyzer.analyze(text), field))
        norm = p.k1 * (1 - p.b + p.b * len(doc) / avg)
        for term in dict.fromkeys(doc):
            df = sum(term in d for d in docs)
            tf = doc.count(term)
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            out[term] = out.get(term, 0.0) + scale * idf * tf * (p.k1 + 1) / (tf + norm)
    return pytest.approx(out)


def test_particles_are_not_glued_onto_words(kb):
    """jieba's dictionary has 有用吗 / 有事吗 as words; the knowledge base's tokenizer cuts them 有用 / 吗."""
    from knowledge.analyzer import _pristine_tokenizer

    assert "有用吗" in _pristine_tokenizer().cut("投诉有用吗", HMM=False)  # the general dictionary glues it
    assert "有用" in kb.analyzer.tokens("找物业投诉业委会有用吗")
    assert "有事" in kb.analyzer.tokens("物业有事吗")
    assert "北京酒吧" in kb.analyzer.tokens("北京酒吧")  # a word whose stem is not a word stays whole


def test_unknown_words_back_off_to_known_parts(kb):
    """交行 (a bank, to jieba) is a word no entry uses: its known part 交 still counts, stop words do not."""
    m = kb.matcher
    tokens = kb.analyzer.analyze("物业费交行吗").tokens
    assert "交行" in tokens and "交行" not in m.words.idf
    assert m.backoff(tokens) == {"交"}
    assert m.backoff(("物业费", "交")) == set()  # known words are left alone
    plain = Matcher(kb.entries, kb.analyzer, replace(kb.matcher.policy, backoff_weight=0.0))
    q = kb.analyzer.analyze("物业费交行吗")
    assert m.rank(q, 1)[0][0] > plain.rank(q, 1)[0][0]
