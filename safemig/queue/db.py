"""The queue's SQLite database: connection settings, numbered migrations, write transactions.

The schema is declared here and only changes through a new numbered migration (like
simonw/llm's `migrations.py`); nothing is ever added with `alter=True`, so a report can never
grow columns to fit whatever a client sends.
"""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database, Migrations

from safemig.sqlite import open_database, write_transaction


class QueueMigrations(Migrations):
    """sqlite-utils' migration runner, recording applied steps in `_migrations`."""

    migrations_table = "_migrations"


MIGRATIONS = QueueMigrations("safemig.queue")


def connect(path: str | Path) -> Database:
    """Open (creating if needed) the queue database: WAL, busy timeout, foreign keys, and
    synchronous=FULL so that an acknowledged report survives a power cut."""
    db = open_database(path, synchronous="FULL")
    db.execute("PRAGMA foreign_keys = ON")  # off by default in SQLite
    return db


def migrate(db: Database) -> None:
    """Apply pending migrations in order; a no-op when the database is current.

    Runs under the write lock, so the bot and the CLI starting together on a new file do not
    both try to create the tables: the second waits, then finds nothing pending. (Every
    migration here must therefore be transactional: no VACUUM.)
    """
    with write_transaction(db):
        MIGRATIONS.apply(db)


def applied_migrations(db: Database) -> list[str]:
    """Names of the applied migrations, oldest first."""
    return [m.name for m in MIGRATIONS.applied(db)]


@MIGRATIONS()
def m001_initial(db: Database) -> None:
    """Reports, their attachments and messages, and the staff audit trail."""
    db.execute(
        """
        CREATE TABLE reports (
            id INTEGER PRIMARY KEY,
            reference TEXT UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('emergency', 'abuse', 'missing_person')),
            status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'claimed', 'resolved')),
            urgency INTEGER NOT NULL CHECK (urgency BETWEEN 1 AND 4),
            origin TEXT,
            destination TEXT,
            language TEXT,
            team TEXT NOT NULL,
            reporter_id TEXT,
            source_key TEXT UNIQUE,
            details TEXT,
            contact_ok INTEGER NOT NULL DEFAULT 0 CHECK (contact_ok IN (0, 1)),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            claimed_by INTEGER,
            resolved_at TEXT,
            outcome TEXT,
            notified_at TEXT,
            purged_at TEXT
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE attachments (
            id INTEGER PRIMARY KEY,
            report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            telegram_file_id TEXT NOT NULL,
            created_at TEXT NOT NULL
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
            direction TEXT NOT NULL
                CHECK (direction IN ('to_reporter', 'from_reporter', 'note')),
            staff_id INTEGER,
            text TEXT,
            created_at TEXT NOT NULL
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            report_id INTEGER REFERENCES reports(id),
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            allowed INTEGER NOT NULL CHECK (allowed IN (0, 1)),
            detail TEXT,
            at TEXT NOT NULL
        ) STRICT
        """
    )
    for statement in (
        "CREATE INDEX idx_reports_status ON reports(status)",
        "CREATE INDEX idx_reports_team ON reports(team)",
        "CREATE INDEX idx_reports_created_at ON reports(created_at)",
        "CREATE INDEX idx_attachments_report_id ON attachments(report_id)",
        "CREATE INDEX idx_messages_report_id ON messages(report_id)",
        "CREATE INDEX idx_audit_report_id ON audit(report_id)",
    ):
        db.execute(statement)


@MIGRATIONS()
def m002_lookups(db: Database) -> None:
    """Per-year reference counters and indexes for the bot's per-reporter and outbox lookups.

    The counter is seeded from references already issued, so numbering continues after an
    upgrade instead of reusing a number.
    """
    db.execute(
        """
        CREATE TABLE reference_counters (
            year INTEGER PRIMARY KEY,
            last INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute(
        """
        INSERT INTO reference_counters (year, last)
        SELECT CAST(substr(reference, 4, 4) AS INTEGER),
               MAX(CAST(substr(reference, 9) AS INTEGER))
        FROM reports WHERE reference LIKE 'SM-____-%'
        GROUP BY substr(reference, 4, 4)
        """
    )
    db.execute("CREATE INDEX idx_reports_reporter_id ON reports(reporter_id)")
    db.execute("CREATE INDEX idx_reports_unnotified ON reports(id) WHERE notified_at IS NULL")
