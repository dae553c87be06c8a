"""The escalation queue on real SQLite files: schema, durability, idempotency, staff actions,
statistics and retention."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from at_once import errors_at_once
from sqlite_utils import Database

from safemig.config import PROJECT_ROOT
from safemig.queue import InvalidAction, NotStaff, Queue, Report, connect, migrate
from safemig.queue.db import MIGRATIONS, applied_migrations
from safemig.queue.routing import Routing, load_routing, parse_routing

STAFF = {7, 8}
START = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone.utc)


class Clock:
    """A settable clock, so retention can be tested without waiting 180 days."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def routing() -> Routing:
    return load_routing(PROJECT_ROOT / "content" / "routing.yml", env={}, fallback_chat_id=-100)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def open_queue(path: Path, routing: Routing, clock: Clock | None = None) -> Queue:
    db = connect(path)
    migrate(db)
    return Queue(db, routing, STAFF, clock or Clock())


@pytest.fixture
def queue(tmp_path: Path, routing: Routing, clock: Clock) -> Iterator[Queue]:
    q = open_queue(tmp_path / "queue.db", routing, clock)
    yield q
    q.close()


def file(q: Queue, key: str, kind: str = "abuse", text: str = "they took my money",
         reporter: str = "555001", origin: str | None = "KH",
         destination: str | None = "TH") -> Report:
    return q.file_report(kind, {"what_happened": text, "contact_ok": True}, reporter, "en",
                         origin, destination, key)


def count(q: Queue, table: str) -> int:
    return count_rows(q.db, table)


def count_rows(db: Database, table: str) -> int:
    return db.table(table).count


# -- schema and migrations --------------------------------------------------------------------

def test_migrations_from_scratch_and_rerun(tmp_path: Path) -> None:
    db = connect(tmp_path / "q.db")
    migrate(db)
    assert applied_migrations(db) == ["m001_initial", "m002_lookups"]
    assert {"reports", "attachments", "messages", "audit", "reference_counters",
            "_migrations"} <= set(db.table_names())
    schema = db.table("reports").schema
    migrate(db)  # idempotent
    assert applied_migrations(db) == ["m001_initial", "m002_lookups"]
    assert count_rows(db, "_migrations") == 2
    assert db.table("reports").schema == schema
    assert db.journal_mode == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    indexed = {tuple(i.columns) for i in db.table("reports").indexes}
    assert {("status",), ("team",), ("created_at",), ("reference",), ("source_key",)} <= indexed


def test_two_processes_migrating_a_new_file_at_once(tmp_path: Path) -> None:
    path = tmp_path / "new.db"

    def start() -> None:
        db = connect(path)
        migrate(db)
        db.close()

    assert not errors_at_once(start, threads=3)
    db = connect(path)
    assert applied_migrations(db) == ["m001_initial", "m002_lookups"]
    db.close()


def test_schema_rejects_what_it_does_not_declare(queue: Queue) -> None:
    with pytest.raises(Exception, match="CHECK"):
        queue.db.execute("INSERT INTO reports (kind, urgency, team, created_at, updated_at) "
                         "VALUES ('spam', 1, 'default', 'x', 'x')")
    with pytest.raises(Exception, match="FOREIGN KEY"):
        queue.db.execute("INSERT INTO messages (report_id, direction, created_at) "
                         "VALUES (999, 'note', 'x')")
    with pytest.raises(Exception, match="no column"):
        queue.db.table("reports").insert({"kind": "abuse", "urgency": 2, "team": "default",
                                          "created_at": "x", "updated_at": "x", "extra": 1})


def test_database_at_migration_1_is_upgraded(tmp_path: Path, routing: Routing) -> None:
    path = tmp_path / "old.db"
    db = connect(path)
    MIGRATIONS.apply(db, stop_before="m002_lookups")
    assert applied_migrations(db) == ["m001_initial"]
    db.execute(
        "INSERT INTO reports (reference, kind, urgency, team, reporter_id, details, created_at,"
        " updated_at) VALUES ('SM-2026-000041', 'abuse', 2, 'default', '1', '{}', "
        "'2026-01-05T00:00:00+00:00', '2026-01-05T00:00:00+00:00')")
    db.close()

    q = open_queue(path, routing)
    assert applied_migrations(q.db) == ["m001_initial", "m002_lookups"]
    assert q.by_reference("SM-2026-000041") is not None
    assert file(q, "tg:1:1").reference == "SM-2026-000042"  # numbering continues
    q.close()


