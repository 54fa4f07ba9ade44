"""Tables of the monthly report (issue 21).

- `report_issues`: one row per report the monthly job built (scope level and node, month), unique, so the job
  is safe to repeat; it keeps the headline figures shown in the console notice and how many staff were reached
  on WeChat. The report itself is computed from the live tables whenever it is opened.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow


class ReportIssue(Base):
    __tablename__ = "report_issues"
    __table_args__ = (UniqueConstraint("level", "node_id", "month", name="uq_report_issues_scope_month"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(16))  # district / street / community
    node_id: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(7), index=True)  # 2026-11
    headline: Mapped[dict] = mapped_column(JSON, default=dict)  # a few figures for the notice
    built_at: Mapped[datetime] = mapped_column(default=utcnow)
    pushed: Mapped[int] = mapped_column(Integer, default=0)  # staff reached through WeChat
