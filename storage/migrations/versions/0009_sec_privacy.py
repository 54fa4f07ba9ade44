"""sec-privacy: ids never reused, erasure flags, public summaries, household hashes, broadcast refs

- SQLite: `residents`, `tickets`, `inquiries`, `survey_responses`, `broadcasts` and `deliveries` are rebuilt with
  AUTOINCREMENT (Alembic batch mode), so the id of an erased resident (or of their records) is never handed out
  again. PostgreSQL's sequences never reuse ids: nothing to do there.
- `tickets.public_summary(_by, _at)`: the only ticket text ever published, approved by staff.
- `tickets.resident_erased_at`: the resident erased their data and can no longer be reached.
- `kb_gaps.example_ref`: whose words the example is (erased with them).
- Survey voter keys of households become keyed hashes (HMAC with `LINLI_HOUSEHOLD_KEY`, or the default derived
  from the AppSecret) instead of the room in clear.
- Broadcasts addressed to residents by id also name them by their immutable ref (`scope.refs`).
- Tickets and inquiries of residents erased before this version lose their personal data now.

Revision ID: 0009_sec_privacy
Revises: 0002_delivery, 0004_tickets, 0006_surveys, 0007_policy_qa (merges them: it rebuilds their tables)
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0009_sec_privacy"
down_revision = ("0002_delivery", "0004_tickets", "0006_surveys", "0007_policy_qa")
branch_labels = None
depends_on = None

NEVER_REUSE = ("residents", "tickets", "inquiries", "survey_responses", "broadcasts", "deliveries")
TICKET_COLUMNS = ("public_summary", "public_summary_by", "public_summary_at", "resident_erased_at")


def _ticket_columns() -> list[sa.Column]:
    return [sa.Column("public_summary", sa.Text(), nullable=True),
            sa.Column("public_summary_by", sa.String(length=80), nullable=True),
            sa.Column("public_summary_at", storage.models.UTCDateTime(), nullable=True),
            sa.Column("resident_erased_at", storage.models.UTCDateTime(), nullable=True)]
ERASED_DESCRIPTION = "（居民已删除个人信息，投诉内容已清除）"


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    for table in NEVER_REUSE:
        if sqlite:  # foreign keys are off during migrations (env.py): the rebuild fires no ON DELETE action
            with op.batch_alter_table(table, recreate="always",
                                      table_kwargs={"sqlite_autoincrement": True}) as batch_op:
                if table == "tickets":
                    for column in _ticket_columns():
                        batch_op.add_column(column)
        elif table == "tickets":
            for column in _ticket_columns():
                op.add_column("tickets", column)
    with op.batch_alter_table("kb_gaps") as batch_op:
        batch_op.add_column(sa.Column("example_ref", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_kb_gaps_example_ref"), ["example_ref"], unique=False)
    _hash_household_keys(bind)
    _name_broadcast_residents_by_ref(bind)
    _erase_orphans(bind)


def _hash_household_keys(bind) -> None:
    from bot.settings import Settings
    from handlers.surveys.rules import household_hash, household_parts

    secret = Settings.from_env().household_secret
    rows = bind.execute(sa.text("SELECT id, voter_key FROM survey_responses WHERE voter_key LIKE 'h:%'")).all()
    for row_id, key in rows:
        if key.count(":") >= 4:  # h:<community>:<estate>:<building>:<room>, not yet a hash
            community, estate, building, room = key[2:].split(":", 3)
            flat = "-".join(household_parts(building, room))
            bind.execute(sa.text("UPDATE survey_responses SET voter_key = :key WHERE id = :id"),
                         {"key": household_hash(secret, f"{community}:{estate}:{flat}"), "id": row_id})


def _name_broadcast_residents_by_ref(bind) -> None:
    refs = dict(bind.execute(sa.text("SELECT id, ref FROM residents")).all())
    for row_id, raw in bind.execute(sa.text("SELECT id, scope FROM broadcasts")).all():
        scope = raw if isinstance(raw, dict) else json.loads(raw or "{}")
        if scope.get("residents") and "refs" not in scope:
            scope["refs"] = [refs[i] for i in scope["residents"] if i in refs]
            bind.execute(sa.text("UPDATE broadcasts SET scope = :scope WHERE id = :id"),
                         {"scope": json.dumps(scope), "id": row_id})


def _erase_orphans(bind) -> None:
    erase = sa.text(
        "UPDATE tickets SET phone = NULL, phone_masked = NULL, location = NULL, photos = :photos,"
        " description = :description, rating_words = NULL, resident_erased_at = :now"
        " WHERE resident_id IS NULL AND resident_erased_at IS NULL"
    ).bindparams(sa.bindparam("now", type_=storage.models.UTCDateTime()))
    bind.execute(erase, {"photos": "[]", "description": ERASED_DESCRIPTION, "now": datetime.now(timezone.utc)})
    bind.execute(sa.text(
        "UPDATE inquiries SET question = '', answer = NULL,"
        " status = CASE WHEN status = 'open' THEN 'withdrawn' ELSE status END WHERE resident_id IS NULL"))


def downgrade() -> None:
    with op.batch_alter_table("kb_gaps") as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_gaps_example_ref"))
        batch_op.drop_column("example_ref")
    with op.batch_alter_table("tickets") as batch_op:
        for name in reversed(TICKET_COLUMNS):
            batch_op.drop_column(name)
