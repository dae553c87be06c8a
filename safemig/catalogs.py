"""`make catalogs`: extract the English texts, update every language's catalog, compile.

Uses pybabel (extract, init, update -N so editors never get fuzzy guesses, compile). English
is the source language: its msgstr is filled from the msgid when empty.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from safemig.i18n import DOMAIN
from safemig.languages import default_language, supported_languages


def _pybabel(*args: str, cwd: Path) -> None:
    exe = str(Path(sys.executable).with_name("pybabel"))
    subprocess.run([exe, *args], check=True, cwd=cwd)


def fill_source_language(po_path: Path) -> int:
    """Copy msgid to msgstr where empty (the source language's catalog). Returns count."""
    with po_path.open("rb") as fh:
        catalog = read_po(fh)
    filled = 0
    for message in catalog:
        if message.id and not message.string:
            message.string = message.id
            filled += 1
    if filled:
        with po_path.open("wb") as fh:
            write_po(fh, catalog, width=0, sort_by_file=True)
    return filled


def update(root: Path) -> None:
    locales = root / "locales"
    pot = locales / f"{DOMAIN}.pot"
    _pybabel("extract", "-F", "babel.cfg", "-o", str(pot), "--sort-by-file", "--no-wrap",
             "--project", "Safe Migration Bot", ".", cwd=root)
    for lang in supported_languages():
        po = locales / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        if po.exists():
            _pybabel("update", "-N", "--no-wrap", "-i", str(pot), "-d", str(locales),
                     "-D", DOMAIN, "-l", lang, cwd=root)
        else:
            _pybabel("init", "--no-wrap", "-i", str(pot), "-d", str(locales), "-D", DOMAIN,
                     "-l", lang, cwd=root)
        if lang == default_language():
            fill_source_language(po)
    compile_all(root)


def compile_all(root: Path) -> None:
    """Compile every catalog to .mo (fuzzy entries are never compiled)."""
    _pybabel("compile", "-d", str(root / "locales"), "-D", DOMAIN, "--statistics", cwd=root)


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    if sys.argv[1:] == ["compile"]:
        compile_all(root)
    else:
        update(root)
