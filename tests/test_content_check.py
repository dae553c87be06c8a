"""`safemig content check`: one test per failure it reports, on a temporary copy."""

import datetime as dt
import shutil
from pathlib import Path

import pytest

from safemig.config import PROJECT_ROOT
from safemig.content_check import phone_numbers, run_checks

LANGS = ("en", "km", "lo", "my")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for folder in ("domain", "content", "locales", "dialogue"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    (tmp_path / "nlu_data").mkdir()
    return tmp_path


def messages(root: Path) -> list[str]:
    return [str(f) for f in run_checks(root, LANGS, today=dt.date(2026, 11, 28))]


def po(root: Path, lang: str) -> Path:
    return root / "locales" / lang / "LC_MESSAGES" / "messages.po"


def replace_msgstr(path: Path, context: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    head, tail = text.split(f'msgctxt "{context}"\n', 1)
    at = tail.index("msgstr ")
    end = tail.find("\n\n", at)
    end = len(tail) if end < 0 else end
    path.write_text(head + f'msgctxt "{context}"\n' + tail[:at] + f"msgstr {new}" + tail[end:],
                    encoding="utf-8")


def test_the_shipped_content_is_clean(root: Path) -> None:
    assert [m for m in messages(root) if ": error:" in m] == []


def test_empty_translation_is_reported_with_file_and_line(root: Path) -> None:
    replace_msgstr(po(root, "lo"), "utter_thank", '""')
    found = [m for m in messages(root) if "'utter_thank' has no translation" in m]
    assert found and found[0].startswith(f"{po(root, 'lo')}:")
    assert int(found[0].split(":")[1]) > 0


def test_fuzzy_entry_is_reported(root: Path) -> None:
    path = po(root, "km")
    text = path.read_text(encoding="utf-8").replace('msgctxt "utter_thank"',
                                                    '#, fuzzy\nmsgctxt "utter_thank"', 1)
    path.write_text(text, encoding="utf-8")
    assert any("'utter_thank' is marked fuzzy" in m for m in messages(root))


def test_placeholder_mismatch_is_reported(root: Path) -> None:
    replace_msgstr(po(root, "my"), "utter_goodbye", '"ဘိုင် {hotline}"')
    assert any("'utter_goodbye' placeholders differ" in m for m in messages(root))


def test_response_without_catalog_entry_is_reported(root: Path) -> None:
    with (root / "domain" / "conversation.yml").open("a", encoding="utf-8") as fh:
        fh.write('\n  utter_brand_new:\n    - text: "A new answer."\n')
    assert any("response 'utter_brand_new'" in m and "has no entry" in m
               for m in messages(root))


def test_catalog_entry_without_response_is_reported(root: Path) -> None:
    with po(root, "en").open("a", encoding="utf-8") as fh:
        fh.write('\nmsgctxt "utter_gone"\nmsgid "Old."\nmsgstr "Old."\n')
    assert any("'utter_gone' has no response" in m for m in messages(root))


def test_hotline_number_not_in_directory_is_reported(root: Path) -> None:
    path = root / "domain" / "conversation.yml"
    text = path.read_text(encoding="utf-8").replace(
        "You are welcome.", "You are welcome. Call 1506.", 1)
    path.write_text(text, encoding="utf-8")
    assert any("shows the number 1506" in m for m in messages(root))


def test_number_added_by_a_translation_is_reported(root: Path) -> None:
    replace_msgstr(po(root, "km"), "utter_thank", '"សូមហៅ 191"')
    assert any("has the number 191" in m for m in messages(root))


def test_stale_hotline_is_a_warning_not_an_error(root: Path) -> None:
    path = root / "content" / "hotlines.yml"
    text = path.read_text(encoding="utf-8").replace("last_checked: 2026-11-28",
                                                    "last_checked: 2024-01-01", 1)
    path.write_text(text, encoding="utf-8")
    stale = [m for m in messages(root) if "more than 12 months" in m]
    assert stale and ": warning:" in stale[0]


def test_unverified_number_in_directory_is_reported(root: Path) -> None:
    path = root / "content" / "hotlines.yml"
    text = path.read_text(encoding="utf-8").replace('number: "1694"', 'number: "1506"', 1)
    path.write_text(text, encoding="utf-8")
    assert any("never_show" in m for m in messages(root))


def test_invalid_yaml_is_reported_with_line(root: Path) -> None:
    path = root / "content" / "hotlines.yml"
    path.write_text(path.read_text(encoding="utf-8") + "\n  - : [unclosed\n", encoding="utf-8")
    found = [m for m in messages(root) if "invalid YAML" in m]
    assert found and found[0].split(":")[1] != "0"


def test_catalog_that_does_not_parse_is_reported(root: Path) -> None:
    path = po(root, "lo")
    path.write_text(path.read_text(encoding="utf-8") + '\nmsgid "broken\n', encoding="utf-8")
    assert any("catalog does not parse" in m for m in messages(root))


def test_phone_numbers_are_told_apart_from_amounts_and_years() -> None:
    text = "Call 1694 or 03-8000 8000. The fee is 500 baht since 2023, 1,045 dollars, 7 years."
    assert phone_numbers(text) == ["1694", "03-8000 8000"]
