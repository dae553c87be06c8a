"""Opening the project's SQLite files: WAL, a busy timeout, and a safe switch to WAL.

Every database here (queue, conversations, Rasa's locks) can be opened by more than one process
at once: the bot and the staff CLI, or several Rasa workers. WAL lets readers and one writer
work together; the busy timeout makes a second writer wait instead of failing.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

BUSY_TIMEOUT_SECONDS = 10.0


def open_database(path: str | Path, synchronous: str = "NORMAL",
                  check_same_thread: bool = True) -> Database:
    """A connection in WAL mode; `synchronous` FULL where a power cut must lose nothing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # sqlite3's `timeout` is SQLite's busy timeout (PRAGMA busy_timeout) for this connection.
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_SECONDS,
                           check_same_thread=check_same_thread)
    db = Database(conn)
    _enable_wal(db)
    db.execute(f"PRAGMA synchronous = {synchronous}")
    return db


def _enable_wal(db: Database) -> None:
    """Switch a new file to WAL, waiting for other processes doing the same.

    SQLite answers `PRAGMA journal_mode=wal` with "database is locked" at once, without its
    busy timeout, when another connection is switching the same new file (bot and CLI starting
    together: 18 of 200 three-way races here). Retry until the busy timeout would have expired.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            db.enable_wal()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """A transaction that takes the write lock up front (`BEGIN IMMEDIATE`).

    `db.atomic()` starts a deferred transaction: in WAL mode a transaction that read first and
    then writes after another connection committed fails at once with SQLITE_BUSY instead of
    waiting. Taking the lock first makes concurrent writers (bot, CLI) queue behind each other.
    Inside, `db.atomic()` still works and nests as a savepoint.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    else:
        db.commit()
