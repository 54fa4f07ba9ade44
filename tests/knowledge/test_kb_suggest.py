"""A "none" that still offers suggestions: only for questions that look in scope, never for other services."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from knowledge import KnowledgeBase, cli, render_answer
from knowledge.render import NO_MATCH_TEXT, SUGGEST_HEAD, SUGGEST_TAIL

IN_SCOPE_UNSURE = "投诉了半个月没动静"  # under the no-match threshold, but 投诉 is clearly ours


def test_in_scope_looking_question_gets_suggestions(kb):
    a = kb.ask(IN_SCOPE_UNSURE)
    assert a.outcome == "none" and a.suggested
    assert 1 <= len(a.matches) <= 3
    assert "complaint-timeline" in [m.entry.id for m in a.matches]
    text = render_answer(a)
    assert text.startswith(SUGGEST_HEAD) and text.endswith(SUGGEST_TAIL)
    assert "1. " in text and a.matches[0].entry.title in text and NO_MATCH_TEXT not in text


@pytest.mark.parametrize("question", ["水费在哪交", "契税怎么交", "公积金贷款怎么申请", "申请低保要啥材料",
                                      "户口迁移去哪办", "明天天气怎么样", "你好", ""])
def test_other_services_get_no_suggestions(kb, question):
    a = kb.ask(question)
    assert a.outcome == "none" and a.matches == [] and not a.suggested, question
    assert render_answer(a) == NO_MATCH_TEXT


def test_the_gate_is_the_policy(kb):
    """Same question, same ranking: the two suggest_* thresholds alone decide whether suggestions are offered."""
    off = KnowledgeBase(kb.entries, kb.analyzer, policy=replace(kb.matcher.policy, suggest_from=1.01))
    assert off.ask(IN_SCOPE_UNSURE).matches == []
    strict = KnowledgeBase(kb.entries, kb.analyzer, policy=replace(kb.matcher.policy, suggest_anchor=2.0))
    assert strict.ask(IN_SCOPE_UNSURE).matches == []
    loose = KnowledgeBase(kb.entries, kb.analyzer, policy=replace(kb.matcher.policy, suggest_from=0.0,
                                                                  suggest_anchor=-1.0))
    assert loose.ask("水费在哪交").suggested  # a question that ranks anything at all would get suggestions


def test_suggestions_respect_top(kb):
    assert len(kb.ask(IN_SCOPE_UNSURE, top=1).matches) == 1


def test_suggestions_never_an_answer_in_json_and_cli(capsys):
    assert cli.main(["kb", "ask", "--json", IN_SCOPE_UNSURE]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["outcome"] == "none" and data["matches"][0]["id"] == "complaint-timeline"
    assert cli.main(["kb", "ask", IN_SCOPE_UNSURE]) == 0
    out = capsys.readouterr().out
    assert "没有找到答案" in out and "可能想问" in out and "[complaint-timeline" in out
