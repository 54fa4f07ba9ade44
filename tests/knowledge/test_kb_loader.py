"""Loading and validation: every problem reported with its file and entry; bundled KB coverage."""
from __future__ import annotations

import pytest

from knowledge import Entry, KnowledgeBase, KnowledgeBaseError
from tests.knowledge.kb_testutil import write


def problems_of(directory) -> list[str]:
    with pytest.raises(KnowledgeBaseError) as info:
        KnowledgeBase.load(directory)
    assert info.value.problems
    return info.value.problems


def test_bundled_kb(kb):
    assert len(kb) >= 60
    assert len({e.id for e in kb.entries}) == len(kb)
    for e in kb.entries:
        assert isinstance(e, Entry) and e.answer and e.file.endswith(".yaml")
        # a source names a real document; entries about using linli itself cite none (never "linli 常见问题")
        assert (not e.source or "《" in e.source) and "linli" not in e.source.lower(), e.id
        assert "  " not in e.answer and " 街道" not in e.answer  # folded lines joined without spaces
    assert kb.get("joint-meeting-frequency").title.startswith("社区物业管理工作联席会议")
    assert kb.get("no-such-id") is None


def test_bundled_kb_covers_every_policy_measure(kb):
    text = " ".join(e.title + " ".join(e.questions) + " ".join(e.keywords) + e.answer for e in kb.entries)
    for term in ("三个提前", "三个公开", "三个上账", "五个到位", "联席会议", "三级", "应急解危", "质量保证金",
                 "旧楼区", "满意度", "诚信信息系统", "交叉任职", "联审联验", "执法"):
        assert term in text, term
    policy_sources = [e for e in kb.entries if "实施意见" in e.source]
    assert len(policy_sources) >= 30


def test_source_is_optional(tmp_path):
    write(tmp_path, "x.yaml", "- {id: how-to, title: 怎么用这个公众号, answer: 发送帮助查看}\n")
    [entry] = KnowledgeBase.load(tmp_path).entries
    assert entry.source == ""


def test_an_example_question_is_answered_by_its_entry(kb):
    """The knowledge base's own phrasings (the examples the bot suggests) get their entry, never a list."""
    for question, entry_id in (("维修基金怎么用", "maintenance-fund-usage"), ("业委会怎么成立", "owners-assembly-founding"),
                               ("维修基金怎么用？", "maintenance-fund-usage"), ("业委会 怎么成立", "owners-assembly-founding")):
        answer = kb.answer(question)
        assert (answer.outcome, answer.best.id) == ("answer", entry_id), question
    assert kb.answer("维修基金").outcome == "ambiguous"  # a bare topic still gets the list


def test_load_tiny(tiny_dir):
    kb = KnowledgeBase.load(tiny_dir)
    assert len(kb) == 2 and kb.get("fund-what").questions == ("维修资金的用途",)
    assert kb.ask("物业废咋交").matches[0].entry.id == "fee-pay"  # bundled synonyms still apply


def test_missing_fields_and_empty_answer(tmp_path):
    write(tmp_path, "bad.yaml", """\
        - id: ok-one
          title: 好的
          answer: 有
          source: s
        - id: no-answer
          title: 没答案
          source: s
        - id: empty-answer
          title: 空答案
          answer: "  "
          source: s
        - title: 没有id
          answer: 有
          source: s
        """)
    problems = problems_of(tmp_path)
    joined = "\n".join(problems)
    assert "bad.yaml 第2条（id=no-answer）：缺少字段 answer" in joined
    assert "bad.yaml 第3条（id=empty-answer）：字段 answer 为空" in joined
    assert "bad.yaml 第4条：缺少字段 id" in joined
    assert len(problems) == 3


def test_duplicate_ids_across_files(tmp_path):
    entry = "- {id: same, title: 标题, answer: 答, source: 源}\n"
    write(tmp_path, "a.yaml", entry)
    write(tmp_path, "b.yaml", entry)
    (problem,) = problems_of(tmp_path)
    assert "b.yaml 第1条（id=same）" in problem and "a.yaml 第1条" in problem and "重复" in problem


def test_unknown_field_bad_types_and_bad_yaml(tmp_path):
    write(tmp_path, "a.yaml", """\
        - id: typo
          title: 标题
          answr: 拼错
          answer: 答
          source: 源
        - id: listy
          title: 标题
          questions: {a: b}
          answer: 答
          source: 源
        - just a string
        """)
    write(tmp_path, "b.yaml", "- id: [unclosed\n")
    write(tmp_path, "c.yaml", "id: not-a-list\n")
    joined = "\n".join(problems_of(tmp_path))
    assert "a.yaml 第1条（id=typo）：未知字段 answr" in joined
    assert "a.yaml 第2条（id=listy）：字段 questions 应为文本列表" in joined
    assert "a.yaml 第3条：条目应为键值映射" in joined
    assert "b.yaml：无法解析" in joined
    assert "c.yaml：顶层应为条目列表" in joined


def test_missing_or_empty_directory(tmp_path):
    assert "目录不存在" in problems_of(tmp_path / "nope")[0]
    assert "没有找到条目文件" in problems_of(tmp_path)[0]


def test_own_synonyms_and_userdict(tmp_path):
    write(tmp_path, "t.yaml", "- {id: pets, title: 小区养宠物的规定, answer: 文明养宠。, source: s}\n")
    write(tmp_path, "synonyms.yaml", "synonyms:\n  宠物: [毛孩子, 猫猫狗狗]\n")
    write(tmp_path, "userdict.txt", "毛孩子 100 n\n")
    kb = KnowledgeBase.load(tmp_path)
    assert "宠物" in kb.analyzer.tokens("毛孩子")
    assert "业委会" not in kb.analyzer.aliases.table  # the bundled synonyms were replaced


def test_bad_synonyms_file(tmp_path):
    write(tmp_path, "t.yaml", "- {id: a, title: 标题, answer: 答, source: s}\n")
    write(tmp_path, "synonyms.yaml", "synonyms:\n  甲: [乙]\n  丙: [乙]\n")
    (problem,) = problems_of(tmp_path)
    assert "synonyms.yaml" in problem and "乙" in problem
