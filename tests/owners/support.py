"""Helpers shared by the owners' tests: roster files and a database with the demo org tree."""
from __future__ import annotations

import csv
import io
from contextlib import asynccontextmanager

import openpyxl

from storage.db import Database
from storage.repositories.org import load_demo

HEADER = ["小区编码", "楼号", "单元", "房号", "专有部分面积", "业主姓名", "联系电话"]
ESTATE = "HX-YYL-YJ-01"  # 谊景花园, in 谊景社区 of 友谊路街道
OTHER_STREET_ESTATE = "HX-MJ-LS-01"


def csv_bytes(rows, header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def xlsx_bytes(rows, header=HEADER) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@asynccontextmanager
async def demo_db(url: str):
    db = Database(url)
    try:
        async with db.transaction() as session:
            await load_demo(session)
        yield db
    finally:
        await db.dispose()
