"""`safemig queue ...`: hotline staff work the escalation queue from a shell.

Staff actions (`claim`, `note`, `resolve`, `reassign`) need `--staff ID` from
SAFEMIG_STAFF_USER_IDS; anything else is refused and audited. `list`, `stats` and plain
exports show no personal data; `show` and `export --with-details` do, and are audited.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import getpass
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

from safemig.config import Settings
from safemig.conversation_log import purge_idle_conversations
from safemig.queue.models import STATUSES, QueueError, Report, ReportNotFound
from safemig.queue.store import Queue

EXPORT_FIELDS = ("reference", "kind", "status", "urgency", "team", "origin", "destination",
                 "language", "contact_ok", "created_at", "updated_at", "claimed_by",
                 "resolved_at", "outcome", "purged_at")


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _cli_actor() -> str:
    """Who ran the command, for the audit trail of reads of personal data."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _find(queue: Queue, reference: str) -> Report:
    report = queue.by_reference(reference)
    if report is None:
        raise ReportNotFound(f"no report {reference}")
    return report


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    return {"team": args.team, "status": args.status, "min_urgency": args.urgency,
            "since": args.since, "until": args.until}


def cmd_list(args: argparse.Namespace, queue: Queue, settings: Settings) -> int:
    reports = queue.list(**_filters(args))
    if not reports:
        print("no reports")
        return 0
    print(f"{'reference':<15} {'urg':>3} {'kind':<14} {'status':<8} {'team':<18} "
          f"{'route':<7} {'created (UTC)':<16} claimed_by")
    for r in reports:
        route = f"{r.origin or '?'}>{r.destination or '?'}"
        print(f"{r.reference:<15} {r.urgency:>3} {r.kind:<14} {r.status:<8} {r.team:<18} "
              f"{route:<7} {r.created_at[:16]:<16} {r.claimed_by or ''}")
    return 0


def cmd_show(args: argparse.Namespace, queue: Queue, settings: Settings) -> int:
    report = _find(queue, args.reference)
    queue.record_access(report.id, _cli_actor(), "show")
    for name in EXPORT_FIELDS:
        value = getattr(report, name)
        print(f"{name + ':':<13} {'' if value is None else value}")
    print("details:")
    if report.details is None:
        print("  (removed)" if report.purged_at else "  (none)")
    else:
        for key, value in report.details.items():
            print(f"  {key}: {value}")
    attachments = queue.attachments(report.id)
    print(f"attachments:  {len(attachments)}"
          + (f" ({', '.join(a['kind'] for a in attachments)})" if attachments else ""))
    messages = queue.messages(report.id)
    print(f"messages:     {len(messages)}")
    for m in messages:
        who = f"staff {m['staff_id']}" if m["staff_id"] else "bot/reporter"
        text = m["text"] if m["text"] is not None else "(removed)"
        print(f"  [{m['created_at'][:16]}] {m['direction']} ({who}): {text}")
    return 0


def cmd_claim(args: argparse.Namespace, queue: Queue, settings: Settings) -> int:
    report = queue.claim(_find(queue, args.reference).id, args.staff)
    print(f"{report.reference} claimed by {report.claimed_by}")
    return 0


def cmd_note(args: argparse.Namespace, queue: Queue, settings: Settings) -> int:
    report = _find(queue, args.reference)
    queue.note(report.id, args.staff, " ".join(args.text))
    print(f"note added to {report.reference}")
    return 0


def cmd_resolve(args: argparse.Namespace, queue: Queue, settings: Settings) -> int:
    report = queue.resolve(_find(queue, args.reference).id, args.staff, args.outcome)
    print(f"{report.reference} resolved: {report.outcome}")
    return 0


def cmd_reassign(args: argparse.Namespace, queue: Queue, settings: Settings) -> int:
    report = queue.reassign(_find(queue, args.reference).id, args.staff, args.team_to)
    print(f"{report.reference} reassigned to {report.team}")
    return 0


@contextmanager
def _output(path: str | None, private: bool) -> Iterator[IO[str]]:
    """stdout, or a file; a file holding personal data is readable by its owner only."""
    if path is None:
        yield sys.stdout
        return
    mode = 0o600 if private else 0o644
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with open(fd, "w", encoding="utf-8", newline="") as handle:
        yield handle


def _export_row(report: Report, with_details: bool, as_text: bool) -> dict[str, Any]:
    row = {name: getattr(report, name) for name in EXPORT_FIELDS}
    if with_details:
        row["details"] = (json.dumps(report.details, ensure_ascii=False)
                          if as_text and report.details is not None else report.details)
    return row


