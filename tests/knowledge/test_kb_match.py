"""The three outcomes, JSON shape, and quality floors on the development split."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from knowledge import Answer, KnowledgeBase, render_answer

EVAL = Path(__file__).resolve().parent.parent / "data" / "kb_eval.yaml"


def test_confident_answer(kb):
    a = kb.ask("你好，业委会多久换届？")
    assert a.outcome == "answer"
    assert a.matches[0].entry.id == "committee-term-renewal"
    assert a.confidence > 0.4
    assert "来源" in render_answer(a) and a.matches[0].entry.source in render_answer(a)


def test_homophone_typo_answered(kb):
    a = kb.ask("联系会议多久开一回")
    assert a.outcome == "answer" and a.matches[0].entry.id == "joint-meeting-frequency"


def test_ambiguous_lists_top_candidates(kb):
    a = kb.ask("维修基金")
    assert a.outcome == "ambiguous"
    assert len(a.matches) == 3
    assert all(m.entry.id.startswith("maintenance-fund") for m in a.matches)
    text = render_answer(a)
    assert text.count("\n") == 3 and "1. " in text and "3. " in text


def test_no_match(kb):
    for q in ("明天天气怎么样", "你好", "", "？？？", "居住证怎么办理"):
        a = kb.ask(q)
        assert a.outcome == "none", q
        assert a.matches == []
        assert "转人工" in render_answer(a)


def test_top_parameter(kb):
    assert len(kb.ask("维修基金", top=5).matches) == 5
    assert len(kb.ask("维修基金", top=1).matches) == 1


def test_to_json_shape(kb):
    data = kb.ask("物业费空着也要交吗").to_json()
    assert set(data) == {"question", "outcome", "matches"}
    assert data["outcome"] in ("answer", "ambiguous", "none")
    for m in data["matches"]:
        assert set(m) == {"id", "score", "title"} and isinstance(m["score"], float)
    assert Answer("q", "none").to_json() == {"question": "q", "outcome": "none", "matches": []}


def test_ranking_scores_descending(kb):
    scores = [m.score for m in kb.ask("物业费标准谁定", top=5).matches]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("split, top1_floor", [("dev", 0.90), ("dev2", 0.90), ("dev3", 0.85), ("dev4", 0.90),
                                               ("dev5", 0.90), ("dev6", 0.90)])
def test_dev_quality_floor(kb, split, top1_floor):
    """Guards against regressions on the tuning splits; the figures themselves come from bench/kb_eval.py."""
    rows = yaml.safe_load(EVAL.read_text(encoding="utf-8"))[split]
    inscope = [r for r in rows if r["id"] is not None]
    oos = [r for r in rows if r["id"] is None]
    top1 = top3 = 0
    for r in inscope:
        ids = {r["id"]} if isinstance(r["id"], str) else set(r["id"])
        got = [m.entry.id for m in kb.ask(r["q"]).matches]
        top1 += bool(got) and got[0] in ids
        top3 += any(g in ids for g in got[:3])
    false = sum(kb.ask(r["q"]).outcome == "answer" for r in oos)
    suggested = sum(kb.ask(r["q"]).suggested for r in oos)
    assert top1 / len(inscope) >= top1_floor
    assert top3 / len(inscope) >= 0.97
    # Issue 17: the 5% target holds per knowledge base (test_dev_out_of_scope_answered_pooled); a split has ~15
    # out-of-scope questions, so one answered is 6.7%: at most one per split.
    assert false <= max(1, int(0.05 * len(oos)))
    assert suggested / len(oos) <= 0.05  # other services are not offered our entries as suggestions


def test_dev_out_of_scope_answered_pooled(kb):
    """Out-of-scope questions of all development splits together: at most 5% answered (issue 17's target)."""
    data = yaml.safe_load(EVAL.read_text(encoding="utf-8"))
    oos = [r["q"] for split in ("dev", "dev2", "dev3", "dev4", "dev5", "dev6") for r in data[split] if r["id"] is None]
    assert len(oos) >= 100
    assert sum(kb.ask(q).outcome == "answer" for q in oos) / len(oos) <= 0.05


def test_eval_set_is_well_formed(kb):
    data = yaml.safe_load(EVAL.read_text(encoding="utf-8"))
    assert set(data) == {"dev", "heldout", "heldout2", "dev2", "heldout3", "dev3", "heldout4", "heldout5", "dev4", "dev5",
                         "dev6"}
    assert len(data["heldout2"]) >= 60 and sum(r["id"] is None for r in data["heldout2"]) >= 15
    for split, size in (("dev2", 150), ("heldout3", 80), ("dev3", 120), ("heldout4", 80), ("heldout5", 95), ("dev4", 95),
                        ("dev5", 95), ("dev6", 140)):  # ~15% out of scope
        n_oos = sum(r["id"] is None for r in data[split])
        assert len(data[split]) >= size and 0.12 <= n_oos / len(data[split]) <= 0.2, split
    rows = [r for split in data.values() for r in split]
    assert sum(r["id"] is None for r in rows) >= 30
    assert len({r["q"] for r in rows}) == len(rows)  # no question in two splits
    phrasings = {p for e in kb.entries for p in e.phrasings()}
    for r in rows:
        assert r["q"] not in phrasings, f"eval question copied from an entry: {r['q']}"
        if r["id"] is not None:
            for i in ([r["id"]] if isinstance(r["id"], str) else r["id"]):
                assert kb.get(i) is not None, i


def test_large_kb_rank_is_consistent(tmp_path):
    """Common-term deferral (used for big knowledge bases) keeps the same winner as exhaustive scoring."""
    lines = []
    for i in range(200):
        lines.append(f"- {{id: filler-{i}, title: 小区物业服务第{i}项说明, answer: 略, source: 合成}}")
    lines.append("- {id: target, title: 业主委员会换届选举怎么办, answer: 略, source: 合成}")
    (tmp_path / "big.yaml").write_text("\n".join(lines), encoding="utf-8")
    big = KnowledgeBase.load(tmp_path)
    assert big.matcher.words.common  # some terms are common at this size
    assert big.ask("业委会换届").matches[0].entry.id == "target"
