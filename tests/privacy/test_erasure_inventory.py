"""Erasure covers every column that can hold a resident's words or identity, proven by walking the metadata.

Every table linked to a resident (a foreign key to `residents`, or to a table so linked, or a link by value
declared in `LINKED_BY_VALUE`) gets a row for one resident in which every column holds a marker: text with a
token, a phone number, a room and a name, the resident's ref and openid. After the erasure steps ran, each such
row is either gone, or each of its columns is
- declared anonymous (`ANONYMOUS`, with a reason): not checked;
- declared redacted (`REDACTED`): no phone number, room or name left;
- anything else: no marker left at all (text emptied or replaced, values changed or NULL).
A new column on any of these tables fails here until the erasure handles it or it is declared anonymous.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import JSON, Boolean, Date, DateTime, Enum, Float, Integer, String, Table, insert, select

from handlers.privacy.erasure import ANONYMOUS, LINKED_BY_VALUE, NOT_RESIDENT, REDACTED, erase_resident
from storage.db import Database
from storage.models import Resident
from storage.repositories.org import load_demo
from storage.schema import Base

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)
TOKEN = "ZQX"
IDENTITY = ("13812345678", "王先生", "3号楼2单元501")
MARKER = f"{TOKEN}王先生13812345678住3号楼2单元501"
OTHER = "ZQY李阿姨13987654321住5号楼1单元302"
DELETED_WITH_THE_RESIDENT = {"residents", "conversations", "processed_messages", "cs_windows", "delivery_mutes",
                             "survey_drafts"}


def linked_tables() -> dict[str, Table]:
    tables = Base.metadata.tables
    linked = {"residents", *LINKED_BY_VALUE}
    grew = True
    while grew:
        grew = False
        for table in tables.values():
            if table.name not in linked and any(fk.column.table.name in linked for fk in table.foreign_keys):
                linked.add(table.name)
                grew = True
    return {name: tables[name] for name in linked}


def test_the_declarations_name_real_columns_and_every_resident_link_is_known():
    tables = Base.metadata.tables
    linked = linked_tables()
    for name in [*ANONYMOUS, *REDACTED, *NOT_RESIDENT]:
        table, column = name.split(".")
        assert table in tables and column in tables[table].c, f"{name} is declared but does not exist"
    for name in [*ANONYMOUS, *REDACTED]:
        assert name.split(".")[0] in linked, f"{name}: not a resident-linked table, nothing to declare"
    assert not set(ANONYMOUS) & set(REDACTED)
    assert set(LINKED_BY_VALUE) <= set(tables)
    for table in tables.values():  # a column that names a resident makes its table resident-linked
        for column in table.c:
            looks_personal = column.name in ("openid", "resident_id") or column.name.endswith("_ref")
            if looks_personal and f"{table.name}.{column.name}" not in NOT_RESIDENT:
                assert table.name in linked, f"{table.name}.{column.name} points at a resident: declare the link"
    assert {"tickets", "ticket_events", "ticket_mediations", "survey_responses", "survey_response_events",
            "survey_drafts", "inquiries", "kb_gaps", "deliveries", "broadcasts", "delivery_mutes", "cs_windows",
            "conversations", "processed_messages"} <= set(linked)


def _value(column, marker: str, resident: dict, parents: dict):
    """A value for `column` in the marked row of `resident` (ids of the rows seeded before in `parents`)."""
    table, name = column.table.name, column.name
    if column.foreign_keys:
        [fk] = list(column.foreign_keys)
        target = fk.column.table.name
        if target == table:
            return None  # a link to another row of the same table
        return resident["id"] if target == "residents" else parents[target]
    if name in ("openid",):
        return resident["openid"]
    if name.endswith("_ref") and table != "surveys":
        return resident["ref"]
    if (table, name) == ("survey_responses", "voter_key"):
        return f"r:{resident['ref']}"
    if (table, name) == ("broadcasts", "scope"):
        return {"level": "all", "ids": [], "roles": [], "residents": [resident["id"]], "refs": [resident["ref"]]}
    if (table, name) == ("ticket_events", "actor"):
        return "resident"
    kind = column.type
    if isinstance(kind, Enum):
        return list(kind.enums)[0]
    if isinstance(kind, JSON):
        return {"q": marker, "parties": marker, "list": [marker]}
    if isinstance(kind, String):  # Text too
        return marker[: kind.length] if kind.length else marker
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, DateTime) or "DateTime" in type(kind).__name__:
        return NOW
    if isinstance(kind, Date):
        return date(2026, 11, 26)
    if isinstance(kind, Float):
        return 1.5
    if isinstance(kind, Integer):
        return 7
    raise AssertionError(f"no test value for {table}.{name} ({kind!r}): teach this test the type")


async def _seed(session, tables: dict[str, Table], resident: dict, marker: str, shared: dict) -> dict:
    """One marked row in every linked table for `resident`; returns {table: {"key": primary key, "values": row}}."""
    seeded: dict[str, dict] = {}
    parents = dict(shared)
    for table in Base.metadata.sorted_tables:
        if table.name not in tables or table.name == "residents":
            continue
        values = {}
        for column in table.c:
            if column.primary_key and column.autoincrement is True or (
                    column.primary_key and isinstance(column.type, Integer) and not column.foreign_keys
                    and len(table.primary_key.columns) == 1):
                continue
            values[column.name] = _value(column, marker, resident, parents)
        pk = (await session.execute(insert(table).values(**values).returning(*table.primary_key.columns))).one()
        seeded[table.name] = {"key": dict(zip([c.name for c in table.primary_key.columns], pk)), "values": values}
        if len(table.primary_key.columns) == 1:
            parents[table.name] = pk[0]
    return seeded


async def _shared_parents(session) -> dict:
    """Rows of the tables resident-linked rows point at but that are not themselves personal (org, staff, a
    survey), made once."""
    from storage.models import Community, Developer, District, Estate, PropertyCompany, Staff, Street
    from storage.survey_models import Survey

    found = {}
    for model in (District, Street, Community, Estate, Staff):
        found[model.__tablename__] = await session.scalar(select(model.id).order_by(model.id))
    imports = Base.metadata.tables["hotline_imports"]
    found["hotline_imports"] = (await session.execute(insert(imports).values(
        filename="x.xlsx", digest="0" * 64, rows=1, created=1, unplaced=0, known=0, imported_by="staff:x",
        imported_at=NOW).returning(imports.c.id))).scalar_one()
    survey = Base.metadata.tables["surveys"]
    values = {c.name: _value(c, "survey", {"id": None, "ref": "", "openid": ""}, {}) for c in survey.c
              if not c.primary_key}
    values["questions"] = [{"id": "q1", "kind": "rating", "title": "总体", "labels": list("12345")},
                           {"id": "q9", "kind": "comment", "title": "意见"}]
    found["surveys"] = (await session.execute(insert(survey).values(**values).returning(survey.c.id))).scalar_one()
    for model in (PropertyCompany, Developer):
        found[model.__tablename__] = await session.scalar(select(model.id).order_by(model.id))
    found.update(await _roster_parents(session, found))
    assert all(v is not None for v in found.values()), found
    assert Survey.__tablename__ == "surveys"
    return found


async def _roster_parents(session, found: dict) -> dict:
    """A roster room and owner and a motion (the owners' feature), which ballots and owner links point at."""
    from storage.owner_models import Motion, RosterOwner, RosterRoom

    room = RosterRoom(estate_id=found["estates"], building="1", unit="", room="101", area_cents=8950, updated_at=NOW)
    owner = RosterOwner(estate_id=found["estates"], name="业主", phone=None, updated_at=NOW)
    motion = Motion(estate_id=found["estates"], community_id=found["communities"], buildings=[], title="t", body="b",
                    kind="ordinary", status="open", opens_at=NOW, closes_at=NOW, created_by="staff:x", created_at=NOW)
    session.add_all([room, owner, motion])
    await session.flush()
    return {"roster_rooms": room.id, "roster_owners": owner.id, "motions": motion.id}


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


async def test_erasure_leaves_no_marker_in_any_resident_linked_column(db_url):
    tables = linked_tables()
    db = Database(db_url)
    try:
        async with db.transaction() as session:
            await load_demo(session)
            shared = await _shared_parents(session)
            people = []
            for openid in ("o_victim", "o_bystander"):
                row = Resident(openid=openid, community_id=shared["communities"], estate_id=shared["estates"],
                               building="3", room="501", subscribed=True, created_at=NOW, bound_at=NOW)
                session.add(row)
                await session.flush()
                people.append({"id": row.id, "ref": row.ref, "openid": row.openid})
            victim, bystander = people
            seeded = await _seed(session, tables, victim, MARKER, shared)
            kept = await _seed(session, {"tickets": tables["tickets"]}, bystander, OTHER, shared)
        async with db.transaction() as session:
            await erase_resident(session, await session.get(Resident, victim["id"]), NOW)
        problems = []
        async with db.reading() as session:
            assert await session.get(Resident, victim["id"]) is None
            for name, made in seeded.items():
                table = tables[name]
                row = (await session.execute(select(table).where(
                    *[table.c[k] == v for k, v in made["key"].items()]))).mappings().one_or_none()
                if row is None:
                    continue  # deleted: nothing left
                if name in DELETED_WITH_THE_RESIDENT:
                    problems.append(f"{name}: the row should go with the resident")
                for column in table.c:
                    full = f"{name}.{column.name}"
                    if full in ANONYMOUS:
                        continue
                    value, text = row[column.name], _text(row[column.name])
                    if full in REDACTED:
                        problems += [f"{full} still has {part!r}: {text[:80]}" for part in IDENTITY if part in text]
                        continue
                    if isinstance(value, (str, dict, list)):
                        for marker in (TOKEN, victim["ref"], victim["openid"], *IDENTITY):
                            if marker in text:
                                problems.append(f"{full} still has {marker!r}: {text[:80]}")
                    elif value is not None and value == made["values"].get(column.name, value):
                        problems.append(f"{full} kept {value!r}: erase it or declare it in ANONYMOUS")
            other = tables["tickets"]
            untouched = (await session.execute(select(other.c.description, other.c.phone).where(
                other.c.id == kept["tickets"]["key"]["id"]))).one()
        assert not problems, "\n".join(problems)
        assert untouched == (OTHER, OTHER[:32])  # another resident's ticket is not touched
    finally:
        await db.dispose()


@pytest.mark.parametrize("name", sorted(REDACTED))
def test_redacted_columns_say_why(name):
    assert len(REDACTED[name]) > 10
