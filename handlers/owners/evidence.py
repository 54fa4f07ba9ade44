"""Evidence photos for staff verification (issue 20): a resident who asked for 人工核验 may send a photo of the
房产证 (or 不动产权证书, a purchase contract) in chat instead of bringing it to the community office.

- `receive` (in the chat's transaction): one `owner_evidence` row per photo, at most MAX_PHOTOS kept at a time.
- `sweep` (the owners' job): downloads each due photo into the deployment's media store with ticket media's own
  `fetch_and_store` (`media/get`, the same type and size checks) and retry delays (handlers/tickets/media.py);
  deletes the object and then the row of every discarded photo; discards photos older than KEEP_DAYS.
- `delete_now`: when staff approve or reject the request, the resident's photos are deleted at once (object, then
  row); what cannot be deleted now is discarded and deleted by the next sweep.
- `staff_token` / `read_staff_link`: a signed, short-lived link for one staff account to one photo
  (`/console/owners/links/<link>/evidence/<token>`); only staff with jurisdiction over the estate see the pending
  request and its photos. Nobody else ever does: not the committee, not the resident (they sent it).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.media_links import link_token, read_token, store_of
from handlers.tickets.media import ALLOWED, fetch_and_store, retry_delay
from storage.models import Resident
from storage.owner_models import OwnerEvidence
from storage.repositories import owners as repo

log = logging.getLogger("linli.owners.evidence")
KEEP_DAYS = 7
MAX_PHOTOS = 5
LINK_MINUTES = 30
LINK_PURPOSE = "owners-evidence"
LEASE = timedelta(minutes=2)
STATUS_LABELS = {"pending": "接收中", "stored": "已接收", "failed": "接收失败（请居民重新发送）"}


def photo_extension(content_type: str | None) -> str | None:
    """The file extension of a kept photo's type; None for anything that is not a photo we keep."""
    found = ALLOWED.get(content_type or "")
    return found[0] if found is not None and found[1] == "image" else None


def staff_ref(staff_id: int) -> str:
    return f"staff:{staff_id}"


def staff_token(settings, item: OwnerEvidence, staff_id: int, now: datetime) -> str:
    """The token of `/console/owners/links/<link>/evidence/<token>`: this photo, for this staff account, for a
    short while."""
    return link_token(settings, item.id, staff_ref(staff_id), now + timedelta(minutes=LINK_MINUTES),
                      purpose=LINK_PURPOSE)


def read_staff_link(settings, token: str, staff_id: int, now: datetime) -> int | None:
    """The evidence row a valid, unexpired token made for this staff account names; else None."""
    read = read_token(settings, token[:200], now, purpose=LINK_PURPOSE)
    if read is None or read[1] != staff_ref(staff_id):
        return None
    return read[0]


def listing(settings, link_id: int, items: list[OwnerEvidence], staff_id: int, now: datetime) -> list[dict]:
    return [{"id": e.id, "status": e.status, "status_label": STATUS_LABELS.get(e.status, e.status),
             "received_at": e.received_at,
             "token": staff_token(settings, e, staff_id, now) if e.status == "stored" else None}
            for e in items]


async def receive(session, resident: Resident, media_id: str, now: datetime) -> bool:
    """Keep one more photo of the resident's request; False when MAX_PHOTOS are already kept (or no MediaId)."""
    if not media_id or resident.estate_id is None:
        return False
    if len(await repo.evidence_of(session, resident.id)) >= MAX_PHOTOS:
        return False
    repo.add_evidence(session, resident.id, resident.estate_id, media_id, now)
    return True


# ---- the sweep -----------------------------------------------------------------------------------------------

@dataclass
class EvidenceReport:
    stored: int = 0
    retried: int = 0
    failed: int = 0
    deleted: int = 0


async def sweep(services, now: datetime) -> EvidenceReport:
    report = EvidenceReport()
    async with services.db.transaction() as session:
        await repo.discard_evidence(session, received_before=now - timedelta(days=KEEP_DAYS))
    report.deleted = await purge(services)
    async with services.db.reading() as session:
        due = [(row.id, row.media_id or "", row.attempts) for row in await repo.evidence_due(session, now)]
    for row_id, media_id, attempts in due:
        try:
            outcome = await _download(services, row_id, media_id, attempts, now)
        except Exception:  # one bad photo must not stop the sweep
            log.exception("evidence download failed for owner_evidence %s", row_id)
            continue
        if outcome:
            setattr(report, outcome, getattr(report, outcome) + 1)
    return report


async def _download(services, row_id: int, media_id: str, attempts: int, now: datetime) -> str | None:
    async with services.db.transaction() as session:
        if not await repo.claim_evidence(session, row_id, attempts, now + LEASE):
            return None
    got = await fetch_and_store(services, media_id, "image", now)
    if got.key is None:
        return await _failed(services, row_id, attempts + 1, got.error, now, final=got.final)
    async with services.db.transaction() as session:
        kept = await repo.evidence_stored(session, row_id, got.key, got.content_type, got.size)
    if not kept:  # discarded while downloading: the object must not stay
        await store_of(services).delete(got.key)
        return None
    return "stored"


async def _failed(services, row_id: int, attempts: int, error: str, now: datetime, *, final: bool) -> str:
    again = not final and attempts < services.settings.media_attempts
    async with services.db.transaction() as session:
        await repo.evidence_retry(session, row_id, error,
                                  now + timedelta(seconds=retry_delay(attempts)) if again else None)
    return "retried" if again else "failed"


async def purge(services) -> int:
    """Delete the object, then the row, of each discarded photo."""
    async with services.db.reading() as session:
        rows = await repo.evidence_to_delete(session)
    done = 0
    for row_id, key in rows:
        if not await _delete_object(services, row_id, key):
            continue
        async with services.db.transaction() as session:
            await repo.delete_evidence_row(session, row_id)
        done += 1
    return done


async def _delete_object(services, row_id: int, key: str | None) -> bool:
    if not key:
        return True
    try:
        await store_of(services).delete(key)
    except Exception:
        log.warning("could not delete the evidence object of owner_evidence %s", row_id)
        return False
    return True


async def delete_now(services, session, resident_id: int) -> int:
    """Staff decided: delete the resident's photos now (object, then row); any object the store would not delete
    now is discarded for the sweep. Returns how many photos there were."""
    items = await repo.evidence_of(session, resident_id)
    for item in items:
        if await _delete_object(services, item.id, item.key):
            await repo.delete_evidence_row(session, item.id)
    await repo.discard_evidence(session, resident_id=resident_id)
    return len(items)
