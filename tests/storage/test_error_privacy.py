"""A database error never carries the statement's parameters (a resident's words, a phone number) into an
exception message, and so never into a log line or an error reply."""
import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import Resident, utcnow

SECRET_WORDS = "我家3号楼2单元501，电话13812345678"


async def test_integrity_errors_hide_the_parameters(db_url):
    db = Database(db_url)
    try:
        async with db.transaction() as session:
            await session.execute(insert(Resident).values(openid="o_dup", ref="d" * 32, subscribed=True,
                                                          created_at=utcnow()))
        with pytest.raises(IntegrityError) as caught:
            async with db.transaction() as session:
                await session.execute(insert(Resident).values(openid="o_dup", ref="e" * 32, subscribed=True,
                                                              room=SECRET_WORDS, created_at=utcnow()))
        text = str(caught.value)
        assert "residents" in text  # the statement is named, so the error stays useful
        assert SECRET_WORDS not in text and "13812345678" not in text and "SQL parameters hidden" in text
    finally:
        await db.dispose()
