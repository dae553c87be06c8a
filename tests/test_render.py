"""Rendering from the catalogs: the user's language, real hotline numbers, translated buttons."""

import os
from pathlib import Path

import pytest

from safemig.config import PROJECT_ROOT
from safemig.content import load_responses
from safemig.hotlines import country_name, language_name, load_directory
from safemig.i18n import Catalogs
from safemig.render import Renderer, fill

LANGS = ("en", "km", "lo", "my")


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(PROJECT_ROOT, Catalogs(PROJECT_ROOT / "locales"))


# Placeholders of the staff chat texts (staff_*, bot/staff.py).
STAFF_VARIABLES = {"kind": "abuse", "urgency": "2", "origin": "KH", "destination": "TH",
                   "report_language": "km", "created": "2025-01-01 00:00 UTC", "staff": "S",
                   "status": "new", "answers": "-", "attachments": "0", "outcome": "assisted",
                   "reason": "-", "text": "-"}


@pytest.mark.parametrize("lang", LANGS)
def test_every_response_renders_in_every_language(renderer: Renderer, lang: str) -> None:
    for name in load_responses(PROJECT_ROOT):
        out = renderer.render(name, lang, {"summary": "-", "reference": "R-1", "team": "T",
                                           "days": "180", "flags": "2", "count": "8",
                                           **STAFF_VARIABLES})
        assert out["text"].strip(), name
        assert "{" not in out["text"], f"unfilled placeholder in {name} ({lang})"


def test_greeting_is_in_the_users_script(renderer: Renderer) -> None:
    from safemig.language import script_language

    for lang in ("km", "lo", "my"):
        text = renderer.render("utter_greet", lang)["text"]
        assert script_language(text) == lang


def test_khmer_hotline_answer_has_cambodian_numbers_in_khmer(renderer: Renderer) -> None:
    out = renderer.render("utter_ask_hotline", "km", origin="KH", destination=None)
    assert "1288" in out["text"] and "117" in out["text"]
    assert country_name("KH", "km") in out["text"]
    assert out["buttons"] and all(b["title"] for b in out["buttons"])


def test_hotlines_follow_origin_and_destination(renderer: Renderer) -> None:
    text = renderer.render("utter_ask_hotline", "my", origin="MM", destination="MY")["text"]
    assert "067 430183" in text and "03-8000 8000" in text
    assert "1288" not in text


def test_unverified_numbers_are_never_in_the_directory() -> None:
    numbers = load_directory(PROJECT_ROOT / "content").all_numbers()
    assert "1506" not in numbers and "191" not in numbers


def test_language_names_come_from_cldr_in_their_own_script() -> None:
    assert language_name("km") == "ខ្មែរ"
    assert language_name("lo") == "ລາວ"
    assert language_name("my") == "မြန်မာ"


def test_fill_leaves_unknown_placeholders_visible() -> None:
    assert fill("a {x} {y}", {"x": 1}) == "a 1 {y}"
    assert fill("broken {", {}) == "broken {"


def test_recompiled_catalog_is_picked_up_without_restart(tmp_path: Path) -> None:
    import os
    import shutil
    import subprocess
    import sys
    import time

    locales = tmp_path / "locales"
    shutil.copytree(PROJECT_ROOT / "locales", locales)
    catalogs = Catalogs(locales)
    source = load_responses(PROJECT_ROOT)["utter_thank"].text
    before = catalogs.text("km", "utter_thank", source)
    po = locales / "km" / "LC_MESSAGES" / "messages.po"
    content = po.read_text(encoding="utf-8")
    marker = 'msgctxt "utter_thank"'
    head, tail = content.split(marker, 1)
    msgstr_at = tail.index("msgstr")
    end = tail.index("\n\n", msgstr_at) if "\n\n" in tail[msgstr_at:] else len(tail)
    tail = tail[:msgstr_at] + 'msgstr "EDITED"' + tail[end:]
    po.write_text(head + marker + tail, encoding="utf-8")
    time.sleep(1.1)
    subprocess.run([str(Path(sys.executable).with_name("pybabel")), "compile", "-d", str(locales),
                    "-l", "km"], check=True, capture_output=True)
    os.utime(locales / "km" / "LC_MESSAGES" / "messages.mo")
    time.sleep(1.1)
    assert before != "EDITED"
    assert catalogs.text("km", "utter_thank", source) == "EDITED"


def test_an_editors_change_to_a_response_shows_without_a_restart(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from safemig import content

    (tmp_path / "domain").mkdir()
    domain = tmp_path / "domain" / "answers.yml"
    domain.write_text('responses:\n  utter_hello:\n    - text: "Hello"\n', encoding="utf-8")
    clock = [1000.0]
    monkeypatch.setattr(content.time, "monotonic", lambda: clock[0])
    assert load_responses(tmp_path)["utter_hello"].text == "Hello"

    domain.write_text('responses:\n  utter_hello:\n    - text: "Hi there"\n', encoding="utf-8")
    stat = domain.stat()
    os.utime(domain, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert load_responses(tmp_path)["utter_hello"].text == "Hello"  # files checked each second
    clock[0] += content.CHECK_SECONDS
    assert load_responses(tmp_path)["utter_hello"].text == "Hi there"
