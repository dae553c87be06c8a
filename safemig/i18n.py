"""Gettext catalogs (Babel) for every text a user reads, reloaded when recompiled.

Catalog entries are keyed by context (msgctxt) = the response name, and msgid = the English
source text from the domain. A running process picks up a recompiled `.mo` on its next
message (the file's mtime is checked at most once a second).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from babel.support import NullTranslations, Translations

from safemig.languages import supported_languages

DOMAIN = "messages"
_CHECK_EVERY = 1.0


class Catalogs:
    """Compiled catalogs per language, with hot reload."""

    def __init__(self, locales_dir: Path) -> None:
        self._dir = locales_dir
        self._lock = threading.Lock()
        self._loaded: dict[str, tuple[float, NullTranslations]] = {}
        self._checked: dict[str, float] = {}

    def _mo_path(self, lang: str) -> Path:
        return self._dir / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"

    def translations(self, lang: str) -> NullTranslations:
        now = time.monotonic()
        cached = self._loaded.get(lang)
        if cached and now - self._checked.get(lang, 0.0) < _CHECK_EVERY:
            return cached[1]
        with self._lock:
            self._checked[lang] = now
            path = self._mo_path(lang)
            mtime = path.stat().st_mtime if path.exists() else -1.0
            if cached and cached[0] == mtime:
                return cached[1]
            trans: NullTranslations
            if mtime < 0:
                trans = NullTranslations()
            else:
                with path.open("rb") as fh:
                    trans = Translations(fh, domain=DOMAIN)
            self._loaded[lang] = (mtime, trans)
            return trans

    def text(self, lang: str, context: str, source: str) -> str:
        """The translation of `source` in `context`, or the English source if none yet."""
        return self.translations(lang).pgettext(context, source)

    def languages(self) -> tuple[str, ...]:
        return supported_languages()
