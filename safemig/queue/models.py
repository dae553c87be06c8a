"""What the queue hands out: reports as plain values, and the errors staff actions raise."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

STATUSES = ("new", "claimed", "resolved")

# Report answers (form slots) -> the text naming them (content/frontend.yml), shared by the
# reporter's review in Rasa and the staff view in Telegram.
ANSWER_LABELS = {
    "em_location": "label_location", "em_safe_to_talk": "label_safe_to_talk",
    "contact_ok": "label_contact_ok", "ab_who": "label_who", "ab_name": "label_name",
    "ab_what": "label_what", "ab_where_when": "label_where_when", "ab_money": "label_money",
    "ab_others": "label_others", "mp_who": "label_missing_who", "mp_where": "label_went_to",
    "mp_last_contact": "label_last_contact",
}


@dataclass(frozen=True)
class Report:
    """One stored report. `details` and `reporter_id` are personal data: never log them."""

    id: int
    reference: str
    kind: str
    status: str
    urgency: int
    team: str
    origin: str | None
    destination: str | None
    language: str | None
    reporter_id: str | None
    source_key: str | None
    details: dict[str, Any] | None
    contact_ok: bool
    created_at: str
    updated_at: str
    claimed_by: int | None = None
    resolved_at: str | None = None
    outcome: str | None = None
    notified_at: str | None = None
    purged_at: str | None = None
    created: bool = field(default=False, compare=False)

    @classmethod
    def from_row(cls, row: dict[str, Any], created: bool = False) -> Report:
        details = json.loads(row["details"]) if row["details"] else None
        return cls(
            id=row["id"], reference=row["reference"], kind=row["kind"], status=row["status"],
            urgency=row["urgency"], team=row["team"], origin=row["origin"],
            destination=row["destination"], language=row["language"],
            reporter_id=row["reporter_id"], source_key=row["source_key"], details=details,
            contact_ok=bool(row["contact_ok"]), created_at=row["created_at"],
            updated_at=row["updated_at"], claimed_by=row["claimed_by"],
            resolved_at=row["resolved_at"], outcome=row["outcome"],
            notified_at=row["notified_at"], purged_at=row["purged_at"], created=created,
        )

    def __repr__(self) -> str:  # keeps personal data out of tracebacks and logs
        return f"Report(id={self.id}, reference={self.reference!r}, status={self.status!r})"


class QueueError(Exception):
    """Base class of the queue's refusals; messages hold ids and references only."""


class ReportNotFound(QueueError, LookupError):
    pass


class NotStaff(QueueError, PermissionError):
    pass


class InvalidAction(QueueError, ValueError):
    """The action does not fit the report's state (e.g. claiming a resolved report)."""
