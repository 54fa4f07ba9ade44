"""Chinese reply text for an Answer, for the chat side and the command line."""
from __future__ import annotations

from .model import Answer

NO_MATCH_TEXT = "抱歉，这个问题我暂时答不上来，已记录下来供工作人员补充。你可以换个说法再问，或发送“转人工”联系工作人员。"
SUGGEST_HEAD = "没有找到确切的答案。您可能想问："
SUGGEST_TAIL = "回复数字查看；都不是请回复「转人工」"


def render_answer(answer: Answer) -> str:
    """The reply for an answer: the answer with its source; a numbered list; suggestions; or the no-match text."""
    if answer.outcome == "answer" and answer.matches:
        entry = answer.matches[0].entry
        return f"{entry.answer}\n（来源：{entry.source}）"
    if answer.outcome == "ambiguous" and answer.matches:
        lines = ["你想问的是不是下面的问题？请回复序号："]
        lines += [f"{i}. {m.entry.title}" for i, m in enumerate(answer.matches, start=1)]
        return "\n".join(lines)
    if answer.suggested:
        lines = [SUGGEST_HEAD]
        lines += [f"{i}. {m.entry.title}" for i, m in enumerate(answer.matches, start=1)]
        lines.append(SUGGEST_TAIL)
        return "\n".join(lines)
    return NO_MATCH_TEXT
