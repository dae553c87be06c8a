"""The durable escalation queue: reports filed by the bot, worked by staff, purged on schedule.

Every write is one `BEGIN IMMEDIATE` transaction (see `db.write_transaction`), so a report the
bot has acknowledged is on disk in full, and a crash leaves no half-written report. Personal
data (`details`, `reporter_id`, message texts) is never logged: logs carry ids and references.
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
import logging
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from safemig.config import Settings
from safemig.queue.db import connect, migrate, write_transaction
from safemig.queue.models import (
    STATUSES,
    InvalidAction,
    NotStaff,
    QueueError,
    Report,
    ReportNotFound,
)
from safemig.queue.routing import KINDS, Routing, load_routing

log = logging.getLogger(__name__)

DIRECTIONS = ("to_reporter", "from_reporter", "note")
OPEN = ("new", "claimed")
QUEUE_ORDER = "urgency DESC, created_at, id"  # most urgent first, then longest waiting


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _texts(value: object) -> Iterable[str]:
    """Every string inside the answers, for the urgent-keyword check."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _texts(item)


def _day(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


class Queue:
    """The queue on one SQLite connection; open one per thread or process."""

    def __init__(self, db: Database, routing: Routing, staff_user_ids: Iterable[int] = (),
                 clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.db = db
        self.routing = routing
        self.staff_user_ids = frozenset(staff_user_ids)
        self.clock = clock

    @classmethod
    def open(cls, settings: Settings, routing_path: Path | None = None,
             clock: Callable[[], dt.datetime] = utc_now) -> Queue:
        """Connect to `settings.db_path`, bring the schema up to date, load the routing."""
        db = connect(settings.db_path)
        migrate(db)
        routing = load_routing(routing_path or settings.content_dir / "routing.yml",
                               fallback_chat_id=settings.staff_chat_id)
        return cls(db, routing, settings.staff_user_ids, clock)

    def close(self) -> None:
        self.db.close()

    def _now(self) -> str:
        return self.clock().astimezone(dt.timezone.utc).isoformat(timespec="seconds")

    # -- filing (the bot) ---------------------------------------------------------------------

    def file_report(self, kind: str, answers: Mapping[str, Any], reporter_id: str | int,
                    language: str | None, origin: str | None, destination: str | None,
                    source_key: str | None, contact_ok: bool | None = None) -> Report:
        """Store a report in one transaction; the same `source_key` again returns the first.

        `source_key` (channel:chat_id:message_id) makes a redelivered message idempotent. Two
        deliveries racing each other both pass the first lookup; the UNIQUE constraint then
        stops the second insert and it returns the winner's report.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown report kind: {kind!r}")
        if source_key is not None and (existing := self._by_source_key(source_key)):
            return existing
        team = self.routing.team_for(kind, origin, destination)
        urgency = self.routing.urgency(kind, _texts(answers))
        if contact_ok is None:
            contact_ok = bool(answers.get("contact_ok"))
        now = self._now()
        try:
            with write_transaction(self.db):
                report_id = self._insert("reports", {
                    "kind": kind, "status": "new", "urgency": urgency, "team": team.name,
                    "origin": origin.upper() if origin else None,
                    "destination": destination.upper() if destination else None,
                    "language": language, "reporter_id": str(reporter_id),
                    "source_key": source_key,
                    "details": json.dumps(dict(answers), ensure_ascii=False, sort_keys=True),
                    "contact_ok": int(contact_ok), "created_at": now, "updated_at": now,
                })
                reference = self._allocate_reference(int(now[:4]))
                self.db.execute("UPDATE reports SET reference = ? WHERE id = ?",
                                [reference, report_id])
                self._audit(report_id, "bot", "file", True, f"team={team.name}")
        except sqlite3.IntegrityError:
            if source_key is not None and (existing := self._by_source_key(source_key)):
                log.info("duplicate delivery of report %s ignored", existing.reference)
                return existing
            raise
        log.info("report %s filed (id %s, %s, urgency %s, team %s)",
                 reference, report_id, kind, urgency, team.name)
        return self._require(report_id, created=True)

    def update_answers(self, report_id: int, answers: Mapping[str, Any],
                       contact_ok: bool | None = None) -> Report:
        """Add answers to a report filed before its questions (emergencies are filed at once)."""
        report = self._require(report_id)
        merged = {**(report.details or {}), **dict(answers)}
        urgency = max(report.urgency, self.routing.urgency(report.kind, _texts(merged)))
        with write_transaction(self.db):
            self.db.execute(
                "UPDATE reports SET details = ?, urgency = ?, contact_ok = ?, updated_at = ? "
                "WHERE id = ?",
                [json.dumps(merged, ensure_ascii=False, sort_keys=True), urgency,
                 int(report.contact_ok if contact_ok is None else contact_ok), self._now(),
                 report_id])
            self._audit(report_id, "bot", "update_answers", True, f"{len(answers)} answers")
        return self._require(report_id)

    def _allocate_reference(self, year: int) -> str:
        """The next SM-YYYY-NNNNNN; only call inside a write transaction."""
        (last,) = self.db.execute(
            "INSERT INTO reference_counters (year, last) VALUES (?, 1) "
            "ON CONFLICT(year) DO UPDATE SET last = last + 1 RETURNING last", [year],
        ).fetchone()
        return f"SM-{year}-{last:06d}"

    def add_attachment(self, report_id: int, kind: str, telegram_file_id: str) -> int:
        """Keep a Telegram file id (not the file) with an open report; returns the row id."""
        with write_transaction(self.db):
            self._require_open(report_id)
            return self._insert("attachments", {
                "report_id": report_id, "kind": kind, "telegram_file_id": telegram_file_id,
                "created_at": self._now(),
            })

    def add_message(self, report_id: int, direction: str, text: str,
                    staff_id: int | None = None) -> int:
        """Record a message to or from the reporter, or a staff note; returns the row id.

        A message written by staff (and every note) is a staff action: checked and audited;
        `to_reporter` without a staff id is the bot's own message.
        """
        if direction not in DIRECTIONS:
            raise ValueError(f"unknown direction: {direction!r}")
        if staff_id is not None or direction == "note":
            self._require_staff(staff_id, f"message:{direction}", report_id)
        with write_transaction(self.db):
            self._require_open(report_id, allow_resolved=direction == "note")
            message_id = self._insert("messages", {
                "report_id": report_id, "direction": direction, "staff_id": staff_id,
                "text": text, "created_at": self._now(),
            })
            if staff_id is not None:
                self._audit(report_id, _actor(staff_id), f"message:{direction}", True,
                            f"message={message_id}")
        return message_id

    def note(self, report_id: int, staff_id: int, text: str) -> int:
        """A staff note on the case (also on resolved reports); returns the message id."""
        return self.add_message(report_id, "note", text, staff_id=staff_id)

    # -- reading ------------------------------------------------------------------------------

    def get(self, report_id: int) -> Report | None:
        return self._one("id = ?", [report_id])

    def by_reference(self, reference: str) -> Report | None:
        return self._one("reference = ?", [reference.strip().upper()])

    def _by_source_key(self, source_key: str) -> Report | None:
        return self._one("source_key = ?", [source_key])

    def _one(self, where: str, params: builtins.list[Any]) -> Report | None:
        rows = builtins.list(self.db.table("reports").rows_where(where, params, limit=1))
        return Report.from_row(rows[0]) if rows else None

    def _require(self, report_id: int, created: bool = False) -> Report:
        report = self.get(report_id)
        if report is None:
            raise ReportNotFound(f"no report with id {report_id}")
        return replace(report, created=True) if created else report

    def _require_open(self, report_id: int, allow_resolved: bool = False) -> Report:
        report = self._require(report_id)
        if report.purged_at or (report.status == "resolved" and not allow_resolved):
            raise InvalidAction(f"report {report.reference} is {report.status}")
        return report

    def list(self, team: str | None = None, status: str | None = None,
             min_urgency: int | None = None, since: dt.date | str | None = None,
             until: dt.date | str | None = None) -> builtins.list[Report]:
        """Reports in queue order; `since` and `until` are inclusive days (UTC)."""
        clauses: builtins.list[str] = []
        params: builtins.list[Any] = []
        if team:
            clauses.append("team = ?")
            params.append(team)
        if status:
            if status not in STATUSES:
                raise ValueError(f"unknown status: {status!r}")
            clauses.append("status = ?")
            params.append(status)
        if min_urgency is not None:
            clauses.append("urgency >= ?")
            params.append(min_urgency)
        if since is not None:
            clauses.append("created_at >= ?")
            params.append(_day(since).isoformat())
        if until is not None:
            clauses.append("created_at < ?")
            params.append((_day(until) + dt.timedelta(days=1)).isoformat())
        rows = self.db.table("reports").rows_where(" AND ".join(clauses) or None, params,
                                             order_by=QUEUE_ORDER)
        return [Report.from_row(row) for row in rows]

    def messages(self, report_id: int) -> builtins.list[dict[str, Any]]:
        return list(self.db.table("messages").rows_where("report_id = ?", [report_id],
                                                   order_by="id"))

    def attachments(self, report_id: int) -> builtins.list[dict[str, Any]]:
        return list(self.db.table("attachments").rows_where("report_id = ?", [report_id],
                                                      order_by="id"))

    def audit_log(self, report_id: int | None = None) -> builtins.list[dict[str, Any]]:
        where, params = ("report_id = ?", [report_id]) if report_id is not None else (None, [])
        return list(self.db.table("audit").rows_where(where, params, order_by="id"))

    def open_report_for(self, reporter_id: str | int) -> Report | None:
        """The reporter's newest unresolved report (attachments and replies go there)."""
        rows = list(self.db.table("reports").rows_where(
            "reporter_id = ? AND status != 'resolved'", [str(reporter_id)],
            order_by="id DESC", limit=1))
        return Report.from_row(rows[0]) if rows else None

    # -- staff notification outbox (the bot) ----------------------------------------------------

    def pending_notifications(self) -> builtins.list[Report]:
        """Open reports not yet posted to their team's staff chat, most urgent first."""
        rows = self.db.table("reports").rows_where(
            "notified_at IS NULL AND status != 'resolved'", order_by=QUEUE_ORDER)
        return [Report.from_row(row) for row in rows]

    def mark_notified(self, report_id: int) -> None:
        """Call after the staff chat accepted the post, so a crash in between re-sends it."""
        with write_transaction(self.db):
            self._require(report_id)
            self.db.execute("UPDATE reports SET notified_at = ? WHERE id = ?",
                            [self._now(), report_id])

    # -- staff actions ------------------------------------------------------------------------

    def staff_allowed(self, staff_id: int | None) -> bool:
        return staff_id is not None and int(staff_id) in self.staff_user_ids

    def _require_staff(self, staff_id: int | None, action: str, report_id: int | None) -> None:
        """Refuse (and audit the attempt) when the id is not in SAFEMIG_STAFF_USER_IDS."""
        if self.staff_allowed(staff_id):
            return
        with write_transaction(self.db):
            known = report_id is not None and self.get(report_id) is not None
            self._audit(report_id if known else None, _actor(staff_id), action, False,
                        "not staff" if known else f"not staff; report {report_id}")
        log.warning("refused %s on report %s: not a staff member", action, report_id)
        raise NotStaff(f"{action}: not a staff member")

    def _transition(self, report_id: int, staff_id: int, action: str,
                    check: Callable[[Report], str | None], sql: str, params: Iterable[Any],
                    detail: str = "") -> Report:
        """Check the state and update it under the write lock, auditing either way."""
        self._require_staff(staff_id, action, report_id)
        refusal: QueueError | None = None
        with write_transaction(self.db):
            report = self.get(report_id)
            if report is None:
                refusal = ReportNotFound(f"no report with id {report_id}")
            elif report.purged_at:
                refusal = InvalidAction(f"report {report.reference} is purged")
            elif reason := check(report):
                refusal = InvalidAction(f"report {report.reference}: {reason}")
            else:
                self.db.execute(sql, [*params, report_id])
            self._audit(report_id if report else None, _actor(staff_id), action,
                        refusal is None, str(refusal) if refusal else detail)
        if refusal is not None:
            log.info("refused %s on report %s: %s", action, report_id, type(refusal).__name__)
            raise refusal
        log.info("%s on report %s by staff %s", action, report_id, staff_id)
        return self._require(report_id)

    def claim(self, report_id: int, staff_id: int) -> Report:
        """Take an unclaimed report (claiming your own again is a no-op)."""
        def check(r: Report) -> str | None:
            if r.status == "resolved":
                return "already resolved"
            if r.status == "claimed" and r.claimed_by != staff_id:
                return f"already claimed by {r.claimed_by}"
            return None

        return self._transition(
            report_id, staff_id, "claim", check,
            "UPDATE reports SET status = 'claimed', claimed_by = ?, updated_at = ? WHERE id = ?",
            [staff_id, self._now()])

    def resolve(self, report_id: int, staff_id: int, outcome: str) -> Report:
        """Close a report with one of the outcome codes in routing.yml (stats count by them)."""
        outcome = outcome.strip()

        def check(r: Report) -> str | None:
            if r.status == "resolved":
                return "already resolved"
            if not outcome or (self.routing.outcomes and outcome not in self.routing.outcomes):
                return f"outcome must be one of {', '.join(self.routing.outcomes)}"
            return None

        now = self._now()
        return self._transition(
            report_id, staff_id, "resolve", check,
            "UPDATE reports SET status = 'resolved', outcome = ?, resolved_at = ?, "
            "claimed_by = COALESCE(claimed_by, ?), updated_at = ? WHERE id = ?",
            [outcome, now, staff_id, now], detail=f"outcome={outcome}")

    def reassign(self, report_id: int, staff_id: int, team: str) -> Report:
        """Hand a report to another team: unclaimed again, and re-posted to that team's chat."""
        def check(r: Report) -> str | None:
            if r.status == "resolved":
                return "already resolved"
            if team not in self.routing.teams:
                return f"unknown team {team!r}"
            return None

        return self._transition(
            report_id, staff_id, "reassign", check,
            "UPDATE reports SET team = ?, status = 'new', claimed_by = NULL, "
            "notified_at = NULL, updated_at = ? WHERE id = ?",
            [team, self._now()], detail=f"team={team}")

    def record_access(self, report_id: int | None, actor: str, action: str,
                      detail: str = "") -> None:
        """Audit a read of personal data (CLI `show`, exports with details)."""
        with write_transaction(self.db):
            self._audit(report_id, actor, action, True, detail)

    def _audit(self, report_id: int | None, actor: str, action: str, allowed: bool,
               detail: str = "") -> None:
        self._insert("audit", {"report_id": report_id, "actor": actor, "action": action,
                               "allowed": int(allowed), "detail": detail or None,
                               "at": self._now()})

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        """Insert into a declared table (never alter=True) and return the new row id."""
        return int(self.db.table(table).insert(row).last_pk or 0)

    # -- statistics and retention ---------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counts per month, origin, destination, kind, status and outcome; nothing else.

        Each dimension is counted on its own (no cross-tabulation), so a rare combination
        cannot point at one person.
        """
        result: dict[str, Any] = {
            "total": self.db.execute("SELECT count(*) FROM reports").fetchone()[0]}
        for name, sql in _STATS_QUERIES.items():
            result[name] = dict(self.db.execute(sql).fetchall())
        return result

    def purge(self, older_than_days: int) -> int:
        """Remove personal data of reports resolved more than N days ago; keep rows for stats.

        Returns how many reports were purged.
        """
        if older_than_days < 0:
            raise ValueError("older_than_days must be >= 0")
        cutoff = (self.clock() - dt.timedelta(days=older_than_days)).astimezone(
            dt.timezone.utc).isoformat(timespec="seconds")
        with write_transaction(self.db):
            ids = [row[0] for row in self.db.execute(
                "SELECT id FROM reports WHERE status = 'resolved' AND purged_at IS NULL "
                "AND resolved_at < ?", [cutoff]).fetchall()]
            self._anonymize(ids, "system", f"purge older_than_days={older_than_days}")
        log.info("purged personal data of %d resolved reports", len(ids))
        return len(ids)

    def delete_user_data(self, reporter_id: str | int) -> tuple[bool, bool]:
        """Forget a reporter's reports: (deleted, blocked_by_open_report).

        While a report is open staff still need its details to help, so nothing is deleted.
        """
        with write_transaction(self.db):
            rows = self.db.execute("SELECT id, status FROM reports WHERE reporter_id = ?",
                                   [str(reporter_id)]).fetchall()
            open_ids = [rid for rid, status in rows if status in OPEN]
            if open_ids:
                for rid in open_ids:
                    self._audit(rid, "reporter", "delete_user_data", False,
                                "blocked by open report")
                blocked = True
            else:
                self._anonymize([rid for rid, _ in rows], "reporter", "delete_user_data")
                blocked = False
        log.info("delete_user_data: %d reports, blocked=%s", len(rows), blocked)
        return (bool(rows) and not blocked, blocked)

    def _anonymize(self, report_ids: Iterable[int], actor: str, action: str) -> None:
        """Drop the personal data of these reports (inside the caller's transaction)."""
        now = self._now()
        for report_id in report_ids:
            self.db.execute(
                "UPDATE reports SET details = NULL, reporter_id = NULL, source_key = NULL, "
                "purged_at = ?, updated_at = ? WHERE id = ?", [now, now, report_id])
            self.db.execute("UPDATE messages SET text = NULL WHERE report_id = ?", [report_id])
            self.db.execute("DELETE FROM attachments WHERE report_id = ?", [report_id])
            self._audit(report_id, actor, action, True, "personal data removed")


_STATS_QUERIES = {
    "by_month": "SELECT substr(created_at, 1, 7) AS k, count(*) FROM reports GROUP BY k",
    "by_kind": "SELECT kind AS k, count(*) FROM reports GROUP BY k",
    "by_origin": "SELECT COALESCE(origin, 'unknown') AS k, count(*) FROM reports GROUP BY k",
    "by_destination":
        "SELECT COALESCE(destination, 'unknown') AS k, count(*) FROM reports GROUP BY k",
    "by_status": "SELECT status AS k, count(*) FROM reports GROUP BY k",
    "by_outcome": "SELECT COALESCE(outcome, 'open') AS k, count(*) FROM reports GROUP BY k",
}


def _actor(staff_id: int | None) -> str:
    return f"user:{staff_id}"
