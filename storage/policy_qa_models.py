"""Tables of the policy Q&A feature: what residents asked that the knowledge base could not answer well,
ratings of answers, questions handed to staff (转人工), and the knowledge-base generation for hot reload."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import NEVER_REUSE_IDS, Base, utcnow


class KbGap(Base):
    """A normalised question the knowledge base answered with low confidence or not at all, with its count.
    The question and its example are stored redacted (no phones, rooms, names); `example_ref` is the ref of the
    resident whose words the example is, so their erasure removes it."""

    __tablename__ = "kb_gaps"
    __table_args__ = (UniqueConstraint("question_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    question_key: Mapped[str] = mapped_column(String(200))
    example: Mapped[str] = mapped_column(String(500))
    example_ref: Mapped[str | None] = mapped_column(String(32), index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # none / ambiguous
    count: Mapped[int] = mapped_column(Integer, default=1)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id", ondelete="SET NULL"), index=True)
    first_asked: Mapped[datetime] = mapped_column(default=utcnow)
    last_asked: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_entry: Mapped[str | None] = mapped_column(String(100))  # staff marked it covered by this entry


class KbRating(Base):
    """有用 / 没用 counts per knowledge-base entry."""

    __tablename__ = "kb_ratings"
    entry_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    useful: Mapped[int] = mapped_column(Integer, default=0)
    useless: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Inquiry(Base):
    """A question a resident handed to staff (转人工). Keeps the anonymous ref, never the openid; erasure clears
    the question and the answer (status `withdrawn` when it was still open)."""

    __tablename__ = "inquiries"
    __table_args__ = NEVER_REUSE_IDS
    id: Mapped[int] = mapped_column(primary_key=True)
    resident_ref: Mapped[str] = mapped_column(String(32), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id", ondelete="SET NULL"), index=True)
    question: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open / answered / withdrawn
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]


class KbGeneration(Base):
    """Bumped by `linli kb reload` (or the console): every server reloads the knowledge base from `directory`."""

    __tablename__ = "kb_generation"
    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    generation: Mapped[int] = mapped_column(Integer, default=0)
    directory: Mapped[str | None] = mapped_column(String(500))  # None: the bundled knowledge base
    requested_by: Mapped[str | None] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)


class KbMonthlyCount(Base):
    """How many questions residents asked per local month and community, by outcome: `answer` rows count the
    answers of one knowledge-base entry (`entry_id`, the topic; `title` as last shown), `ambiguous` / `none` rows
    (entry "") the questions it could not answer. Feeds the monthly report (questions answered and unanswered,
    the most asked topics); one upsert per question, in the webhook's transaction. `community_id` 0: unbound."""

    __tablename__ = "kb_monthly_counts"
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # 2026-11 (local)
    community_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)  # answer / ambiguous / none
    entry_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    count: Mapped[int] = mapped_column(Integer, default=0)
