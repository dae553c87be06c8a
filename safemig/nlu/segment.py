"""Word segmentation per script: Khmer, Lao and Burmese are written without spaces.

Chosen segmenters (see docs/nlu.md for the comparison): khmercut (CRF) for Khmer, laonlp for
Lao, burmesenlp with one shared Lexicon for Burmese (ICU splits Burmese inside syllables).
Everything else is split into runs of letters/digits.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import lru_cache

# burmesenlp warns on every Zawgyi-looking input; our ZawgyiNormalizer already converted it.
logging.getLogger("burmesenlp").setLevel(logging.ERROR)

_RUNS = re.compile(
    r"(?P<km>[\u1780-\u17ff\u19e0-\u19ff]+)"
    r"|(?P<lo>[\u0e80-\u0eff]+)"
    r"|(?P<my>[\u1000-\u109f\uaa60-\uaa7f\ua9e0-\ua9ff]+)"
    r"|(?P<other>[^\W_\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff\u19e0-\u19ff\uaa60-\uaa7f]+)"
)


@lru_cache(maxsize=1)
def _khmer() -> Callable[[str], list[str]]:
    from khmercut import tokenize

    return tokenize  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def _lao() -> Callable[[str], list[str]]:
    from laonlp.tokenize import word_tokenize

    return word_tokenize  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def _burmese() -> Callable[[str], list[str]]:
    from burmesenlp import Lexicon, word_tokenize

    lexicon = Lexicon.default()  # built once: word_tokenize rebuilds it on every call otherwise

    def segment(text: str) -> list[str]:
        return word_tokenize(text, lexicon=lexicon)  # type: ignore[no-any-return]

    return segment


_SEGMENTERS: dict[str, Callable[[], Callable[[str], list[str]]]] = {
    "km": _khmer,
    "lo": _lao,
    "my": _burmese,
}


def _locate(run: str, offset: int, words: list[str]) -> list[tuple[str, int]]:
    """Offsets of segmenter output inside the run; skips anything it cannot find."""
    found: list[tuple[str, int]] = []
    pos = 0
    for word in words:
        word = word.strip()
        if not word:
            continue
        at = run.find(word, pos)
        if at < 0:
            continue
        found.append((word, offset + at))
        pos = at + len(word)
    return found


def segment_words(text: str) -> list[tuple[str, int]]:
    """(word, start offset) for every word in `text`, whatever the script."""
    out: list[tuple[str, int]] = []
    for match in _RUNS.finditer(text):
        kind = match.lastgroup or "other"
        run = match.group(0)
        if kind == "other":
            out.append((run, match.start()))
            continue
        words = _SEGMENTERS[kind]()(run)
        located = _locate(run, match.start(), words)
        out.extend(located or [(run, match.start())])
    if not out:  # emoji, punctuation: keep them as tokens so every message has features
        pos = 0
        for piece in text.split():
            start = text.index(piece, pos)
            out.append((piece, start))
            pos = start + len(piece)
    return out
