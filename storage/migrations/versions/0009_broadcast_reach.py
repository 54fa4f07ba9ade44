"""broadcasts keep the jurisdiction they were created in (`reach`: the community ids; null = the whole city), so
reads and retries are checked against it rather than against where the addressed residents live today

Revision ID: 0009_broadcast_reach
Revises: 0002_delivery
"""
from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0009_broadcast_reach"
down_revision = "0002_delivery"
branch_labels = None
depends_on = None

LEVEL_SQL = {
    "district": "SELECT c.id FROM communities c JOIN streets s ON s.id = c.street_id WHERE s.district_id IN ({ids})",
    "street": "SELECT id FROM communities WHERE street_id IN ({ids})",
    "community": "SELECT id FROM communities WHERE id IN ({ids})",
    "estate": "SELECT community_id FROM estates WHERE id IN ({ids})",
}


def upgrade() -> None:
    with op.batch_alter_table("broadcasts") as batch:
        batch.add_column(sa.Column("reach", sa.JSON(), nullable=True))
    conn = op.get_bind()
    for bid, raw in conn.execute(sa.text("SELECT id, scope FROM broadcasts")).all():
        scope = raw if isinstance(raw, dict) else json.loads(raw or "{}")
        reach = _reach(conn, scope)
        conn.execute(sa.text("UPDATE broadcasts SET reach = :reach WHERE id = :id"),
                     {"reach": None if reach is None else json.dumps(reach), "id": bid})


def _reach(conn, scope: dict) -> list[int] | None:
    residents = [int(i) for i in scope.get("residents") or []]
    if residents:  # what is known now; residents erased since reach nothing (admins only)
        ids = ",".join(str(i) for i in residents)
        rows = conn.execute(sa.text(f"SELECT DISTINCT community_id FROM residents WHERE id IN ({ids}) "
                                    "AND community_id IS NOT NULL")).scalars()
        return sorted(rows)
    sql = LEVEL_SQL.get(scope.get("level", "all"))
    if sql is None:
        return None
    ids = [int(i) for i in scope.get("ids") or []]
    return sorted(conn.execute(sa.text(sql.format(ids=",".join(str(i) for i in ids)))).scalars()) if ids else []


def downgrade() -> None:
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("reach")
