"""The S3 path of kept media, against an S3-compatible server (moto in server mode, started here on loopback):
the sweep stores a complaint's photo as an object under the configured prefix, staff get it through the console,
and erasure deletes the object."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers import tickets
from handlers.privacy.erasure import erase_resident
from handlers.tickets import media
from storage.media_models import TicketMedia
from storage.media_store import MediaMissing, S3Store, new_key
from storage.models import Resident
from tests.console.conftest import build_world
from tests.media.conftest import JPEG, complaint, put

BUCKET = "linli-media-test"


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, monkeypatch):
    import boto3

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


async def test_s3_store_puts_gets_and_deletes(bucket, s3_endpoint):
    store = S3Store(f"s3://{BUCKET}/city/a", s3_endpoint)
    key = new_key("202612", "jpg")
    await store.put(key, JPEG, "image/jpeg")
    head = bucket.head_object(Bucket=BUCKET, Key=f"city/a/{key}")
    assert head["ContentType"] == "image/jpeg" and head["ContentLength"] == len(JPEG)
    assert await store.get(key) == JPEG
    await store.delete(key)
    with pytest.raises(MediaMissing):
        await store.get(key)
    with pytest.raises(ValueError):
        await store.get("../../other-bucket/x.jpg")


async def test_complaint_photo_kept_in_s3_served_and_erased(bucket, s3_endpoint, aiohttp_client, db_url, api_base,
                                                            control):
    world = await build_world(aiohttp_client, db_url, plugins=[tickets.console], wechat_api_base=api_base,
                              media_url=f"s3://{BUCKET}/prod", media_s3_endpoint=s3_endpoint)
    ticket = await complaint(world, [{"media_id": await put(control, "image", JPEG, "image/jpeg"), "pic_url": ""}])
    assert (await media.sweep(world.services, world.clock()))["stored"] == 1
    async with world.services.db.reading() as session:
        row_id, key = (await session.execute(select(TicketMedia.id, TicketMedia.key)
                                             .where(TicketMedia.ticket_id == ticket.id))).one()
    assert bucket.get_object(Bucket=BUCKET, Key=f"prod/{key}")["Body"].read() == JPEG
    await world.login("yijing")
    resp = await world.client.get(f"/console/tickets/{ticket.id}/media/{row_id}")
    assert resp.status == 200 and await resp.read() == JPEG and resp.headers["Content-Type"] == "image/jpeg"
    async with world.services.db.transaction() as session:
        await erase_resident(session, await session.get(Resident, world.resident["YJ"]), world.clock())
    assert (await media.sweep(world.services, world.clock()))["purged"] == 1
    assert bucket.list_objects_v2(Bucket=BUCKET, Prefix="prod/").get("KeyCount") == 0
