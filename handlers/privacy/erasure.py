"""Erasing a resident (「删除我的信息」, unfollow): every feature's step, run in the caller's transaction.

Each feature erases what it keeps about a resident in its own package and declares it in its `Feature`
(`erase=…`, `erase_warning=…`: the feature contract, bot/features.py); `erase_steps()` runs them all, then the
kernel's (the outbox, and the spine's: the resident row, their dialog and processed messages) last.
`warning_steps()` lists what a feature wants the resident to know before they confirm (an open complaint that
staff can then no longer follow up).

What an erasure keeps is declared here too: `ANONYMOUS` (columns of resident-linked tables that hold no words or
identity of the resident: the counts, categories, timestamps, levels and ratings the figures need) and `REDACTED`
(the staff's own words on a resident's record, kept for accountability with phone numbers, rooms and names cut
out). Every other column of a table linked to a resident must be emptied, deleted or replaced by the steps;
`tests/privacy/test_erasure_inventory.py` walks the metadata and proves it, so a new column cannot be forgotten.
"""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features import EraseStep, Feature, WarningStep, erase_warnings, installed_features
from bot.features import erase_steps as features_erase_steps
from storage.models import Resident


def erase_steps(features: Sequence[Feature] | None = None) -> list[EraseStep]:
    """Every feature's erasure step (`Feature.erase`, in feature order), then the kernel's: the outbox (messages
    addressed to the resident) and the spine's (the resident row, dialog and processed messages) last."""
    from bot.delivery import erasure as delivery
    from handlers.registration import erasure as registration

    found = installed_features() if features is None else features
    return [*features_erase_steps(found), delivery.erase_resident, registration.erase_resident]


def warning_steps(features: Sequence[Feature] | None = None) -> list[WarningStep]:
    """What features tell a resident who asks to erase their data, before they confirm (`Feature.erase_warning`)."""
    return erase_warnings(installed_features() if features is None else features)


async def erase_resident(session: AsyncSession, resident: Resident, now: datetime,
                         features: Sequence[Feature] | None = None) -> None:
    """Erase everything linli keeps about `resident`, in the caller's transaction."""
    for step in erase_steps(features):
        await step(session, resident, now)


async def warnings(session: AsyncSession, resident: Resident, features: Sequence[Feature] | None = None
                   ) -> list[str]:
    found = [await step(session, resident) for step in warning_steps(features)]
    return [text for text in found if text]


# ---- what erasure keeps -----------------------------------------------------------------------------------------

# Tables that point at a resident without a foreign key, and by what.
LINKED_BY_VALUE = {
    "conversations": "openid: the resident's dialog",
    "processed_messages": "openid: the resident's messages (retry protection)",
    "kb_gaps": "example_ref: whose words the example question is",
    "broadcasts": "scope.refs / scope.residents: a message addressed to particular residents",
}

# Columns named like a resident reference that are not one.
NOT_RESIDENT = {
    "staff.openid": "a staff member's own WeChat account, not a resident",
    "surveys.published_ref": "notice:<id> / broadcast:<id> of the published results",
    "motions.notice_ref": "notice:<id> of the published result of an owners' vote",
    "motions.disclosure_ref": "notice:<id> of a repair fund's spending disclosed after the vote",
}

_FACT = "an anonymous fact the figures need"
_ID = "the row's own id or a link between anonymous records"
_WHEN = "a timestamp of the record's life (figures and deadlines)"
_ORG = "the jurisdiction or partner the record belongs to (figures per community/estate/company)"
_STAFF = "who on the staff side acted (accountability), not the resident"