# -- filing: idempotency, atomicity, durability ------------------------------------------------

def test_same_message_twice_makes_one_report(queue: Queue) -> None:
    first = file(queue, "telegram:555001:10")
    again = file(queue, "telegram:555001:10", text="a redelivered copy")
    assert first.created and not again.created
    assert again.id == first.id and again.reference == first.reference
    assert count(queue, "reports") == 1
    assert queue.get(first.id).details["what_happened"] == "they took my money"
    other = file(queue, "telegram:555001:11")
    assert other.reference == "SM-2026-000002"


def test_two_threads_filing_the_same_message(tmp_path: Path, routing: Routing) -> None:
    path = tmp_path / "race.db"
    open_queue(path, routing).close()
    barrier = threading.Barrier(4)
    results: list[str] = []
    errors: list[BaseException] = []

    def deliver(key: str) -> None:
        q = open_queue(path, routing)  # one connection per thread, like bot and CLI
        try:
            barrier.wait()
            results.append(file(q, key).reference)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            q.close()

    threads = [threading.Thread(target=deliver, args=(key,))
               for key in ("tg:1:1", "tg:1:1", "tg:2:1", "tg:2:1")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert len(results) == 4 and len(set(results)) == 2
    q = open_queue(path, routing)
    assert count(q, "reports") == 2
    assert sorted(r.reference for r in q.list()) == ["SM-2026-000001", "SM-2026-000002"]
    q.close()


def test_lost_race_is_caught_by_the_unique_key(queue: Queue,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Both deliveries passed the first lookup: the UNIQUE key stops the second insert."""
    first = file(queue, "tg:1:1")
    real_lookup = Queue._by_source_key
    calls: list[str] = []

    def stale_lookup(self: Queue, key: str) -> Report | None:
        calls.append(key)
        return None if len(calls) == 1 else real_lookup(self, key)

    monkeypatch.setattr(Queue, "_by_source_key", stale_lookup)
    again = file(queue, "tg:1:1")
    assert len(calls) == 2 and not again.created
    assert again.reference == first.reference and count(queue, "reports") == 1
    assert file(queue, "tg:1:2").reference == "SM-2026-000002"  # no number was used up


def test_crash_inside_the_transaction_leaves_no_partial_report(
        queue: Queue, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(self: Queue, year: int) -> str:
        raise RuntimeError("simulated crash after the insert")

    monkeypatch.setattr(Queue, "_allocate_reference", crash)
    with pytest.raises(RuntimeError):
        file(queue, "tg:1:1")
    assert count(queue, "reports") == 0
    assert count(queue, "audit") == 0
    assert not queue.db.conn.in_transaction
    monkeypatch.undo()
    report = file(queue, "tg:1:1")  # the retry is filed normally
    assert report.created and report.reference == "SM-2026-000001"


def test_acknowledged_report_survives_a_killed_process(tmp_path: Path) -> None:
    """A child process files a report and dies at once (no close); the report is there."""
    path = tmp_path / "durable.db"
    script = textwrap.dedent(f"""
        import os
        from safemig.queue import Queue, connect, migrate, load_routing
        db = connect({str(path)!r})
        migrate(db)
        routing = load_routing(__import__("pathlib").Path({str(PROJECT_ROOT)!r})
                               / "content" / "routing.yml", env={{}})
        q = Queue(db, routing)
        r = q.file_report("emergency", {{"what_happened": "ខ្ញុំត្រូវបានចាក់សោ"}}, "555001",
                          "km", "KH", "TH", "telegram:555001:1")
        print(r.reference, flush=True)
        os._exit(0)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, timeout=60, env={**os.environ})
    assert done.returncode == 0, done.stderr
    reference = done.stdout.strip()
    q = open_queue(path, load_routing(PROJECT_ROOT / "content" / "routing.yml", env={}))
    report = q.by_reference(reference)
    assert report is not None
    assert report.details == {"what_happened": "ខ្ញុំត្រូវបានចាក់សោ"}
    assert report.urgency == 4 and report.team == "cambodia-hotline"
    q.close()


# -- routing and urgency ----------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "origin", "destination", "team"), [
    ("abuse", "KH", "TH", "cambodia-hotline"),
    ("abuse", "kh", None, "cambodia-hotline"),
    ("emergency", "LA", "TH", "lao-hotline"),
    ("missing_person", "MM", "MY", "myanmar-hotline"),
    ("abuse", None, "TH", "thailand-partners"),
    ("abuse", "VN", "TH", "thailand-partners"),
    ("abuse", None, "MY", "default"),
    ("abuse", None, None, "default"),
])
def test_shipped_routing_picks_teams(routing: Routing, kind: str, origin: str | None,
                                     destination: str | None, team: str) -> None:
    assert routing.team_for(kind, origin, destination).name == team


