"""Every transition through `service.perform`, who may make it at which level, the timeline it leaves, and what
the resident is told (through the delivery engine)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from handlers.tickets import service
from handlers.tickets.service import Filing, TicketError
from storage.delivery_models import Broadcast
from storage.repositories import tickets as repo
from storage.ticket_models import Ticket, TicketMediation
from tests.tickets.conftest import NOW, bind, staff_actor


async def new_ticket(services, openid="o_svc", community="HX-YYL-YJ", text="3号楼电梯坏了一周", category="repair",
                     phone=None, now=NOW) -> int:
    resident = await bind(services, openid, community)
    async with services.db.transaction() as session:
        resident = await session.merge(resident)
        ticket = await service.file_ticket(session, services, resident, Filing(category, text, phone=phone), now)
        return ticket.id


async def act(services, ticket_id, action, who, now=NOW, **params) -> str:
    async with services.db.transaction() as session:
        ticket = await repo.get(session, ticket_id)
        actor = who if isinstance(who, service.Actor) else await staff_actor(session, who)
        return await service.perform(session, services, ticket, action, actor, now, **params)


async def load(services, ticket_id) -> Ticket:
    async with services.db.transaction() as session:
        return await repo.get(session, ticket_id)


async def pushes(services, ticket_id) -> list[str]:
    async with services.db.transaction() as session:
        rows = await session.execute(select(Broadcast.text).where(Broadcast.source == f"ticket:{ticket_id}")
                                     .order_by(Broadcast.id))
        return list(rows.scalars())


async def test_lifecycle_at_the_community(services):
    tid = await new_ticket(services, phone="13812345678")
    t = await load(services, tid)
    assert t.number.startswith("JF20261126-") and t.status == "received" and t.phone_masked == "138****5678"
    with pytest.raises(TicketError) as refused:
        await act(services, tid, "resolve", "yijing", text="修好了")
    assert refused.value.status == 409  # must be signed first
    await act(services, tid, "sign", "yijing", now=NOW + timedelta(hours=2))
    await act(services, tid, "assign", "yijing", partner="property")
    t = await load(services, tid)
    assert t.status == "assigned" and t.assignee_label == "津安物业服务有限公司"
    assert t.responded_at == NOW + timedelta(hours=2)
    await act(services, tid, "note", "yijing", text="已电话联系物业经理")
    await act(services, tid, "reply", "yijing", text="物业已安排电梯公司明天上门")
    await act(services, tid, "resolve", "yijing", text="电梯已修复并通过检测")
    t = await load(services, tid)
    assert t.status == "resolved" and t.resolved_level == "community"
    said = await act(services, tid, "rate", service.resident_actor(t.resident_ref), score=5, words="很及时")
    t = await load(services, tid)
    assert t.status == "closed" and t.rating == 5 and t.closed_reason == "rated" and "5 分" in said
    async with services.db.transaction() as session:
        events = await repo.events(session, tid)
        public = await repo.events(session, tid, public_only=True)
    assert [e.kind for e in events] == ["created", "sign", "assign", "note", "reply", "resolve", "rate"]
    assert "note" not in [e.kind for e in public]
    assert events[1].actor == "staff:yijing" and events[1].at == NOW + timedelta(hours=2)
    texts = await pushes(services, tid)
    assert any("签收" in x for x in texts) and any("津安物业" in x for x in texts)
    assert any("明天上门" in x for x in texts) and any("请评价" in x for x in texts)
    assert not any("电话联系物业经理" in x for x in texts)  # internal notes are never pushed


@pytest.mark.parametrize("username,action,params,allowed", [
    ("yijing", "sign", {}, True),
    ("youyilu", "sign", {}, False),       # the street supervises, it does not sign community tickets
    ("youyilu", "note", {"text": "关注"}, True),
    ("youyilu", "chase", {}, True),       # 督办
    ("youyilu", "escalate", {"reason": "涉及多个社区"}, True),  # 提级
    ("pingjiang", "note", {"text": "x"}, False),  # another community: outside the jurisdiction
    ("hexi", "reject", {"reason": "x"}, False),
    ("admin", "reject", {"reason": "不属于物业管理范围"}, True),
    ("yijing", "return", {"rule": "《天津市物业管理条例》第X条"}, True),
])
async def test_who_may_act_on_a_community_ticket(services, username, action, params, allowed):
    from sqlalchemy import insert

    from storage.models import Community, Staff, StaffLevel
    async with services.db.transaction() as session:
        if not (await session.execute(select(Staff).where(Staff.username == "pingjiang"))).first():
            pj = (await session.execute(select(Community.id).where(Community.code == "HX-YYL-PJ"))).scalar_one()
            await session.execute(insert(Staff).values(username="pingjiang", display_name="平江", active=True,
                                                       level=StaffLevel.community, community_id=pj, created_at=NOW))
    tid = await new_ticket(services)
    if allowed:
        await act(services, tid, action, username, **params)
    else:
        with pytest.raises(TicketError) as refused:
            await act(services, tid, action, username, **params)
        assert refused.value.status == 403
        assert (await load(services, tid)).status == "received"


async def test_escalation_up_the_chain_and_the_district_is_the_top(services):
    tid = await new_ticket(services)
    await act(services, tid, "escalate", "yijing", reason="涉及开发商遗留问题")
    t = await load(services, tid)
    assert (t.level, t.status, t.escalations, t.signed_at) == ("street", "escalated", 1, None)
    assert t.sign_due_at > NOW and t.resolve_due_at == services.extras["tickets.sla"].calendar.add(NOW, 15)
    with pytest.raises(TicketError):
        await act(services, tid, "sign", "yijing")  # no longer theirs
    await act(services, tid, "sign", "youyilu")
    await act(services, tid, "return", "youyilu", rule="维修资金使用由区住建委审批")
    t = await load(services, tid)
    assert (t.level, t.status, t.escalations) == ("district", "escalated", 1)  # a return is not an escalation
    await act(services, tid, "sign", "hexi")
    with pytest.raises(TicketError) as top:
        await act(services, tid, "escalate", "hexi", reason="x")
    assert "最高一级" in top.value.message
    texts = await pushes(services, tid)
    assert any("友谊路街道" in x for x in texts) and any("河西区" in x for x in texts)
    assert any("维修资金使用由区住建委审批" in x for x in texts)


async def test_reject_with_reason_is_told_to_the_resident(services):
    tid = await new_ticket(services)
    with pytest.raises(TicketError):
        await act(services, tid, "reject", "yijing", reason="")
    await act(services, tid, "reject", "yijing", reason="属于邻里民事纠纷，建议申请人民调解")
    t = await load(services, tid)
    assert t.status == "rejected" and t.responded_at == NOW
    assert any("建议申请人民调解" in x for x in await pushes(services, tid))
    with pytest.raises(TicketError):
        await act(services, tid, "sign", "yijing")


async def test_bad_rating_reopens_once_then_offers_escalation(services):
    tid = await new_ticket(services)
    await act(services, tid, "sign", "yijing")
    await act(services, tid, "resolve", "yijing", text="已处理")
    ref = (await load(services, tid)).resident_ref
    me = service.resident_actor(ref)
    said = await act(services, tid, "rate", me, score=1, words="根本没修")
    t = await load(services, tid)
    assert t.status == "assigned" and t.reopened == 1 and t.level == "community" and "重新办理" in said
    await act(services, tid, "resolve", "yijing", text="再次维修")
    said = await act(services, tid, "unsatisfied", me)
    t = await load(services, tid)
    assert t.status == "resolved" and t.escalation_offered and "升级" in said and "友谊路街道" in said
    with pytest.raises(TicketError):
        await act(services, tid, "escalate", service.resident_actor("someone-else"))
    await act(services, tid, "escalate", me)
    t = await load(services, tid)
    assert (t.level, t.status, t.reopened, t.escalation_offered) == ("street", "escalated", 0, False)


async def test_asking_the_resident_pauses_the_clock(services):
    tid = await new_ticket(services)
    await act(services, tid, "sign", "yijing")
    due = (await load(services, tid)).resolve_due_at
    await act(services, tid, "ask", "yijing", text="请说明漏水的具体位置")
    ref = (await load(services, tid)).resident_ref
    later = NOW + timedelta(days=7)  # Thursday to Thursday: five working days waiting
    await act(services, tid, "supplement", service.resident_actor(ref), now=later, text="3单元顶楼楼梯间")
    t = await load(services, tid)
    assert t.waiting_since is None
    assert t.resolve_due_at == services.extras["tickets.sla"].calendar.add(due, 5)


async def test_linking_duplicates_keeps_both_residents_informed(services):
    first = await new_ticket(services, "o_a", text="小区东门路灯不亮")
    second = await new_ticket(services, "o_b", text="东门那边路灯坏了")
    async with services.db.transaction() as session:
        similar = await repo.similar_open(session, await repo.get(session, second))
    assert [t.id for t in similar] == [first]
    async with services.db.transaction() as session:
        dup, primary = await repo.get(session, second), await repo.get(session, first)
        await service.perform(session, services, dup, "link", await staff_actor(session, "yijing"), NOW,
                              primary=primary)
    assert (await load(services, second)).status == "closed"
    await act(services, first, "sign", "yijing")
    texts = await pushes(services, second)
    assert any("合并办理" in x for x in texts) and any("签收" in x for x in texts)


async def test_mediation_record(services):
    tid = await new_ticket(services, category="environment", text="楼上装修噪音扰民")
    await act(services, tid, "sign", "yijing")
    await act(services, tid, "mediation", "yijing", parties="501 业主；601 业主", agreement="装修限于 8:00–18:00",
              mediated_on="2026-11-27", committee="谊景社区人民调解委员会")
    async with services.db.transaction() as session:
        [record] = list((await session.execute(select(TicketMediation))).scalars())
    assert record.agreement == "装修限于 8:00–18:00" and str(record.mediated_on) == "2026-11-27"
    with pytest.raises(TicketError):
        await act(services, tid, "mediation", "yijing", parties="a", agreement="b", mediated_on="昨天")


async def test_erasing_the_resident_keeps_the_ticket(services):
    from handlers.privacy.erasure import erase_resident
    from storage.models import Resident
    tid = await new_ticket(services, "o_gone", phone="13812345678")
    async with services.db.transaction() as session:
        await erase_resident(session, await session.scalar(select(Resident).where(Resident.openid == "o_gone")), NOW)
    t = await load(services, tid)
    assert t is not None and t.resident_id is None and t.resident_ref and t.phone is None
    assert t.resident_erased_at == NOW and t.category == "repair" and t.status == "received"
    await act(services, tid, "sign", "yijing")  # still workable; nobody to push to
    with pytest.raises(TicketError, match="无法再请其补充"):
        await act(services, tid, "ask", "yijing", text="请提供照片")


async def test_a_ticket_whose_resident_vanished_is_erased_by_the_hourly_job(services):
    from handlers.tickets.erasure import ERASED_DESCRIPTION
    from handlers.tickets.jobs import erase_orphans
    from storage.repositories import residents
    tid = await new_ticket(services, "o_vanished", phone="13812345678")
    async with services.db.transaction() as session:
        await residents.erase(session, "o_vanished")  # the resident row alone, as a DELETE by hand would
    assert (await load(services, tid)).phone == "13812345678"
    assert await erase_orphans(services, NOW) == 1
    t = await load(services, tid)
    assert t.phone is None and t.description == ERASED_DESCRIPTION and t.resident_erased_at == NOW
    assert await erase_orphans(services, NOW) == 0


async def test_a_ticket_is_never_assigned_to_staff_who_cannot_see_it(services):
    """The level matches but the jurisdiction does not: a community worker of 蓝水社区 may not own a ticket of
    谊景社区 (nobody who can see it would own it)."""
    from storage.models import StaffLevel
    from storage.repositories import org
    from storage.repositories import staff as staff_repo

    tid = await new_ticket(services)
    await act(services, tid, "sign", "yijing")
    async with services.db.transaction() as session:
        lanshui = await org.community_by_code(session, "HX-MJ-LS")
        other = await staff_repo.create_staff(
            session, username="lanshui", display_name="蓝水社区工作人员", level=StaffLevel.community,
            node_ids={"community_id": lanshui.id, "street_id": lanshui.street_id,
                      "district_id": lanshui.street.district_id}, password_hash="x")
        other_id = other.id
    with pytest.raises(TicketError) as refused:
        await act(services, tid, "assign", "yijing", staff_id=other_id)
    assert "本辖区" in refused.value.message
    assert (await load(services, tid)).assignee_staff_id != other_id
    async with services.db.transaction() as session:
        admin_id = (await staff_repo.staff_by_username(session, "admin")).id
    await act(services, tid, "assign", "yijing", staff_id=admin_id)  # one who sees every community: fine
    assert (await load(services, tid)).assignee_staff_id == admin_id
