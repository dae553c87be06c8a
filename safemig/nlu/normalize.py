"""Text normalization steps, as plain functions of str -> str.

Each step fixes one way the same word reaches us in different code points. They are pure and
local (a change never crosses a word), so entity offsets can be carried across them by
normalizing the text piecewise (see `normalize_with_spans`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import pairwise

# Zero-width and invisible format characters people's keyboards leave in Khmer, Lao and
# Burmese text (U+200B alone is about 10 per sentence in SIB-200's Khmer).
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e]")
_LAO = re.compile("[\u0e80-\u0eff]+")
_KHMER = re.compile("[\u1780-\u17ff\u19e0-\u19ff]+")
_MYANMAR = re.compile("[\u1000-\u109f\uaa60-\uaa7f\ua9e0-\ua9ff]+(?:[ \t]+[\u1000-\u109f]+)*")
_NATIVE_DIGITS = {
    **{0x17E0 + i: str(i) for i in range(10)},  # Khmer ០-៩
    **{0x0ED0 + i: str(i) for i in range(10)},  # Lao ໐-໙
    **{0x1040 + i: str(i) for i in range(10)},  # Myanmar ၀-၉
    **{0x1090 + i: str(i) for i in range(10)},  # Myanmar Shan digits
}
ZAWGYI_THRESHOLD = 0.95


def strip_invisible(text: str) -> str:
    """Remove zero-width characters and apply NFC; NFKC inside Lao runs (ໜ, ໝ, ຳ)."""
    text = unicodedata.normalize("NFC", _INVISIBLE.sub("", text))
    return _LAO.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)


# Lao tone marks (U+0EC8-U+0ECB) are left out by many people typing fast, and a word stays
# readable without them; the model sees every Lao word without them, so ຂ້ອຍ and ຂອຍ are one
# word (docs/nlu-decisions.md: 0.85 -> 0.97 on messages typed without them, for 0.2 points on
# messages typed with them).
_LAO_TONES = re.compile("[\u0ec8-\u0ecb]")


def fold_lao_tones(text: str) -> str:
    """Drop Lao tone marks: ຂ້ອຍຢາກໄປ -> ຂອຍຢາກໄປ."""
    return _LAO_TONES.sub("", text)


def khmer_order(text: str) -> str:
    """Put Khmer characters in canonical order (SIL khnormal): ស្រ្តី -> ស្ត្រី."""
    if not _KHMER.search(text):
        return text
    from khmerspell.khnormal import khnormal

    return _KHMER.sub(lambda m: khnormal(m.group(0)), text)


@lru_cache(maxsize=1)
def _zawgyi_detector():  # type: ignore[no-untyped-def]
    from myanmartools import ZawgyiDetector

    return ZawgyiDetector()


def zawgyi_probability(text: str) -> float:
    """Google's model: the probability that the Burmese in `text` is Zawgyi-encoded."""
    return float(_zawgyi_detector().get_zawgyi_probability(text))


def _convert_burmese_runs(text: str) -> str:
    from burmesenlp import zg2uni

    return _MYANMAR.sub(lambda m: zg2uni(m.group(0)), text)


def zawgyi_converter(text: str) -> Callable[[str], str]:
    """Decide once for the whole message (pieces are too short to judge) how to convert it."""
    if _MYANMAR.search(text) and zawgyi_probability(text) > ZAWGYI_THRESHOLD:
        return _convert_burmese_runs
    return lambda piece: piece


def zawgyi_to_unicode(text: str) -> str:
    """Convert Burmese to Unicode only when clearly Zawgyi (converters corrupt Unicode)."""
    return zawgyi_converter(text)(text)


# ၀ (digit zero) and ဝ (letter wa) look the same, as do ၇ (seven) and ရ (ra), and people type
# one for the other: ၀န်ထမ်း for ဝန်ထမ်း (employee). A digit never carries a vowel sign or
# medial, and a zero touching Burmese letters but no digit is the letter.
_MY_DIGIT = "0-9\u1040-\u1049"
_WA_TYPED_AS_ZERO = re.compile(
    f"(?<![{_MY_DIGIT}])\u1040(?![{_MY_DIGIT}])"
    "(?:(?<=[\u1000-\u103f]\u1040)|(?=[\u1000-\u103f]))")
_RA_TYPED_AS_SEVEN = re.compile("\u1047(?=[\u102b-\u103e])")


def ascii_digits(text: str) -> str:
    """Khmer, Lao and Burmese digits to 0-9, so ៥០០០ and 5000 are the same feature; Burmese
    letters typed as look-alike digits back to letters first."""
    if "\u1040" in text or "\u1047" in text:
        text = _RA_TYPED_AS_SEVEN.sub("\u101b", _WA_TYPED_AS_ZERO.sub("\u101d", text))
    return text.translate(_NATIVE_DIGITS)


STEPS: dict[str, Callable[[str], str]] = {
    "invisible": strip_invisible,
    "lao_tones": fold_lao_tones,
    "khmer_order": khmer_order,
    "zawgyi": zawgyi_to_unicode,
    "digits": ascii_digits,
}


def normalize(text: str, steps: Sequence[str] = tuple(STEPS)) -> str:
    """All steps in order (the same order the Rasa pipeline runs them)."""
    for step in steps:
        text = STEPS[step](text)
    return text


Span = tuple[int, int]


def normalize_with_spans(
    text: str, spans: Sequence[Span], fn: Callable[[str], str]
) -> tuple[str, list[Span]]:
    """Apply `fn` piecewise so each span (an entity) keeps covering the same words."""
    cuts = sorted({0, len(text), *(p for span in spans for p in span)})
    new_pos: dict[int, int] = {0: 0}
    out: list[str] = []
    length = 0
    for start, end in pairwise(cuts):
        piece = fn(text[start:end])
        out.append(piece)
        length += len(piece)
        new_pos[end] = length
    return "".join(out), [(new_pos[s], new_pos[e]) for s, e in spans]