def test_routing_first_match_wins_with_kind_and_lists() -> None:
    data = {
        "default": "fallback",
        "teams": {"rescue": {"chat_id_env": "RESCUE_CHAT"}, "kh": {}, "fallback": {}},
        "rules": [{"kind": "emergency", "destination": ["TH", "MY"], "team": "rescue"},
                  {"origin": ["KH"], "team": "kh"},
                  {"kind": ["abuse"], "team": "rescue"}],
    }
    r = parse_routing(data, env={"RESCUE_CHAT": "-1001"}, fallback_chat_id=-5)
    assert r.team_for("emergency", "KH", "MY").name == "rescue"
    assert r.team_for("emergency", "KH", "SG").name == "kh"
    assert r.team_for("abuse", "KH", "TH").name == "kh"  # earlier rule wins
    assert r.team_for("abuse", "LA", "TH").name == "rescue"
    assert r.team_for("missing_person", "LA", "TH").name == "fallback"
    assert r.teams["rescue"].chat_id == -1001
    assert r.teams["kh"].chat_id == -5  # no variable set: the general staff chat


def test_routing_rejects_typos() -> None:
    with pytest.raises(ValueError, match="unknown team"):
        parse_routing({"teams": {"a": {}}, "rules": [{"origin": "KH", "team": "b"}]}, env={})
    with pytest.raises(ValueError, match="unknown kind"):
        parse_routing({"teams": {"a": {}}, "rules": [{"kind": "emergncy", "team": "a"}]},
                      env={})


@pytest.mark.parametrize(("kind", "text", "urgency"), [
    ("emergency", "I need to talk to someone", 3),
    ("abuse", "the boss keeps our wages", 2),
    ("missing_person", "my brother has not called", 1),
    ("abuse", "We are LOCKED in the factory", 3),
    ("abuse", "he beat me, help now please", 3),
    ("abuse", "I like the beatles", 2),  # whole words only in Latin script
    ("emergency", "ពួកគេចាក់សោទ្វារ", 4),  # km: locked
    ("abuse", "ເຂົາວາງກັບດັກພວກເຮົາ", 3),  # lo: set a trap
    ("abuse", "ພວກເຮົາຖືກຂັງ", 3),  # lo: locked up
    ("missing_person", "သူ့ကို အခန်းထဲ ပိတ်ထားတယ်", 2),  # my: locked in
    ("abuse", "ស្រ្តី ចាក់សោ", 3),  # km typed in non-canonical order still matches
])
def test_urgency(routing: Routing, kind: str, text: str, urgency: int) -> None:
    assert routing.urgency(kind, [text]) == urgency


def test_list_orders_by_urgency_then_age(queue: Queue, clock: Clock) -> None:
    file(queue, "k1", kind="missing_person")
    clock.advance(minutes=1)
    file(queue, "k2", kind="abuse")
    clock.advance(minutes=1)
    file(queue, "k3", kind="emergency", text="they beat us")
    clock.advance(minutes=1)
    file(queue, "k4", kind="abuse", text="still waiting")
    clock.advance(minutes=1)
    file(queue, "k5", kind="emergency")
    assert [r.source_key for r in queue.list()] == ["k3", "k5", "k2", "k4", "k1"]
    assert [r.source_key for r in queue.list(min_urgency=3)] == ["k3", "k5"]
    assert [r.source_key for r in queue.pending_notifications()] == ["k3", "k5", "k2", "k4",
                                                                     "k1"]


