"""Rasa's conversation locks in SQLite, shared by several Rasa worker processes.

Rasa answers each conversation's messages one at a time by handing out numbered tickets per
conversation (`TicketLock`). With its in-memory lock store only one process can do that, so
Rasa refuses to start more than one Sanic worker; Redis is the stock alternative, but it would
add a server to every deployment. This store keeps the same tickets in a SQLite file next to
the conversations and makes every read-modify-write of a lock one `BEGIN IMMEDIATE`
transaction, so two workers can never hand out the same ticket (Rasa's base class reads and
writes in separate steps, which is only safe inside one process).

Locks mean nothing after a restart: the supervisor empties the table before Rasa starts
(safemig/conversation_log.py). A worker that dies mid-turn leaves tickets that expire after
Rasa's lock lifetime.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from safemig.conversation_log import LOCKS_TABLE
from safemig.sqlite import open_database, write_transaction


class SQLiteLockStore(LockStore):
    """Ticket locks in one SQLite table; every update of a lock is atomic across processes."""

    def __init__(self, endpoint_config: EndpointConfig | None = None,
                 db: str | Path | None = None) -> None:
        path = db or (endpoint_config.kwargs.get("db") if endpoint_config else None)
        if not path:
            raise ValueError("SQLiteLockStore needs `db`: the path of its SQLite file")
        # Rasa calls the lock store from its event loop thread only.
        # synchronous=OFF: nothing here has to survive a crash (the table is emptied at start)
        self._db = open_database(path, synchronous="OFF", check_same_thread=False)
        self._db.conn.isolation_level = None  # explicit BEGIN IMMEDIATE below
        with write_transaction(self._db):  # workers starting together (tracker_store.py)
            self._db[LOCKS_TABLE].create({"conversation_id": str, "lock": str},
                                    pk="conversation_id", if_not_exists=True)
        super().__init__()

    # --- the three primitives Rasa's base class builds on -----------------------------------

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        row = self._db.execute(f"SELECT lock FROM {LOCKS_TABLE} WHERE conversation_id = ?",
                               [conversation_id]).fetchone()
        return TicketLock.from_dict(json.loads(row[0])) if row else None

    def delete_lock(self, conversation_id: str) -> None:
        deleted = self._db.execute(f"DELETE FROM {LOCKS_TABLE} WHERE conversation_id = ?",
                                   [conversation_id]).rowcount
        self._log_deletion(conversation_id, bool(deleted))

    def save_lock(self, lock: TicketLock) -> None:
        self._db.execute(f"INSERT OR REPLACE INTO {LOCKS_TABLE} (conversation_id, lock) "
                         "VALUES (?, ?)", [lock.conversation_id, lock.dumps()])

    # --- read-modify-write steps, each in one write transaction -----------------------------

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            with self._write():
                lock = self.get_or_create_lock(conversation_id)
                ticket = lock.issue_ticket(lock_lifetime)
                self.save_lock(lock)
            return ticket
        except Exception as exc:  # Rasa expects a LockError for any failure here
            raise LockError(f"Error while acquiring lock. Error:\n{exc}") from exc

    def update_lock(self, conversation_id: str) -> None:
        with self._write():
            lock = self.get_lock(conversation_id)
            if lock is not None:
                lock.remove_expired_tickets()
                self.save_lock(lock)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Give the ticket back; drop the lock when nobody else is waiting for it (Rasa's
        `finish_serving` and the deletion in one transaction; nothing else calls the former)."""
        with self._write():
            lock = self.get_lock(conversation_id)
            if lock is None:
                return
            lock.remove_ticket_for(ticket_number)
            if lock.is_someone_waiting():
                self.save_lock(lock)
            else:
                self.delete_lock(conversation_id)

    @contextmanager
    def _write(self) -> Iterator[None]:
        """One write transaction; a second process waits (busy timeout) instead of racing."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

