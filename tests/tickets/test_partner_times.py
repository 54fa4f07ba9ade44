"""Partner organisations' response and resolution times (`handlers.tickets.partner_times`), pure, with numbers
worked out by hand."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from handlers.tickets.partner_times import Event, Handling, handlings, percentile, summarise

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
P, Q = "property:1", "dept:河西区城管委"


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_sign_then_done_gives_response_and_resolution_hours():
    [h] = handlings([Event(at(0), "assign", P, at(72)), Event(at(3), "partner_sign", P),
                     Event(at(5), "reply", P), Event(at(30), "partner_done", P), Event(at(40), "resolve")])
    assert h.response_hours == 3 and h.resolution_hours == 30 and h.sent_back == 0
    assert h.ended_at == at(40) and not h.overdue(at(100))


def test_a_reply_or_a_done_report_is_a_response_but_staff_replies_are_not():
    [h] = handlings([Event(at(0), "assign", P, at(72)), Event(at(1), "reply", None),
                     Event(at(2.5), "reply", P)])
    assert h.response_hours == 2.5 and h.done_at is None
    [h] = handlings([Event(at(0), "assign", P, at(72)), Event(at(6), "partner_done", P)])
    assert h.response_hours == 6 and h.resolution_hours == 6


def test_after_a_send_back_the_later_done_report_counts():
    events = [Event(at(0), "assign", P, at(72)), Event(at(2), "partner_sign", P), Event(at(10), "partner_done", P),
              Event(at(12), "send_back"), Event(at(50), "partner_done", P)]
    [h] = handlings(events)
    assert h.resolution_hours == 50 and h.sent_back == 1 and h.response_hours == 2
    # sent back and not reported again: not done, overdue once the deadline passed
    [h] = handlings(events[:4])
    assert h.done_at is None and h.sent_back == 1 and not h.overdue(at(60)) and h.overdue(at(80))
    # 交办 again to the same organisation after its report is a send-back too; before it, nothing changes
    [h] = handlings([Event(at(0), "assign", P, at(72)), Event(at(1), "assign", P, at(72)),
                     Event(at(10), "partner_done", P), Event(at(11), "assign", P, at(72)),
                     Event(at(90), "partner_done", P)])
    assert h.handed_at == at(0) and h.sent_back == 1 and h.resolution_hours == 90 and h.overdue(at(100))


def test_handed_to_someone_else_ends_the_handling_and_starts_another():
    out = handlings([Event(at(0), "assign", P, at(24)), Event(at(30), "assign", Q, at(96)),
                     Event(at(31), "partner_sign", P), Event(at(32), "partner_sign", Q),
                     Event(at(40), "assign", None), Event(at(41), "partner_done", Q)])
    assert [(h.partner, h.handed_at, h.ended_at) for h in out] == [(P, at(0), at(30)), (Q, at(30), at(40))]
    assert out[0].responded_at is None and out[0].overdue(at(30))  # taken away after its deadline
    assert out[1].response_hours == 2 and out[1].done_at is None and not out[1].overdue(at(200))
    assert handlings([Event(at(0), "assign", None), Event(at(1), "partner_sign", P)]) == []


def test_percentile_is_nearest_rank():
    assert percentile([], 90) is None
    assert percentile([5], 90) == 5
    assert percentile(list(range(1, 11)), 90) == 9  # ceil(0.9 × 10) = 9th value
    assert percentile([4, 1, 3, 2], 90) == 4  # ceil(3.6) = 4th
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90) == 10  # ceil(9.9) = 10th


def test_summarise_per_organisation():
    def h(partner, response, done, due=48, sent_back=0):
        return Handling(partner, T0, at(due), None if response is None else at(response),
                        None if done is None else at(done), sent_back)

    figures = summarise([h(P, 1, 10), h(P, 3, 60, sent_back=2), h(P, 2, None), h(P, None, None), h(Q, 5, 5)],
                        now=at(100))
    p, q = figures[P], figures[Q]
    assert (p.handed, p.signed, p.done, p.overdue, p.sent_back) == (4, 3, 2, 3, 2)  # 60 > 48; two still open
    assert p.median_response_hours == 2 and p.p90_response_hours == 3
    assert p.median_resolution_hours == 35 and p.p90_resolution_hours == 60
    assert p.on_time_rate == 25.0
    assert q.as_dict() == {"handed": 1, "signed": 1, "done": 1, "overdue": 0, "sent_back": 0,
                           "median_response_hours": 5, "p90_response_hours": 5, "median_resolution_hours": 5,
                           "p90_resolution_hours": 5, "on_time_rate": 100.0}


async def test_the_real_timeline_of_a_partner_handling(services):
    """Through `service.perform`: 交办 keeps the organisation and the deadline; the partner's 签收 and 办结 reports,
    a second 交办 to it after the report (a send-back) and the later report are read back by `load` (both
    databases)."""
    from datetime import timedelta

    from handlers.console.staff_service import create_account
    from handlers.tickets import partner_times, service
    from tests.support import TEST_PASSWORD
    from tests.tickets.conftest import NOW
    from tests.tickets.test_service import act, load, new_ticket

    async with services.db.transaction() as session:
        jinan = await create_account(session, username="jinan", display_name="津安客服", level="community", node=None,
                                     password=TEST_PASSWORD, partner="WY-JA")
    tid = await new_ticket(services)
    await act(services, tid, "sign", "yijing")
    await act(services, tid, "assign", "yijing", now=NOW + timedelta(hours=1), partner="property")
    ticket = await load(services, tid)
    partner = service.partner_actor(jinan)
    await act(services, tid, "partner_sign", partner, now=NOW + timedelta(hours=3))
    await act(services, tid, "partner_done", partner, now=NOW + timedelta(hours=9), text="已修好")
    await act(services, tid, "assign", "yijing", now=NOW + timedelta(hours=10), partner="property")  # 退回
    await act(services, tid, "partner_done", partner, now=NOW + timedelta(hours=21), text="确已修好")
    async with services.db.transaction() as session:
        [found] = await partner_times.load(session, [ticket.community_id], NOW, NOW + timedelta(days=1))
        [(kind, name, figures)] = await partner_times.by_partner(session, None, NOW, NOW + timedelta(days=1),
                                                                 NOW + timedelta(days=1))
    h = found.handling
    assert (h.partner, h.due_at, h.response_hours, h.resolution_hours, h.sent_back) == (
        jinan.partner, ticket.resolve_due_at, 2, 20, 1)
    assert (kind, name, figures.handed, figures.done, figures.overdue) == ("物业服务企业", "津安物业服务有限公司", 1, 1, 0)
