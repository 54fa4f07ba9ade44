"""Round trips to PostgreSQL per webhook message, counted on the wire (`bench.pgwire`): the hot path's budget.

Each wait for the server costs a socket write, a read and a context switch on both sides; on PostgreSQL they were
most of a message's CPU (docs/architecture.md, "The hot path on PostgreSQL"). `PGWIRE_SHOW=1 … -s` prints the SQL.
"""
from __future__ import annotations

import os

import pytest
from sqlalchemy.engine import make_url

from bench.pgwire import WireCounter
from bot.simulator import text_xml

# Steady state (a known resident, a warm pool): BEGIN; replay claim + dedupe lookup + resident + conversation +
# window; the handler's own statements (a question's count, 帮助's menu reads); conversation save + dedupe row;
# COMMIT. Before these were folded (and the pool pinged every checkout): 9-12 for the same messages.
PLAIN_BUDGET = 5
RETRY_BUDGET = 3  # BEGIN, the first statement finds the dedupe row, COMMIT
DIALOG_BUDGET = 6  # a step of the bind dialog reads the communities it lists


pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # round trips: PostgreSQL's


@pytest.fixture
async def counted(db_url, start_bot, settings):
    url = make_url(db_url)
    proxy = WireCounter(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    bot = await start_bot(settings.with_(database_url=through))
    yield bot, proxy
    await proxy.close()


async def _send(bot, proxy, openid: str, content: str, msg_id: int) -> tuple[str | None, list[str]]:
    proxy.reset()
    response = await bot.sim.post(text_xml(openid, content, msg_id=msg_id))
    assert response.status == 200
    if os.environ.get("PGWIRE_SHOW"):
        print(f"\n--- {content} ({proxy.round_trips} round trips)")
        print("\n".join(proxy.log))
    return response.text, list(proxy.log)


async def test_a_plain_message_costs_a_fixed_few_round_trips(counted):
    bot, proxy = counted
    await _send(bot, proxy, "o_rt", "你好", 1)  # first contact: creates the resident, fills the pool
    await _send(bot, proxy, "o_rt", "你好", 2)  # every statement is prepared on the connection by now
    for n, content in enumerate(["西红柿炒鸡蛋怎么做", "物业费定价是市场调节还是政府定价", "帮助"]):
        reply, _ = await _send(bot, proxy, "o_rt", content, 10 + n)
        assert reply
        assert proxy.round_trips <= PLAIN_BUDGET, (content, proxy.round_trips, proxy.log)


async def test_a_retry_is_answered_from_its_record_within_the_budget(counted):
    bot, proxy = counted
    await _send(bot, proxy, "o_rt", "你好", 1)
    first, _ = await _send(bot, proxy, "o_rt", "帮助", 20)
    again, log = await _send(bot, proxy, "o_rt", "帮助", 20)  # WeChat's retry of the same MsgId
    assert again == first
    assert proxy.round_trips <= RETRY_BUDGET, log
    assert not any("INSERT INTO processed_messages" in line for line in log)  # nothing recorded twice


async def test_a_dialog_step_saves_its_state_within_the_budget(counted):
    bot, proxy = counted
    await _send(bot, proxy, "o_rt", "你好", 1)
    await _send(bot, proxy, "o_rt", "绑定", 2)
    await _send(bot, proxy, "o_rt", "取消", 3)
    await _send(bot, proxy, "o_rt", "绑定", 4)  # statements prepared by now
    _, log = await _send(bot, proxy, "o_rt", "1", 5)
    assert proxy.round_trips <= DIALOG_BUDGET, log
