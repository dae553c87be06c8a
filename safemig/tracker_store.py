"""Rasa tracker store on one SQLite connection, with the live conversations kept in memory.

Why not Rasa's SQLTrackerStore: profiled on a plain answer turn it was 40% of the time. It
opens a new SQLAlchemy connection per call (file SQLite gets a NullPool), counts the stored
events with a sub-query on every save, and rebuilds the tracker from JSON on every message.
This store writes the same `events` table (same columns, so an existing tracker database keeps
working and the usual SQL queries still apply), appends only the new events in one
transaction, and hands back the tracker it saved last time instead of replaying its events.

A cached tracker is used only while it holds exactly the events that were stored and the
database holds nothing newer for that conversation: if a turn failed after changing the tracker
but before saving it, or another Rasa worker answered the conversation's last message, the next
message reloads it from the database (one indexed lookup of the conversation's last event id).
Several Rasa workers can therefore share the file; Rasa's lock store
(safemig/lock_store.py) makes sure only one of them handles a conversation at a time.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SerializedTrackerAsText, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from safemig.sqlite import open_database, write_transaction

log = logging.getLogger(__name__)

# Rasa's SQLTrackerStore table: same name, columns and index.
_COLUMNS = {"id": int, "sender_id": str, "type_name": str, "timestamp": float,
            "intent_name": str, "action_name": str, "data": str}

# Events since the latest SessionStarted of a conversation (all of them if it has none);
# {what} is the selected column or aggregate.
_SINCE_SESSION_START = """
SELECT {what} FROM events WHERE sender_id = :sid AND (
    timestamp >= (SELECT max(timestamp) FROM events
                  WHERE sender_id = :sid AND type_name = :session_started)
    OR (SELECT max(timestamp) FROM events
        WHERE sender_id = :sid AND type_name = :session_started) IS NULL)
ORDER BY id
"""


class SQLiteTrackerStore(TrackerStore, SerializedTrackerAsText):
    """Append-only event log in SQLite (WAL) plus an LRU of live trackers."""

    def __init__(self, domain: Domain | None = None, host: str | None = None,
                 db: str = "tracker.db", cache_size: int | str = 1000,
                 event_broker: EventBroker | None = None, **kwargs: Any) -> None:
        super().__init__(domain, event_broker, **kwargs)
        # One connection on Rasa's event loop thread; autocommit off, one transaction per save.
        database = open_database(db, check_same_thread=False)
        self._conn = database.conn
        events = database.table("events")
        # under the write lock: two Rasa workers starting on a new file both create the table,
        # and without it one failed at once with "database is locked" and that worker died
        with write_transaction(database):
            events.create(_COLUMNS, pk="id", not_null={"sender_id", "type_name"},
                          if_not_exists=True)
            events.create_index(["sender_id"], index_name="ix_events_sender_id",
                                if_not_exists=True)
        # sender -> (tracker, events stored, id of the conversation's last stored event)
        self._cache: OrderedDict[str, tuple[DialogueStateTracker, int, int | None]] = OrderedDict()
        self._cache_size = int(cache_size)

    # --- reading ---------------------------------------------------------------------------

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The tracker of the latest session: the saved object if it is unchanged since."""
        cached = self._cache.get(sender_id)
        if cached is not None:
            tracker, stored, last_id = cached
            if len(tracker.events) == stored and self._last_id(sender_id) == last_id:
                self._cache.move_to_end(sender_id)
                return tracker
            # changed but never saved, or saved by another worker: the database is the truth
            del self._cache[sender_id]
        rows = self._latest_session(sender_id, "data").fetchall()
        if not rows:
            return None
        tracker = self._from_rows(sender_id, rows)
        self._remember(tracker, len(rows))
        return tracker

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        rows = self._conn.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id",
                                  (conversation_id,)).fetchall()
        return self._from_rows(conversation_id, rows) if rows else None

    async def exists(self, conversation_id: str) -> bool:
        # the database, not the cache: the bot may have deleted the conversation meanwhile
        row = self._conn.execute("SELECT 1 FROM events WHERE sender_id = ? LIMIT 1",
                                 (conversation_id,)).fetchone()
        return row is not None

    async def keys(self) -> Iterable[str]:
        return [r[0] for r in self._conn.execute("SELECT DISTINCT sender_id FROM events")]

    # --- writing ---------------------------------------------------------------------------

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Append the events this store has not written yet, in one transaction."""
        cached = self._cache.get(tracker.sender_id)
        if cached is not None and cached[0] is tracker:
            stored = cached[1]
        else:  # a tracker built elsewhere: compare with the stored session, as Rasa does
            stored = self._latest_session(tracker.sender_id, "count(*)").fetchone()[0]
        events = list(tracker.events)
        new = events[stored:]
        if new:
            with self._conn:
                self._conn.executemany(
                    "INSERT INTO events (sender_id, type_name, timestamp, intent_name, "
                    "action_name, data) VALUES (?, ?, ?, ?, ?, ?)",
                    [_row(tracker.sender_id, event) for event in new])
            self._publish(tracker.sender_id, new)
        self._remember(tracker, len(events))

    # --- helpers ---------------------------------------------------------------------------

    def _latest_session(self, sender_id: str, what: str) -> sqlite3.Cursor:
        return self._conn.execute(_SINCE_SESSION_START.format(what=what), {
            "sid": sender_id, "session_started": SessionStarted.type_name})

    def _from_rows(self, sender_id: str, rows: list[tuple[str]]) -> DialogueStateTracker:
        events = [json.loads(data) for (data,) in rows]
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    def _last_id(self, sender_id: str) -> int | None:
        return self._conn.execute("SELECT max(id) FROM events WHERE sender_id = ?",
                                  (sender_id,)).fetchone()[0]

    def _remember(self, tracker: DialogueStateTracker, stored: int) -> None:
        if tracker.events.maxlen is not None:
            return  # a capped event history cannot tell new events from old by length
        self._cache[tracker.sender_id] = (tracker, stored, self._last_id(tracker.sender_id))
        self._cache.move_to_end(tracker.sender_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _publish(self, sender_id: str, events: list[Event]) -> None:
        if self.event_broker is None:
            return
        for event in events:
            self.event_broker.publish({"sender_id": sender_id, **event.as_dict()})


def _row(sender_id: str, event: Event) -> tuple[Any, ...]:
    data = event.as_dict()
    intent = data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY)
    return (sender_id, event.type_name, data.get("timestamp"), intent, data.get("name"),
            json.dumps(data))
