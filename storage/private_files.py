"""Files that hold residents' data are created readable by their owner only (0600), whatever the umask: the SQLite
database (SQLite then gives its -wal, -shm and -journal files the database file's mode) and `linli db backup`
copies. Creating the file empty first, with O_EXCL and the mode, needs no process-wide umask change (which would
race with other threads); an empty file is a valid empty SQLite database."""
from __future__ import annotations

import os
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def create_private(path: Path | str) -> bool:
    """Create `path` empty with mode 0600 unless it exists; True when it was created."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def private_folder(path: Path | str) -> None:
    """Make the folder (and its parents) if missing; a folder made here is 0700."""
    Path(path).mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
