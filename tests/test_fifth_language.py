"""Adding a language needs a catalog, data files and one line of configuration, no code."""

import shutil
from pathlib import Path

import pytest

from safemig import languages
from safemig.config import PROJECT_ROOT


@pytest.fixture
def thai_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for folder in ("domain", "content", "locales", "dialogue"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    shutil.copy(PROJECT_ROOT / "babel.cfg", tmp_path / "babel.cfg")
    config = tmp_path / "content" / "languages.yml"
    config.write_text(config.read_text(encoding="utf-8") + "  th: THAI\n", encoding="utf-8")
    monkeypatch.setenv("SAFEMIG_CONTENT_DIR", str(tmp_path / "content"))
    languages._load.cache_clear()
    yield tmp_path
    languages._load.cache_clear()


def test_thai_added_by_configuration_and_files_only(thai_copy: Path) -> None:
    from safemig.catalogs import update
    from safemig.content_check import run_checks
    from safemig.i18n import Catalogs
    from safemig.language import script_language
    from safemig.render import Renderer

    assert "th" in languages.supported_languages()
    update(thai_copy)  # `make catalogs`: creates locales/th from the template
    po = thai_copy / "locales" / "th" / "LC_MESSAGES" / "messages.po"
    assert po.exists()
    # A translator fills the catalog (here: every entry copied from English, greeting in Thai).
    from babel.messages.pofile import read_po, write_po

    with (thai_copy / "locales" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        english = read_po(fh)
    with po.open("rb") as fh:
        thai = read_po(fh, locale="th")
    for message in thai:
        if message.id:
            message.string = english.get(message.id, context=message.context).string
    greet_source = next(m for m in thai if m.context == "utter_greet")
    greet_source.string = "สวัสดีครับ ผมช่วยเรื่องการไปทำงานต่างประเทศอย่างปลอดภัยได้"
    with po.open("wb") as fh:
        write_po(fh, thai, width=0)
    from safemig.catalogs import compile_all

    compile_all(thai_copy)

    assert script_language("สวัสดีครับ") == "th"
    rendered = Renderer(thai_copy, Catalogs(thai_copy / "locales")).render("utter_greet", "th")
    assert rendered["text"].startswith("สวัสดีครับ")
    errors = [f for f in run_checks(thai_copy) if not f.warning]
    assert errors == []
