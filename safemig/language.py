"""Which language a message is written in, and which language a conversation is in.

Script decides: Khmer, Lao and Burmese each have their own Unicode block, so their letters
settle the question (Zawgyi-encoded Burmese uses the same block). Latin-script text is
ambiguous (English, romanised Khmer, "ok", a number), so it never switches a conversation
that already has a language; only an explicit choice does.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from safemig.languages import default_language, language_scripts, supported_languages

_SAMPLE = 400  # characters looked at: enough to decide, bounded for huge input


def _script(char: str) -> str | None:
    if not char.isalpha() and unicodedata.category(char) not in ("Mn", "Mc"):
        return None
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if name else None


def script_language(text: str) -> str | None:
    """The configured language whose script has most letters in `text`; None if none does."""
    scripts = language_scripts()
    counts = Counter(_script(c) for c in text[:_SAMPLE])
    best = [(n, scripts[s]) for s, n in counts.items() if s in scripts]
    return max(best)[1] if best else None


def is_decisive(text: str) -> bool:
    """True when the script alone names the language (a non-Latin configured script)."""
    lang = script_language(text)
    return lang is not None and language_scripts().get("LATIN") != lang


@dataclass(frozen=True)
class Turn:
    """What language resolution needs from one user message."""

    text: str
    metadata: dict = field(default_factory=dict)
    intent: str | None = None
    entities: list[dict] = field(default_factory=list)


def conversation_language(turns_newest_first: Iterable[Turn]) -> str:
    """The language to answer in.

    The newest decisive signal wins: a `change_language` request naming a language, an
    explicit choice sent by the front end in the message metadata, or a message in a
    non-Latin script. With no signal at all, the default language.
    """
    allowed = supported_languages()
    for turn in turns_newest_first:
        if turn.intent == "change_language":
            for entity in turn.entities:
                if entity.get("entity") == "language" and entity.get("value") in allowed:
                    return str(entity["value"])
        explicit = (turn.metadata or {}).get("language")
        if explicit in allowed:
            return str(explicit)
        if is_decisive(turn.text or ""):
            return str(script_language(turn.text))
    return default_language()