def cmd_export(args: argparse.Namespace, queue: Queue, settings: Settings) -> int:
    reports = queue.list(**_filters(args))
    if args.with_details:
        queue.record_access(None, _cli_actor(), "export",
                            f"{len(reports)} reports with details, format={args.format}")
    rows = [_export_row(r, args.with_details, args.format == "csv") for r in reports]
    with _output(args.output, private=args.with_details) as out:
        if args.format == "json":
            json.dump(rows, out, ensure_ascii=False, indent=2)
            out.write("\n")
        else:
            fields = [*EXPORT_FIELDS, "details"] if args.with_details else list(EXPORT_FIELDS)
            writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    if args.output:
        print(f"{len(rows)} reports written to {args.output}", file=sys.stderr)
    return 0


def cmd_stats(args: argparse.Namespace, queue: Queue, settings: Settings) -> int:
    stats = queue.stats()
    if args.json:
        print(json.dumps(stats, ensure_ascii=False, indent=2, sort_keys=True))
        return 0
    print(f"total: {stats['total']}")
    for name in ("by_month", "by_kind", "by_origin", "by_destination", "by_status",
                 "by_outcome"):
        print(name.replace("_", " ") + ":")
        for key, count in sorted(stats[name].items()):
            print(f"  {key:<16} {count:>6}")
    return 0


def cmd_purge(args: argparse.Namespace, queue: Queue, settings: Settings) -> int:
    days = settings.retention_days if args.older_than is None else args.older_than
    count = queue.purge(days)
    print(f"purged personal data of {count} reports resolved more than {days} days ago")
    idle = purge_idle_conversations(settings.tracker_db_path, days)
    print(f"deleted {idle} conversations with no message for more than {days} days")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="safemig queue", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument("--team")
    filters.add_argument("--status", choices=STATUSES)
    filters.add_argument("--urgency", type=int, metavar="N", help="urgency N or higher")
    filters.add_argument("--since", type=_date, metavar="YYYY-MM-DD", help="created on or after")
    filters.add_argument("--until", type=_date, metavar="YYYY-MM-DD", help="created on or before")
    staff = argparse.ArgumentParser(add_help=False)
    staff.add_argument("reference", help="e.g. SM-2026-000123")
    staff.add_argument("--staff", type=int, required=True, metavar="ID",
                       help="your Telegram user id (must be in SAFEMIG_STAFF_USER_IDS)")

    p = sub.add_parser("list", parents=[filters], help="reports, most urgent first")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("show", help="one report with its details (audited)")
    p.add_argument("reference")
    p.set_defaults(func=cmd_show)
    p = sub.add_parser("claim", parents=[staff], help="take a report")
    p.set_defaults(func=cmd_claim)
    p = sub.add_parser("note", parents=[staff], help="add a note to a report")
    p.add_argument("text", nargs="+")
    p.set_defaults(func=cmd_note)
    p = sub.add_parser("resolve", parents=[staff], help="close a report")
    p.add_argument("--outcome", required=True, help="an outcome code from content/routing.yml")
    p.set_defaults(func=cmd_resolve)
    p = sub.add_parser("reassign", parents=[staff], help="hand a report to another team")
    p.add_argument("--team", dest="team_to", required=True)
    p.set_defaults(func=cmd_reassign)
    p = sub.add_parser("export", parents=[filters], help="reports as CSV or JSON")
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument("--output", metavar="FILE", help="default: stdout")
    p.add_argument("--with-details", action="store_true",
                   help="include the answers (personal data; audited, file mode 600)")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("stats", help="anonymous counts")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)
    p = sub.add_parser("purge", help="remove personal data of old resolved reports and "
                       "delete idle conversations")
    p.add_argument("--older-than", type=int, metavar="DAYS",
                   help="default: SAFEMIG_RETENTION_DAYS")
    p.set_defaults(func=cmd_purge)
    return parser


def main(argv: Sequence[str], settings: Settings) -> int:
    """Run one queue command; 0 done, 1 refused or not found, 2 usage error."""
    try:
        args = build_parser().parse_args(list(argv))
    except SystemExit as exc:  # --help or a usage error: argparse already printed why
        return exc.code if isinstance(exc.code, int) else 2
    queue = Queue.open(settings)
    try:
        return int(args.func(args, queue, settings))
    except QueueError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    finally:
        queue.close()
