"""The gate on a knowledge base written the way staff write entries in the console (issue 17): 4 example
questions per entry, a few dozen words in all. A single entry far ahead is answered; vague and out-of-scope
questions are not."""
from __future__ import annotations

import pytest

from knowledge import KnowledgeBase

ENTRIES = """\
- id: elderly-canteen
  title: 老年食堂在哪？怎么吃饭？
  questions: [社区食堂几点开饭, 老年饭桌多少钱一顿, 老人吃饭补贴, 社区有给老人做饭的地方吗]
  answer: 老年食堂在社区服务中心一楼，中午11点到12点半开饭，80岁以上老人每餐补贴3元。
  source: 社区服务中心
- id: pet-dog-registration
  title: 养狗要办证吗？
  questions: [狗证在哪办, 养犬登记需要什么, 狗要打疫苗吗, 犬证多少钱]
  answer: 养犬须到派出所办理养犬登记证，带狗的免疫证明和房本，每年年检。
  source: 天津市养犬管理条例
- id: parking-monthly-fee
  title: 月租车位多少钱？
  questions: [地面车位包月价格, 停车月卡怎么办, 地库月租多少, 停车费怎么交]
  answer: 地面车位每月150元，地库每月300元，在物业前台办理。
  source: 小区停车管理办法
- id: elevator-trapped
  title: 被困电梯怎么办？
  questions: [电梯卡住了, 电梯困人打什么电话, 电梯停在半截, 坐电梯出事了找谁]
  answer: 按电梯内的紧急呼叫按钮，或拨打电梯内张贴的维保电话和96333，不要扒门。
  source: 物业服务中心
- id: garbage-sorting
  title: 垃圾怎么分类？
  questions: [厨余垃圾扔哪个桶, 可回收物有哪些, 垃圾几点收, 大件垃圾怎么扔]
  answer: 厨余垃圾投绿桶，可回收物投蓝桶，有害垃圾投红桶，其他垃圾投灰桶；每天7点到9点、18点到20点定时投放。
  source: 天津市生活垃圾管理条例
- id: noise-neighbor
  title: 楼上太吵怎么办？
  questions: [邻居半夜噪音, 楼上装修吵, 邻居天天吵架扰民, 噪音找谁管]
  answer: 先与邻居沟通；夜间噪音可拨打110，装修噪音找物业，长期纠纷可到居委会调解。
  source: 居委会
"""


@pytest.fixture(scope="module")
def community(tmp_path_factory) -> KnowledgeBase:
    directory = tmp_path_factory.mktemp("community")
    (directory / "entries.yaml").write_text(ENTRIES, encoding="utf-8")
    return KnowledgeBase.load(directory)


@pytest.mark.parametrize("question, entry_id", [
    # the best entry scores about four times the second: answered (the gate before issue 17 offered the menu)
    ("电梯卡在两层中间了 人在里面出不来 打哪个电话", "elevator-trapped"),
    ("刚养了条小狗 要去哪办狗证 要带什么", "pet-dog-registration"),
    ("我爸80多了 社区食堂中午几点开饭 一顿多少钱", "elderly-canteen"),
    ("厨余垃圾应该扔哪个颜色的桶", "garbage-sorting"),
])
def test_a_single_entry_far_ahead_is_answered(community, question, entry_id):
    a = community.ask(question)
    assert a.matches[0].entry.id == entry_id
    assert a.matches[0].score >= 3 * a.matches[1].score
    assert a.outcome == "answer"


def test_a_vague_question_is_not_answered(community):
    assert community.ask("社区").outcome != "answer"


@pytest.mark.parametrize("question", ["医保卡丢了怎么补", "火车票在哪买", "今天天气怎么样"])
def test_other_services_are_not_answered(community, question):
    assert community.ask(question).outcome == "none"


def test_the_answer_does_not_depend_on_the_number_of_example_questions(community, tmp_path):
    """The same entry with eight example questions instead of four answers the same question."""
    more = ENTRIES.replace("questions: [电梯卡住了, 电梯困人打什么电话, 电梯停在半截, 坐电梯出事了找谁]",
                           "questions: [电梯卡住了, 电梯困人打什么电话, 电梯停在半截, 坐电梯出事了找谁, 电梯坏了人被关在里面,"
                           " 电梯突然不动了, 电梯门打不开, 电梯停电困人]")
    (tmp_path / "entries.yaml").write_text(more, encoding="utf-8")
    bigger = KnowledgeBase.load(tmp_path)
    q = "电梯卡在两层中间了 人在里面出不来 打哪个电话"
    for kb in (community, bigger):
        a = kb.ask(q)
        assert (a.outcome, a.matches[0].entry.id) == ("answer", "elevator-trapped")
