"""SQLite's write-ahead log folded into the database file by a thread of its own, not by a committing request.

By default SQLite checkpoints inside the COMMIT that grows the log past 1,000 pages: that COMMIT copies ~4 MB
into the database file and syncs it, and linli runs SQLite's calls on the event loop's thread
(`storage.sqlite_inline`), so every request in flight waits. Under the realistic webhook mix at 500 msg/s that was
most of the open loop's p99 (42 ms; 24–28 ms without it, bench/webhook.py). The web app's database therefore
turns automatic checkpoints off (`Database(..., background_checkpoint=True)`) and runs this checkpointer while it
serves: every second a PASSIVE checkpoint on its own connection, which never takes the write lock, so writers go
on while it copies. Other processes (commands, the delivery worker) keep SQLite's automatic checkpoints; both kinds
of checkpoint may run side by side. When the last connection closes SQLite checkpoints once more.
"""
from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger("linli.db")

CHECKPOINT_EVERY = 1.0  # seconds between checkpoints


class WalCheckpointer:
    """A daemon thread that checkpoints one SQLite file every `every` seconds until `stop`."""

    def __init__(self, path: str, every: float = CHECKPOINT_EVERY):
        self.path, self.every = path, every
        self.checkpoints = 0  # completed checkpoint calls (tests, diagnosis)
        self.last: tuple[int, int, int] | None = None  # the last call's (busy, pages in the log, pages copied)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-wal-checkpoint", daemon=True)

    def start(self) -> "WalCheckpointer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def checkpoint(self, conn: sqlite3.Connection) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (1 if it could not finish, pages in the log, pages copied)."""
        busy, in_log, copied = self.last = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.checkpoints += 1
        return busy, in_log, copied

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, timeout=0, isolation_level=None)
        except sqlite3.Error as exc:
            log.warning("WAL checkpointer could not open the database: %s", exc)
            return
        try:
            while not self._stop.wait(self.every):
                try:
                    self.checkpoint(conn)
                except sqlite3.Error as exc:  # another checkpoint is running, the file is being restored…
                    log.info("WAL checkpoint skipped: %s", exc)
        finally:
            conn.close()
