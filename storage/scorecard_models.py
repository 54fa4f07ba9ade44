"""Tables of the scorecards of property-service companies and developers (物业服务企业评议, issue 10).

- `disclosure_rules`: which disclosures (公示) an estate's property-service company owes, and how often: one row
  per estate and notice category (monthly 收支公示 due by the 10th, quarterly 物业服务事项公示 …), effective from a
  date so that adding a rule never makes past periods look missing.
- `scorecard_publications`: a scorecard staff chose to show residents: the subject (company or developer), the
  period, the jurisdiction it was computed for, which figure groups were published and a frozen snapshot of
  exactly those figures (overall and per estate). Withdrawing keeps the row (and who did it).
- `scorecard_publication_estates`: the estates a publication covers, so 「物业评分」 finds a resident's estate's
  latest publication with one indexed lookup.
- `scorecard_survey_totals`: the answers of a *finished* campaign pooled per estate (respondents, rating counts,
  sums and 4–5 counts, overall and per question), computed once by an SQL aggregate the first time a scorecard
  needs them. A closed campaign's answers never change (votes need an open campaign), so this is a cache, not
  a copy to keep in step; the row with estate 0 marks a campaign as done (even with no answers).
Tickets and notices are aggregated on demand.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow


class DisclosureRule(Base):
    __tablename__ = "disclosure_rules"
    __table_args__ = (UniqueConstraint("estate_id", "category", name="uq_disclosure_rules_estate_category"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(16))  # a notice category: property / finance / committee / …
    frequency: Mapped[str] = mapped_column(String(16))  # monthly / quarterly / yearly
    due_day: Mapped[int] = mapped_column(Integer)  # published by this day of the month / quarter / year (1-based)
    effective_from: Mapped[date] = mapped_column(Date)  # instances due before this day are not owed
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScorecardPublication(Base):
    __tablename__ = "scorecard_publications"
    __table_args__ = (Index("ix_scorecard_publications_subject", "kind", "subject_id", "published_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # property / developer
    subject_id: Mapped[int] = mapped_column(Integer)  # PropertyCompany.id / Developer.id
    subject_name: Mapped[str] = mapped_column(String(128))
    period: Mapped[str] = mapped_column(String(16))  # 2026-11, 2026-Q3, 2026-H1, 2026
    area_label: Mapped[str] = mapped_column(String(128))  # the jurisdiction it was computed for: 友谊路街道
    fields: Mapped[list] = mapped_column(JSON, default=list)  # published groups: composite survey tickets disclosure
    figures: Mapped[dict] = mapped_column(JSON, default=dict)  # {"overall": {...}, "estates": {"<id>": {...}}, ...}
    published_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by: Mapped[str | None] = mapped_column(String(64))


class ScorecardPublicationEstate(Base):
    __tablename__ = "scorecard_publication_estates"
    publication_id: Mapped[int] = mapped_column(ForeignKey("scorecard_publications.id", ondelete="CASCADE"),
                                                primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)


class ScorecardSurveyTotal(Base):
    __tablename__ = "scorecard_survey_totals"
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True)
    estate_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: the campaign's "computed" marker
    community_id: Mapped[int | None] = mapped_column(Integer)
    respondents: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    questions: Mapped[dict] = mapped_column(JSON, default=dict)  # {question id: [rated, total, satisfied]}
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
