"""The SQLite tracker store: what is saved comes back, once, after a restart too."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from at_once import errors_at_once
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered

from safemig.conversation_log import (
    SECONDS_PER_DAY,
    forget_conversation,
    purge_idle_conversations,
)
from safemig.tracker_store import SQLiteTrackerStore

DOMAIN = Domain.from_dict({"intents": ["greet"], "slots": {"origin": {
    "type": "text", "mappings": [{"type": "custom"}]}}})


def rows(db: Path, sender: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM events WHERE sender_id = ?",
                            (sender,)).fetchone()[0]


async def test_saved_events_survive_a_restart_and_are_written_once(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    store = SQLiteTrackerStore(DOMAIN, db=str(db))
    tracker = await store.get_or_create_tracker("u1")
    tracker.update(UserUttered("hi", {"name": "greet", "confidence": 1.0}))
    tracker.update(SlotSet("origin", "KH"))
    await store.save(tracker)
    await store.save(tracker)  # nothing new: nothing written
    assert rows(db, "u1") == 3
    assert await store.retrieve("u1") is tracker  # the live conversation is not rebuilt

    reopened = SQLiteTrackerStore(DOMAIN, db=str(db))
    again = await reopened.retrieve("u1")
    assert again is not None and again.get_slot("origin") == "KH"
    assert [e.as_dict()["event"] for e in again.events] == ["action", "user", "slot"]
    assert await reopened.exists("u1") and not await reopened.exists("nobody")
    assert list(await reopened.keys()) == ["u1"]


async def test_a_turn_that_failed_before_saving_is_not_served_from_memory(tmp_path: Path) -> None:
    store = SQLiteTrackerStore(DOMAIN, db=str(tmp_path / "t.db"))
    tracker = await store.get_or_create_tracker("u2")
    tracker.update(SlotSet("origin", "LA"))  # changed, then the turn crashed: never saved
    fresh = await store.retrieve("u2")
    assert fresh is not tracker and fresh is not None
    assert fresh.get_slot("origin") is None


async def test_a_conversation_answered_by_another_worker_is_reloaded(tmp_path: Path) -> None:
    """Two Rasa workers share the file: each must see what the other saved since."""
    db = str(tmp_path / "shared.db")
    first, second = SQLiteTrackerStore(DOMAIN, db=db), SQLiteTrackerStore(DOMAIN, db=db)
    tracker = await first.get_or_create_tracker("u5")
    tracker.update(SlotSet("origin", "KH"))
    await first.save(tracker)

    other = await second.retrieve("u5")  # the next message went to the other worker
    assert other is not None and other.get_slot("origin") == "KH"
    other.update(SlotSet("origin", "MM"))
    await second.save(other)

    back = await first.retrieve("u5")  # and the one after that came back to the first
    assert back is not tracker and back is not None
    assert back.get_slot("origin") == "MM"
    back.update(SlotSet("origin", "LA"))
    await first.save(back)
    assert rows(tmp_path / "shared.db", "u5") == 4  # every event written exactly once


async def test_retrieve_starts_at_the_latest_session(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    store = SQLiteTrackerStore(DOMAIN, db=str(db))
    tracker = await store.get_or_create_tracker("u3")
    tracker.update(UserUttered("old", {"name": "greet", "confidence": 1.0}))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)
    latest = await SQLiteTrackerStore(DOMAIN, db=str(db)).retrieve("u3")
    assert latest is not None and len(latest.events) == 2
    full = await store.retrieve_full_tracker("u3")
    assert full is not None and len(full.events) == 4


async def test_a_conversation_deleted_outside_rasa_is_not_served_from_memory(
        tmp_path: Path) -> None:
    """/delete_my_data runs in the bot process while Rasa holds the conversation cached."""
    db = tmp_path / "t.db"
    store = SQLiteTrackerStore(DOMAIN, db=str(db))
    tracker = await store.get_or_create_tracker("u4")
    tracker.update(SlotSet("origin", "KH"))
    await store.save(tracker)
    await store.get_or_create_tracker("other")
    assert forget_conversation(db, "u4") == 2
    assert not await store.exists("u4")
    assert await store.retrieve("u4") is None and rows(db, "u4") == 0
    fresh = await store.get_or_create_tracker("u4")  # the next message starts afresh
    assert fresh.get_slot("origin") is None and rows(db, "u4") == 1
    assert rows(db, "other") == 1


async def test_idle_conversations_are_purged_after_the_retention_period(
        tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    store = SQLiteTrackerStore(DOMAIN, db=str(db))
    old = await store.get_or_create_tracker("old")
    old.update(UserUttered("my name is Sok", {"name": "greet", "confidence": 1.0}))
    await store.save(old)
    with sqlite3.connect(db) as conn:  # the whole conversation happened 40 days ago
        conn.execute("UPDATE events SET timestamp = ? WHERE sender_id = 'old'",
                     (time.time() - 40 * SECONDS_PER_DAY,))
    await store.get_or_create_tracker("recent")
    assert purge_idle_conversations(db, older_than_days=30) == 1
    assert rows(db, "old") == 0 and rows(db, "recent") == 1
    assert purge_idle_conversations(tmp_path / "missing.db", 30) == 0
    assert not (tmp_path / "missing.db").exists()


async def test_reads_a_database_written_by_rasas_sql_store(tmp_path: Path) -> None:
    db = tmp_path / "rasa.db"
    rasa_store = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db))
    tracker = await rasa_store.get_or_create_tracker("old-user")
    tracker.update(SlotSet("origin", "MM"))
    await rasa_store.save(tracker)
    store = SQLiteTrackerStore(DOMAIN, db=str(db))
    restored = await store.retrieve("old-user")
    assert restored is not None and restored.get_slot("origin") == "MM"
    restored.update(UserUttered("hi", {"name": "greet", "confidence": 1.0}))
    await store.save(restored)
    assert rows(db, "old-user") == 3


def test_workers_opening_a_new_file_at_once_all_start(tmp_path: Path) -> None:
    """Rasa's workers start together on a new conversations file and each creates the table;
    a fresh-clone test run lost one worker to "database is locked" that way. Each round is a
    new file and four workers (one connection each) at once."""
    from safemig.lock_store import SQLiteLockStore

    errors: list[BaseException] = []
    for attempt in range(40):
        def start(n: int = attempt) -> None:
            SQLiteTrackerStore(Domain.empty(), db=str(tmp_path / f"tracker-{n}.db"))
            SQLiteLockStore(db=tmp_path / f"locks-{n}.db")

        errors += errors_at_once(start, threads=4)
    assert not errors, errors[:3]