def test_list_filters(queue: Queue, clock: Clock) -> None:
    file(queue, "march", origin="LA")
    clock.advance(days=31)
    file(queue, "april", origin="KH")
    assert [r.source_key for r in queue.list(team="lao-hotline")] == ["march"]
    assert [r.source_key for r in queue.list(since="2026-04-01")] == ["april"]
    assert [r.source_key for r in queue.list(until=dt.date(2026, 3, 1))] == ["march"]
    assert queue.list(status="resolved") == []
    with pytest.raises(ValueError):
        queue.list(status="open")


# -- staff actions and audit --------------------------------------------------------------------

def test_claim_resolve_reassign_are_audited(queue: Queue) -> None:
    report = file(queue, "tg:1:1")
    claimed = queue.claim(report.id, 7)
    assert (claimed.status, claimed.claimed_by) == ("claimed", 7)
    assert queue.claim(report.id, 7).status == "claimed"  # again: no-op
    with pytest.raises(InvalidAction, match="already claimed"):
        queue.claim(report.id, 8)
    queue.mark_notified(report.id)
    moved = queue.reassign(report.id, 8, "lao-hotline")
    assert (moved.team, moved.status, moved.claimed_by, moved.notified_at) == (
        "lao-hotline", "new", None, None)  # the new team's chat is told again
    with pytest.raises(InvalidAction, match="unknown team"):
        queue.reassign(report.id, 8, "nobody")
    queue.note(report.id, 8, "called the reporter back")
    with pytest.raises(InvalidAction, match="outcome must be one of"):
        queue.resolve(report.id, 8, "she is fine now")
    done = queue.resolve(report.id, 8, "referred")
    assert (done.status, done.outcome, done.claimed_by) == ("resolved", "referred", 8)
    assert done.resolved_at is not None
    with pytest.raises(InvalidAction, match="already resolved"):
        queue.claim(report.id, 7)
    audit = [(a["actor"], a["action"], a["allowed"]) for a in queue.audit_log(report.id)]
    assert audit == [
        ("bot", "file", 1), ("user:7", "claim", 1), ("user:7", "claim", 1),
        ("user:8", "claim", 0), ("user:8", "reassign", 1), ("user:8", "reassign", 0),
        ("user:8", "message:note", 1), ("user:8", "resolve", 0), ("user:8", "resolve", 1),
        ("user:7", "claim", 0),
    ]
    assert "called the reporter back" not in json.dumps(queue.audit_log())


def test_non_staff_is_refused_and_audited(queue: Queue) -> None:
    report = file(queue, "tg:1:1")
    assert queue.staff_allowed(7) and not queue.staff_allowed(99)
    assert not queue.staff_allowed(None)
    for attempt in (lambda: queue.claim(report.id, 99),
                    lambda: queue.resolve(report.id, 99, "referred"),
                    lambda: queue.reassign(report.id, 99, "default"),
                    lambda: queue.note(report.id, 99, "hello")):
        with pytest.raises(NotStaff):
            attempt()
    assert queue.get(report.id).status == "new"
    refused = [a for a in queue.audit_log(report.id) if not a["allowed"]]
    assert [(a["actor"], a["action"]) for a in refused] == [
        ("user:99", "claim"), ("user:99", "resolve"), ("user:99", "reassign"),
        ("user:99", "message:note")]
    with pytest.raises(NotStaff):
        queue.claim(12345, 99)  # a report that does not exist: still audited, without FK
    assert queue.audit_log()[-1]["report_id"] is None


