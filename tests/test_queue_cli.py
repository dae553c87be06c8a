"""`safemig queue ...` through `main(argv, settings)` on a real database in tmp_path."""

from __future__ import annotations

import csv
import io
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from safemig.config import Settings, load_settings
from safemig.queue import Queue
from safemig.queue.cli import EXPORT_FIELDS, main


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("SAFEMIG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SAFEMIG_STAFF_USER_IDS", "7,8")
    monkeypatch.setenv("SAFEMIG_STAFF_CHAT_ID", "-100")
    load_settings.cache_clear()
    yield load_settings()
    load_settings.cache_clear()


@pytest.fixture
def refs(settings: Settings) -> dict[str, str]:
    """Three reports filed the way the bot files them."""
    q = Queue.open(settings)
    try:
        made = {
            "abuse": q.file_report("abuse", {"what_happened": "secret-wages"}, "555001", "en",
                                   "KH", "TH", "telegram:555001:1"),
            "emergency": q.file_report("emergency", {"what_happened": "ពួកគេចាក់សោទ្វារ"},
                                       "555002", "km", "KH", "TH", "telegram:555002:1"),
            "missing": q.file_report("missing_person", {"name": "secret-name"}, "555003",
                                     "lo", "LA", "TH", "telegram:555003:1"),
        }
        return {key: report.reference for key, report in made.items()}
    finally:
        q.close()


def run(settings: Settings, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str,
                                                                                    str]:
    code = main(list(argv), settings)
    out, err = capsys.readouterr()
    return code, out, err


def audit(settings: Settings) -> list[dict]:
    q = Queue.open(settings)
    try:
        return q.audit_log()
    finally:
        q.close()