ANONYMOUS: dict[str, str] = {
    # tickets: the complaint as a figure
    "tickets.id": _ID, "tickets.number": "the public ticket number (JF…), assigned by linli",
    "tickets.community_id": _ORG, "tickets.estate_id": _ORG, "tickets.property_company_id": _ORG,
    "tickets.category": _FACT, "tickets.level": _FACT, "tickets.status": _FACT,
    "tickets.channel": _FACT + " (how the complaint came in: 微信, 电话, 12345…)",
    "tickets.created_at": _WHEN, "tickets.updated_at": _WHEN, "tickets.level_since": _WHEN,
    "tickets.sign_due_at": _WHEN, "tickets.resolve_due_at": _WHEN, "tickets.first_sign_due_at": _WHEN,
    "tickets.responded_at": _WHEN, "tickets.signed_at": _WHEN, "tickets.waiting_since": _WHEN,
    "tickets.chased_due_at": _WHEN, "tickets.overdue_at": _WHEN, "tickets.resolved_at": _WHEN,
    "tickets.closed_at": _WHEN, "tickets.rated_at": _WHEN, "tickets.public_summary_at": _WHEN,
    "tickets.resident_erased_at": "the mark that the resident erased their data (staff must see it)",
    "tickets.assignee_staff_id": _STAFF, "tickets.assignee_partner": _STAFF, "tickets.assignee_label": _STAFF,
    "tickets.public_summary_by": _STAFF,
    "tickets.resolved_level": _FACT, "tickets.closed_reason": _FACT, "tickets.reopened": _FACT,
    "tickets.escalations": _FACT, "tickets.escalation_offered": _FACT, "tickets.rating": "the rating (1–5): a figure",
    "tickets.duplicate_of_id": _ID, "tickets.claimed_at": _WHEN,
    "tickets.partner_done_at": _WHEN + " (the partner organisation reported it done)",
    "ticket_events.id": _ID, "ticket_events.ticket_id": _ID, "ticket_events.at": _WHEN,
    "ticket_events.kind": _FACT, "ticket_events.level": _FACT, "ticket_events.public": _FACT,
    "ticket_events.actor": "resident / system / staff:<username>: a role, or the staff member who acted",
    "ticket_events.actor_label": "居民 / 系统 / the staff member's name: a role, or who on the staff side acted",
    "ticket_mediations.id": _ID, "ticket_mediations.ticket_id": _ID, "ticket_mediations.mediated_on": _WHEN,
    "ticket_mediations.committee": "the mediation committee (an organisation)",
    "ticket_mediations.created_by": _STAFF, "ticket_mediations.created_at": _WHEN,
    # kept media (handlers/tickets/media.py): the resident's own are marked erased and their objects deleted by
    # the media sweep; staff evidence stays with the ticket
    "ticket_media.id": _ID, "ticket_media.ticket_id": _ID, "ticket_media.kind": _FACT,
    "ticket_media.source": _FACT + " (complaint / supplement / staff)", "ticket_media.status": _FACT,
    "ticket_media.attempts": _FACT, "ticket_media.next_try_at": _WHEN, "ticket_media.received_at": _WHEN,
    "ticket_media.stored_at": _WHEN, "ticket_media.content_type": _FACT, "ticket_media.size": _FACT,
    "ticket_media.key": "a random object name made by linli; an erased file's object is deleted by the sweep",
    "ticket_media.added_by": _STAFF,
    # surveys: the vote as a figure
    "survey_responses.id": _ID, "survey_responses.survey_id": _ID, "survey_responses.community_id": _ORG,
    "survey_responses.estate_id": _ORG, "survey_responses.questions_version": _FACT,
    "survey_responses.revision": _FACT, "survey_responses.channel": _FACT + " (wechat / paper)",
    "survey_responses.collector": "who collected a paper questionnaire (staff or a volunteer), not the resident",
    "survey_responses.entered_by": _STAFF, "survey_responses.created_at": _WHEN, "survey_responses.updated_at": _WHEN,
    "survey_response_events.id": _ID, "survey_response_events.survey_id": _ID,
    "survey_response_events.response_id": _ID, "survey_response_events.estate_id": _ORG,
    "survey_response_events.action": _FACT, "survey_response_events.at": _WHEN,
    # policy Q&A
    "inquiries.id": _ID, "inquiries.community_id": _ORG, "inquiries.status": _FACT,
    "inquiries.answered_by": _STAFF, "inquiries.created_at": _WHEN, "inquiries.answered_at": _WHEN,
    "kb_gaps.id": _ID, "kb_gaps.outcome": _FACT, "kb_gaps.count": _FACT, "kb_gaps.community_id": _ORG,
    "kb_gaps.first_asked": _WHEN, "kb_gaps.last_asked": _WHEN,
    "kb_gaps.resolved_entry": "the knowledge-base entry staff said covers the question",
    # delivery
    "deliveries.id": _ID, "deliveries.broadcast_id": _ID, "deliveries.status": _FACT,
    "deliveries.reason": _FACT, "deliveries.channel": _FACT, "deliveries.errcode": _FACT,
    "deliveries.attempts": _FACT, "deliveries.next_attempt_at": _WHEN,
    "deliveries.lease_owner": "the linli worker that sends it", "deliveries.lease_until": _WHEN,
    "deliveries.resent": _FACT, "deliveries.sent_at": _WHEN, "deliveries.final_status": _FACT,
    "broadcasts.id": _ID, "broadcasts.category": _FACT,
    "broadcasts.source": "the record that caused it (ticket:<id>, inquiry:<id>…), an anonymous id",
    "broadcasts.created_by": _STAFF, "broadcasts.status": _FACT, "broadcasts.send_at": _WHEN,
    "broadcasts.created_at": _WHEN, "broadcasts.started_at": _WHEN, "broadcasts.finished_at": _WHEN,
    "broadcasts.paused_until": _WHEN, "broadcasts.pause_reason": _FACT, "broadcasts.expand_cursor": _FACT,
    "broadcasts.expand_upto": _FACT, "broadcasts.expanded": _FACT,
    "broadcasts.reach": _ORG + " (community ids, fixed at creation: who on the staff side may see it)",
    "hotline_orders.id": _ID, "hotline_orders.number": "the hotline platform's own order number (an id)",
    "hotline_orders.import_id": _ID, "hotline_orders.line": _FACT, "hotline_orders.received_at": _WHEN,
    "hotline_orders.hotline_category": _FACT, "hotline_orders.category": _FACT, "hotline_orders.deadline_at": _WHEN,
    "hotline_orders.unit": _ORG, "hotline_orders.status": _FACT, "hotline_orders.candidates": _ORG,
    "hotline_orders.area_level": _ORG, "hotline_orders.area_id": _ORG, "hotline_orders.ticket_id": _ID,
    "hotline_orders.community_id": _ORG, "hotline_orders.imported_at": _WHEN, "hotline_orders.placed_at": _WHEN,
    "hotline_orders.placed_by": _STAFF, "hotline_orders.exported_at": _WHEN,
    # owners' votes: the ballot as a figure (a room of the roster and its choice count in the tally)
    "owner_ballots.id": _ID, "owner_ballots.motion_id": _ID, "owner_ballots.room_id": _FACT + " (the roster's room)",
    "owner_ballots.choice": _FACT, "owner_ballots.channel": _FACT, "owner_ballots.proxy": _FACT,
    "owner_ballots.collector": "who collected a paper ballot (a building leader or staff), not the resident",
    "owner_ballots.entered_by": _STAFF, "owner_ballots.cast_at": _WHEN, "owner_ballots.updated_at": _WHEN,
    "owner_ballot_events.id": _ID, "owner_ballot_events.ballot_id": _ID, "owner_ballot_events.motion_id": _ID,
    "owner_ballot_events.event": _FACT, "owner_ballot_events.choice": _FACT, "owner_ballot_events.at": _WHEN,
    # an owner's evidence photo, discarded at the erasure: the sweep deletes the object by its key, then the row
    "owner_evidence.id": _ID, "owner_evidence.estate_id": _ORG, "owner_evidence.status": _FACT,
    "owner_evidence.key": "a random object name made by linli; the sweep deletes the object, then the row",
    "owner_evidence.content_type": _FACT, "owner_evidence.size": _FACT, "owner_evidence.attempts": _FACT,
    "owner_evidence.received_at": _WHEN,
}
# broadcasts.text/title/summary/link: emptied when the message was addressed to the resident alone (a reply to
# their complaint or question); a message to many residents is nobody's words and stays, without their ref.

REDACTED: dict[str, str] = {
    "tickets.resolution": "the staff's answer: kept, phone numbers, rooms and names cut out",
    "tickets.reject_reason": "the staff's reason: kept, phone numbers, rooms and names cut out",
    "tickets.public_summary": "approved for publication without personal data; redacted again to be sure",
    "ticket_events.text": "staff entries redacted; the resident's own entries (created, supplement, rating) emptied",
    "ticket_events.data": "details of an action, redacted (mediation parties dropped)",
    "hotline_orders.address": "where the complaint is (street, estate) for the figures; the room cut out",
}
