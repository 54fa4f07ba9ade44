"""Satisfaction survey campaigns (issue 7): campaigns, their areas, responses with their audit trail, drafts of
unfinished answers, and per-estate quota counters.

One voice per campaign is enforced by the database, not by code: `survey_responses` is unique on
(survey_id, voter_key) — the voter key is the resident's anonymous ref, or, when the campaign counts households, a
keyed hash (HMAC, `LINLI_HOUSEHOLD_KEY`) of community+estate+building+room, never the room in clear — and on
(survey_id, resident_ref), so a person who re-binds to another room still has one voice. Erasing a resident keeps
their vote counted with a fresh random ref and the household's hash, so the household cannot vote again by
erasing and re-binding (handlers/surveys/erasure.py). Drafts are personal and go with the resident.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import NEVER_REUSE_IDS, Base, utcnow

BIGINT = BigInteger().with_variant(Integer, "sqlite")

STATUSES = ("draft", "scheduled", "open", "closed", "published")
SUBJECT_TYPES = ("property_company", "developer", "old_estate_unit", "free")


class Survey(Base):
    """A campaign: subject, scope, eligibility rule, window, reminders, quota and (frozen once voted) questions."""

    __tablename__ = "surveys"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(128))
    template: Mapped[str] = mapped_column(String(16))  # property / developer / old-estate / custom
    subject_type: Mapped[str] = mapped_column(String(24))  # see SUBJECT_TYPES
    subject_id: Mapped[int | None] = mapped_column(Integer)  # PropertyCompany.id / Developer.id; None otherwise
    subject_name: Mapped[str] = mapped_column(String(128))
    scope_level: Mapped[str] = mapped_column(String(16))  # estate / community / street / district
    scope_ids: Mapped[list] = mapped_column(JSON, default=list)
    owners_only: Mapped[bool] = mapped_column(Boolean, default=True)
    per_household: Mapped[bool] = mapped_column(Boolean, default=True)
    questions: Mapped[list] = mapped_column(JSON, default=list)
    questions_version: Mapped[int] = mapped_column(Integer, default=1)
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)  # set by the first vote: questions fixed
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    quota_per_estate: Mapped[int | None] = mapped_column(Integer)
    reminders_max: Mapped[int] = mapped_column(Integer, default=2)
    reminder_gap_hours: Mapped[int] = mapped_column(Integer, default=48)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    invited_at: Mapped[datetime | None]
    last_reminded_at: Mapped[datetime | None]
    eligible_snapshot: Mapped[dict | None] = mapped_column(JSON)  # {estate id or "0": eligible} frozen at close
    published_ref: Mapped[str | None] = mapped_column(String(64))  # "notice:<id>" or "broadcast:<id>"
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_surveys_template_subject", "template", "subject_type", "subject_id"),)


class SurveyArea(Base):
    """The communities (and, for estate-level campaigns, estates) a campaign covers, expanded at creation, so
    jurisdiction filters and eligibility are plain joins."""

    __tablename__ = "survey_areas"
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    estate_id: Mapped[int | None] = mapped_column(ForeignKey("estates.id"))  # None: the whole community


class SurveyResponse(Base):
    """The response that counts: one per voter key and one per person, per campaign (unique constraints)."""

    __tablename__ = "survey_responses"
    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    voter_key: Mapped[str] = mapped_column(String(160))
    resident_ref: Mapped[str] = mapped_column(String(32))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"), index=True)
    community_id: Mapped[int | None] = mapped_column(Integer)
    estate_id: Mapped[int | None] = mapped_column(Integer)
    answers: Mapped[dict] = mapped_column(JSON)
    questions_version: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # how the voice came in (issue 19): `wechat`, or `paper` (a questionnaire entered by staff, one per household,
    # keyed like an online household vote, so one voice holds across channels); who collected and entered it
    channel: Mapped[str] = mapped_column(String(8), default="wechat", server_default="wechat")
    collector: Mapped[str | None] = mapped_column(String(32))
    entered_by: Mapped[str | None] = mapped_column(String(80))

    __table_args__ = (
        UniqueConstraint("survey_id", "voter_key", name="uq_survey_responses_voter"),
        UniqueConstraint("survey_id", "resident_ref", name="uq_survey_responses_person"),
        NEVER_REUSE_IDS,
    )


class SurveyResponseEvent(Base):
    """Audit trail: every submission (first and each change), kept after later ones replace it."""

    __tablename__ = "survey_response_events"
    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    response_id: Mapped[int] = mapped_column(BIGINT, ForeignKey("survey_responses.id", ondelete="CASCADE"))
    resident_ref: Mapped[str] = mapped_column(String(32))
    estate_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(8))  # submit / change
    answers: Mapped[dict] = mapped_column(JSON)
    at: Mapped[datetime]

    __table_args__ = (Index("ix_survey_response_events_survey_at", "survey_id", "at"),)


class SurveyDraft(Base):
    """Answers given so far by a resident who has not confirmed yet: resumes after expiry or restart."""

    __tablename__ = "survey_drafts"
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True)
    step: Mapped[int] = mapped_column(Integer, default=0)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    questions_version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime]


class SurveyQuota(Base):
    """Responses counted per estate for campaigns with a quota; a conditional UPDATE takes a place atomically."""

    __tablename__ = "survey_quotas"
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True)
    estate_key: Mapped[int] = mapped_column(Integer, primary_key=True)  # estate id, 0 when none
    responses: Mapped[int] = mapped_column(Integer, default=0)


class SurveyLog(Base):
    """The campaign's life cycle for staff: scheduled, opened, invited, reminded, closed, published."""

    __tablename__ = "survey_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(24))
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]
