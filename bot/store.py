"""What the bot itself keeps: each user's chosen language, and long button payloads."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from sqlite_utils import Database, Migrations

migrations = Migrations("bot")


@migrations()
def m001_users(db: Database) -> None:
    """One row per Telegram user who chose (or switched to) a language."""
    db["users"].create(  # type: ignore[union-attr]
        {"id": int, "language": str, "updated_at": str}, pk="id"
    )


@migrations()
def m002_payloads(db: Database) -> None:
    """Button payloads too long for Telegram's 64-byte callback data, by short key."""
    db["payloads"].create(  # type: ignore[union-attr]
        {"key": str, "payload": str, "created_at": str}, pk="key"
    )


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class Store:
    """The bot's SQLite database (WAL mode, so other processes can read while it writes)."""

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            self.db = Database(memory=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = Database(path)
            self.db.enable_wal()
        migrations.apply(self.db)

    def language(self, user_id: int) -> str | None:
        """The user's chosen language, or None if they never chose one."""
        row = next(self.db["users"].rows_where("id = ?", [user_id], limit=1), None)
        return str(row["language"]) if row else None

    def set_language(self, user_id: int, language: str) -> None:
        with self.db.atomic():
            self.db["users"].upsert(  # type: ignore[union-attr]
                {"id": user_id, "language": language, "updated_at": _now()}, pk="id"
            )

    def delete_user(self, user_id: int) -> bool:
        """Forget the user; True if there was anything to forget."""
        with self.db.atomic():
            cursor = self.db.execute("DELETE FROM users WHERE id = ?", [user_id])
        return cursor.rowcount > 0

    def save_payload(self, payload: str) -> str:
        """A short, stable key for `payload` (the same payload always gets the same key)."""
        key = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:20]
        with self.db.atomic():
            self.db["payloads"].insert(  # type: ignore[union-attr]
                {"key": key, "payload": payload, "created_at": _now()}, pk="key", ignore=True
            )
        return key

    def payload(self, key: str) -> str | None:
        row = next(self.db["payloads"].rows_where("key = ?", [key], limit=1), None)
        return str(row["payload"]) if row else None

    def close(self) -> None:
        self.db.close()
