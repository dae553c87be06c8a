"""Rasa's SQLite files kept in order from outside Rasa (the bot, the CLI, the supervisor),
without importing Rasa.

Every message a user writes is stored as an event by the tracker store
(safemig/tracker_store.py). The bot deletes a user's events on /delete_my_data and
`safemig queue purge` deletes conversations idle longer than the retention period. A running
Rasa process notices: its cached conversation no longer matches the table's last event id, so
the next message starts a fresh conversation. The supervisor clears Rasa's conversation locks
(safemig/lock_store.py) before Rasa starts.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from safemig.sqlite import open_database

SECONDS_PER_DAY = 86_400
LOCKS_TABLE = "rasa_locks"


def _existing(path: Path, table: str) -> sqlite3.Connection | None:
    """A connection to `path` if it exists and holds `table`; never creates either."""
    if not path.exists():
        return None
    db = open_database(path)
    if table not in db.table_names():
        db.conn.close()
        return None
    return db.conn


def forget_conversation(path: Path, sender_id: str) -> int:
    """Delete every stored event of one conversation; how many were deleted."""
    conn = _existing(path, "events")
    if conn is None:
        return 0
    with conn:
        deleted = conn.execute("DELETE FROM events WHERE sender_id = ?", (sender_id,)).rowcount
    conn.close()
    return deleted


def purge_idle_conversations(path: Path, older_than_days: int,
                             now: float | None = None) -> int:
    """Delete conversations whose last event is older than the cutoff; how many."""
    if older_than_days < 0:
        raise ValueError("older_than_days must be >= 0")
    conn = _existing(path, "events")
    if conn is None:
        return 0
    cutoff = (time.time() if now is None else now) - older_than_days * SECONDS_PER_DAY
    idle = "SELECT sender_id FROM events GROUP BY sender_id HAVING max(timestamp) < ?"
    with conn:
        senders = [row[0] for row in conn.execute(idle, (cutoff,))]
        conn.executemany("DELETE FROM events WHERE sender_id = ?", [(s,) for s in senders])
    conn.close()
    return len(senders)


def clear_locks(path: Path) -> None:
    """Forget every conversation lock (tickets of a Rasa that exited mean nothing)."""
    conn = _existing(path, LOCKS_TABLE)
    if conn is None:
        return
    with conn:
        conn.execute(f"DELETE FROM {LOCKS_TABLE}")
    conn.close()