def test_outbox_messages_attachments_and_open_report(queue: Queue) -> None:
    report = file(queue, "tg:1:1", reporter="555001")
    assert queue.open_report_for("555001").id == report.id
    assert queue.open_report_for(555001).id == report.id
    assert queue.open_report_for("555002") is None
    queue.add_attachment(report.id, "photo", "AgACAgUAAxkBAAI")
    queue.add_message(report.id, "from_reporter", "more details")
    queue.add_message(report.id, "to_reporter", "we received your report")  # the bot itself
    queue.add_message(report.id, "to_reporter", "we are calling you", staff_id=7)
    assert [m["direction"] for m in queue.messages(report.id)] == [
        "from_reporter", "to_reporter", "to_reporter"]
    assert len(queue.attachments(report.id)) == 1
    assert [r.id for r in queue.pending_notifications()] == [report.id]
    queue.mark_notified(report.id)
    assert queue.pending_notifications() == []
    queue.resolve(report.id, 7, "assisted")
    assert queue.open_report_for("555001") is None
    with pytest.raises(InvalidAction):
        queue.add_attachment(report.id, "photo", "late")


# -- statistics, retention, deletion ------------------------------------------------------------

def test_stats_hold_no_personal_data(queue: Queue, clock: Clock) -> None:
    file(queue, "a", reporter="555001", text="secret-story-one", origin="KH")
    file(queue, "b", reporter="555002", text="secret-story-two", origin="LA", kind="emergency")
    clock.advance(days=40)
    r = file(queue, "c", reporter="555003", text="secret-story-three", origin=None)
    queue.resolve(r.id, 7, "referred")
    stats = queue.stats()
    assert stats["total"] == 3
    assert stats["by_month"] == {"2026-03": 2, "2026-04": 1}
    assert stats["by_origin"] == {"KH": 1, "LA": 1, "unknown": 1}
    assert stats["by_destination"] == {"TH": 3}
    assert stats["by_kind"] == {"abuse": 2, "emergency": 1}
    assert stats["by_outcome"] == {"open": 2, "referred": 1}
    dumped = json.dumps(stats)
    for personal in ("555001", "555002", "555003", "secret-story", "SM-2026", "tg:"):
        assert personal not in dumped


def test_purge_keeps_counts_and_removes_personal_data(queue: Queue, clock: Clock) -> None:
    old = file(queue, "old", reporter="555001", text="old story")
    queue.add_message(old.id, "from_reporter", "my phone is 012 345 678")
    queue.add_attachment(old.id, "photo", "file-1")
    queue.resolve(old.id, 7, "assisted")
    still_open = file(queue, "open", reporter="555002")
    clock.advance(days=150)
    recent = file(queue, "recent", reporter="555003")
    queue.resolve(recent.id, 7, "referred")
    before = queue.stats()
    clock.advance(days=31)

    assert queue.purge(180) == 1
    purged = queue.get(old.id)
    assert purged.details is None and purged.reporter_id is None and purged.source_key is None
    assert purged.purged_at is not None
    assert (purged.kind, purged.origin, purged.outcome) == ("abuse", "KH", "assisted")
    assert [m["text"] for m in queue.messages(old.id)] == [None]
    assert queue.attachments(old.id) == []
    assert queue.get(still_open.id).details is not None
    assert queue.get(recent.id).details is not None
    assert queue.stats() == before  # counts unchanged
    assert queue.purge(180) == 0  # already purged
    assert queue.audit_log(old.id)[-1]["action"].startswith("purge")


def test_delete_user_data_is_blocked_by_an_open_report(queue: Queue) -> None:
    report = file(queue, "tg:1:1", reporter="555001")
    assert queue.delete_user_data("555001") == (False, True)
    assert queue.get(report.id).details is not None
    queue.resolve(report.id, 7, "assisted")
    assert queue.delete_user_data("555001") == (True, False)
    gone = queue.get(report.id)
    assert gone.details is None and gone.reporter_id is None
    assert queue.delete_user_data("555001") == (False, False)  # nothing left
    assert queue.stats()["total"] == 1


def test_logs_carry_ids_only(queue: Queue, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="safemig.queue")
    report = file(queue, "telegram:555001:9", reporter="555001", text="secret-story")
    file(queue, "telegram:555001:9", reporter="555001", text="secret-story")
    with pytest.raises(NotStaff):
        queue.claim(report.id, 99)
    queue.claim(report.id, 7)
    queue.note(report.id, 7, "secret-note")
    queue.resolve(report.id, 7, "assisted")
    queue.delete_user_data("555001")
    assert report.reference in caplog.text
    for personal in ("555001", "secret-story", "secret-note"):
        assert personal not in caplog.text
    assert "secret-story" not in repr(report)
