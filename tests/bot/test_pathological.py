"""Issue 15 item 11: pathological inputs cost what ordinary ones do.

One signed 64 KB text held the event loop 20 s (the knowledge base's matcher: a quadratic walk over the parts of
one long unknown token), a draft of 49,000 `[` made every notice preview take 9 s (regex backtracking), and 1,200
nested `>` quotes gave a lasting 500 on /n/<id> (recursion). Each input here must finish well under a second.
"""
from __future__ import annotations

import asyncio
import time

import pytest

from bot.simulator import text_xml
from handlers.notices.markdown import MAX_QUOTE_DEPTH, plain_lines, render
from knowledge import KnowledgeBase
from knowledge.matcher import MAX_QUESTION_CHARS

LIMIT = 0.5  # seconds, for each input (ordinary inputs take milliseconds)

MARKDOWN = {
    "49,000 [": "[" * 49_000,
    "[a repeated": "[a" * 20_000,
    "unclosed links": "[a](http://x" * 4_000,
    "links without (": "[a](http://x]" * 4_000,
    "1,200 nested > on one line": ">" * 1_200 + " 深处",
    "1,200 lines of deepening quotes": "\n".join(">" * i + " 第%d层" % i for i in range(1, 1_201)),
    "unclosed bold and code": "**a`b" * 10_000,
    "bare schemes": "http://" * 7_000,
    "long list": "\n".join(f"- 第{i}项 [链接](https://example.invalid/{i})" for i in range(5_000)),
}


def _timed(fn, *args):
    started = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - started


@pytest.mark.parametrize("name", list(MARKDOWN))
def test_the_notice_renderer_is_linear(name):
    source = MARKDOWN[name]
    html, seconds = _timed(render, source)
    lines, more = _timed(plain_lines, source)
    assert seconds + more < LIMIT, f"{name}: {seconds:.2f}s + {more:.2f}s"
    assert "<script" not in html and lines


def test_quotes_nest_a_bounded_number_of_levels():
    html = render(">" * 1_200 + " 深处")
    assert html.count("<blockquote>") == MAX_QUOTE_DEPTH and "深处" in html  # the rest of the marks stay text
    assert render("> 一\n>> 二") == "<blockquote><p>一</p>\n<blockquote><p>二</p></blockquote></blockquote>"
    assert render("[文件](https://example.invalid/a)") == (
        '<p><a href="https://example.invalid/a" rel="nofollow noopener noreferrer">文件</a></p>')


@pytest.fixture(scope="module")
def kb():
    return KnowledgeBase.load()


QUESTIONS = {
    "one 64,000-letter word": "x" * 64_000,
    "one 4,000-letter word": "物业费" + "q" * 4_000,
    "64,000 digits": "1" * 64_000,
    "21,000 Chinese characters": "物业费怎么交维修基金业委会成立投诉电梯停车位" * 1_000,
    "spaced words": "物业 hello 费 " * 6_000,
}


@pytest.mark.parametrize("name", list(QUESTIONS))
def test_the_knowledge_base_reads_a_bounded_question(kb, name):
    answer, seconds = _timed(kb.ask, QUESTIONS[name])
    assert seconds < LIMIT, f"{name}: {seconds:.2f}s"
    assert len(answer.question) <= MAX_QUESTION_CHARS


def test_a_long_token_costs_linear_time(kb):
    # below the bound too: 300 letters used to cost 0.05 s, 4,000 cost 9 s (cubic in the token's length)
    _, short = _timed(kb.ask, "y" * 30)
    _, long = _timed(kb.ask, "y" * MAX_QUESTION_CHARS)
    assert long < max(20 * short, 0.05)


async def test_a_64kb_message_does_not_hold_the_event_loop(start_bot, settings):
    """A signed message as large as the body limit allows, while /healthz keeps answering."""
    bot = await start_bot(settings)
    room = settings.max_body_bytes - len(text_xml("o_big", "").encode()) - 64
    for body in ("x" * room, "[" * room, "物业费" * (room // 9), "1 " * (room // 2)):
        started = time.perf_counter()
        health = asyncio.create_task(_health_latency(bot))
        reply = await bot.sim.text("o_big", body)
        elapsed = time.perf_counter() - started
        assert reply.status == 200 and reply.text
        assert elapsed < 2.0, f"{body[:10]!r}…: {elapsed:.2f}s"
        assert await health < 1.0


async def _health_latency(bot) -> float:
    await asyncio.sleep(0.01)
    started = time.perf_counter()
    async with bot.sim.session.get(bot.server.make_url("/healthz")) as resp:
        await resp.read()
    return time.perf_counter() - started


@pytest.mark.parametrize("shape", ["x", "1", "1-", "a.", "a@"])
def test_redaction_is_linear(shape):
    """Policy Q&A redacts what it keeps of a question; a 60,000-character run once took seconds (the e-mail
    pattern rescanned the run from each of its characters)."""
    from handlers.privacy.redact import mask, redact

    text = shape * (60_000 // len(shape))
    _, seconds = _timed(redact, text)
    _, more = _timed(mask, text)
    assert seconds + more < LIMIT, f"{shape}: {seconds:.2f}s + {more:.2f}s"
    assert redact("请发到 wang.li@example.cn 谢谢") == "请发到 [邮箱] 谢谢"
