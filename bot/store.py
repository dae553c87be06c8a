"""What the bot itself keeps: each user's chosen language, long button payloads, handoffs."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@migrations()
def m003_handoffs(db: Database) -> None:
    """Human handoffs: while one is active (ended_at NULL) the reporter talks to staff."""
    db["handoffs"].create(  # type: ignore[union-attr]
        {"id": int, "reporter_id": int, "report_id": int, "staff_id": int, "team": str,
         "started_at": str, "ended_at": str},
        pk="id", not_null={"reporter_id", "report_id", "staff_id", "team", "started_at"},
    )
    db["handoffs"].create_index(["reporter_id"])  # type: ignore[union-attr]
    db["handoffs"].create_index(["report_id"])  # type: ignore[union-attr]


@dataclass(frozen=True)
class Handoff:
    """An active or ended handoff of a reporter (Telegram user id) to a staff member."""

    id: int
    reporter_id: int
    report_id: int
    staff_id: int
    team: str
    started_at: str
    ended_at: str | None


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

    # -- handoffs -------------------------------------------------------------------------

    def _handoff(self, where: str, params: list[Any]) -> Handoff | None:
        row = next(self.db["handoffs"].rows_where(where, params, order_by="id DESC", limit=1),
                   None)
        return Handoff(**row) if row else None

    def active_handoff(self, reporter_id: int) -> Handoff | None:
        """The reporter's active handoff, if staff are talking with them."""
        return self._handoff("reporter_id = ? AND ended_at IS NULL", [reporter_id])

    def handoff_for_report(self, report_id: int) -> Handoff | None:
        """The report's active handoff, if any."""
        return self._handoff("report_id = ? AND ended_at IS NULL", [report_id])

    def start_handoff(self, reporter_id: int, report_id: int, staff_id: int,
                      team: str) -> tuple[Handoff, bool]:
        """Start a handoff (ending any other of this reporter); (handoff, True if new).

        Claiming the same report again keeps the running handoff, so the reporter is told
        only once.
        """
        with self.db.atomic():
            current = self.active_handoff(reporter_id)
            if current is not None and current.report_id == report_id:
                return current, False
            now = _now()
            self.db.execute("UPDATE handoffs SET ended_at = ? WHERE reporter_id = ? "
                            "AND ended_at IS NULL", [now, reporter_id])
            self.db["handoffs"].insert(  # type: ignore[union-attr]
                {"reporter_id": reporter_id, "report_id": report_id, "staff_id": staff_id,
                 "team": team, "started_at": now, "ended_at": None})
        handoff = self.active_handoff(reporter_id)
        assert handoff is not None
        return handoff, True

    def end_handoff(self, report_id: int) -> Handoff | None:
        """End the report's active handoff; the ended handoff, or None if none was active."""
        with self.db.atomic():
            current = self.handoff_for_report(report_id)
            if current is None:
                return None
            self.db.execute("UPDATE handoffs SET ended_at = ? WHERE id = ?", [_now(), current.id])
        return self._handoff("id = ?", [current.id])

    def delete_handoffs(self, reporter_id: int) -> None:
        """Forget the reporter's handoffs (with /delete_my_data, once no report is open)."""
        with self.db.atomic():
            self.db.execute("DELETE FROM handoffs WHERE reporter_id = ?", [reporter_id])

    def close(self) -> None:
        self.db.close()