def test_list_is_in_queue_order_without_personal_data(settings, refs, capsys) -> None:
    code, out, _ = run(settings, capsys, "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("reference")
    assert [line.split()[0] for line in lines[1:]] == [
        refs["emergency"], refs["abuse"], refs["missing"]]
    assert "cambodia-hotline" in out and "lao-hotline" in out
    for personal in ("secret", "5550", "ចាក់សោ"):
        assert personal not in out


def test_list_filters(settings, refs, capsys) -> None:
    assert run(settings, capsys, "list", "--team", "lao-hotline")[1].count("SM-") == 1
    assert run(settings, capsys, "list", "--urgency", "3")[1].count("SM-") == 1
    assert run(settings, capsys, "list", "--status", "new", "--since", "2000-01-01")[1].count(
        "SM-") == 3
    assert run(settings, capsys, "list", "--until", "2000-01-01")[1] == "no reports\n"
    code, _, err = run(settings, capsys, "list", "--since", "yesterday")
    assert code == 2 and "YYYY-MM-DD" in err


def test_show_prints_details_and_is_audited(settings, refs, capsys) -> None:
    code, out, _ = run(settings, capsys, "show", refs["emergency"])
    assert code == 0
    assert refs["emergency"] in out and "ពួកគេចាក់សោទ្វារ" in out and "urgency:      4" in out
    assert audit(settings)[-1]["action"] == "show"
    code, _, err = run(settings, capsys, "show", "SM-2026-999999")
    assert code == 1 and "no report SM-2026-999999" in err


def test_staff_commands(settings, refs, capsys) -> None:
    ref = refs["abuse"]
    code, out, _ = run(settings, capsys, "claim", ref, "--staff", "7")
    assert code == 0 and "claimed by 7" in out
    assert run(settings, capsys, "note", ref, "--staff", "7", "called", "back")[0] == 0
    assert run(settings, capsys, "reassign", ref, "--staff", "8", "--team", "default")[0] == 0
    code, _, err = run(settings, capsys, "resolve", ref, "--staff", "8", "--outcome", "fine")
    assert code == 1 and "outcome must be one of" in err
    code, out, _ = run(settings, capsys, "resolve", ref, "--staff", "8", "--outcome",
                       "referred")
    assert code == 0 and "resolved: referred" in out
    code, out, _ = run(settings, capsys, "show", ref)
    assert "called back" in out and "status:       resolved" in out and "team:" in out
    actions = [(a["actor"], a["action"], a["allowed"]) for a in audit(settings)]
    assert ("user:7", "claim", 1) in actions and ("user:8", "resolve", 1) in actions


def test_non_staff_is_refused_and_audited(settings, refs, capsys) -> None:
    code, _, err = run(settings, capsys, "claim", refs["abuse"], "--staff", "99")
    assert code == 1 and "not a staff member" in err
    last = audit(settings)[-1]
    assert (last["actor"], last["action"], last["allowed"]) == ("user:99", "claim", 0)
    assert run(settings, capsys, "list", "--status", "claimed")[1] == "no reports\n"


def test_export_csv_without_and_with_details(settings, refs, capsys) -> None:
    code, out, _ = run(settings, capsys, "export", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert tuple(rows[0]) == EXPORT_FIELDS
    assert [r["reference"] for r in rows] == [refs["emergency"], refs["abuse"], refs["missing"]]
    assert "secret" not in out and "5550" not in out
    assert not [a for a in audit(settings) if a["action"] == "export"]

    code, out, _ = run(settings, capsys, "export", "--format", "csv", "--with-details",
                       "--team", "lao-hotline")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 1 and json.loads(rows[0]["details"]) == {"name": "secret-name"}
    assert audit(settings)[-1]["action"] == "export"


def test_export_json_to_a_private_file(settings, refs, capsys, tmp_path: Path) -> None:
    target = tmp_path / "export.json"
    code, out, err = run(settings, capsys, "export", "--format", "json", "--with-details",
                         "--output", str(target))
    assert code == 0 and out == "" and "3 reports written" in err
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data[0]["reference"] == refs["emergency"]
    assert data[0]["details"] == {"what_happened": "ពួកគេចាក់សោទ្វារ"}
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

    code, out, _ = run(settings, capsys, "export", "--format", "json")
    assert "details" not in json.loads(out)[0]


def test_stats(settings, refs, capsys) -> None:
    code, out, _ = run(settings, capsys, "stats", "--json")
    assert code == 0
    stats = json.loads(out)
    assert stats["total"] == 3
    assert stats["by_kind"] == {"abuse": 1, "emergency": 1, "missing_person": 1}
    assert stats["by_origin"] == {"KH": 2, "LA": 1}
    code, out, _ = run(settings, capsys, "stats")
    assert code == 0 and "total: 3" in out and "by origin:" in out
    for text in (out, json.dumps(stats)):
        assert "secret" not in text and "5550" not in text and "SM-" not in text


def test_purge(settings, refs, capsys) -> None:
    run(settings, capsys, "resolve", refs["abuse"], "--staff", "7", "--outcome", "assisted")
    q = Queue.open(settings)
    q.db.execute("UPDATE reports SET resolved_at = '2025-01-01T00:00:00+00:00' "
                 "WHERE reference = ?", [refs["abuse"]])
    q.close()
    code, out, _ = run(settings, capsys, "purge", "--older-than", "180")
    assert code == 0 and "purged personal data of 1 reports" in out
    _, out, _ = run(settings, capsys, "show", refs["abuse"])
    assert "(removed)" in out and "secret-wages" not in out
    assert json.loads(run(settings, capsys, "stats", "--json")[1])["total"] == 3
    code, out, _ = run(settings, capsys, "purge")  # default: SAFEMIG_RETENTION_DAYS
    assert code == 0 and "180 days" in out
    assert "deleted 0 conversations" in out  # no conversation database yet: nothing made
    assert not settings.tracker_db_path.exists()


def test_usage(settings, capsys) -> None:
    assert run(settings, capsys, "--help")[0] == 0
    assert run(settings, capsys)[0] == 2
    code, _, err = run(settings, capsys, "claim", "SM-2026-000001")
    assert code == 2 and "--staff" in err
    assert run(settings, capsys, "list")[1] == "no reports\n"  # creates the database
    assert settings.db_path.exists()
