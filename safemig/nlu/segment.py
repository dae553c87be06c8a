"""Word segmentation per script: Khmer, Lao and Burmese are written without spaces.

Chosen segmenters (see docs/nlu.md for the comparison): khmercut (CRF) for Khmer, laonlp for
Lao, burmesenlp with one shared Lexicon for Burmese (ICU splits Burmese inside syllables), and
pythainlp's dictionary segmenter (newmm) for Thai, which many Lao users type. Everything else
is split into runs of letters with their combining marks and runs of digits.

Many people put a space after every Burmese syllable (ထိုင်း သွား အ လုပ် လုပ် ချင် တယ်),
which the model never saw as words: a Burmese run typed that way (most of its pieces one
syllable) is segmented with its spaces taken out, and a word can then span a space, so every
word carries its own end offset. Spaces between longer pieces stay word boundaries.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

import regex

# burmesenlp warns on every Zawgyi-looking input; our ZawgyiNormalizer already converted it.
logging.getLogger("burmesenlp").setLevel(logging.ERROR)

_MY = r"[\u1000-\u109f\uaa60-\uaa7f\ua9e0-\ua9ff]+"
_RUNS = regex.compile(
    r"(?P<km>[\u1780-\u17ff\u19e0-\u19ff]+)"
    r"|(?P<lo>[\u0e80-\u0eff]+)"
    r"|(?P<th>[\u0e00-\u0e7f]+)"
    rf"|(?P<my>{_MY}(?:[^\S\n]+{_MY})*)"  # spaced Burmese: one run, see _pieces
    r"|(?P<other>[[\p{L}\p{M}]--[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u19e0-\u19ff"
    r"\uaa60-\uaa7f\ua9e0-\ua9ff]]+|\p{N}+)",  # letters apart from digits: 5000baht, malay2
    flags=regex.V1,
)
# Sylbreak's rule (Ye Kyaw Thu): a Burmese syllable starts at a consonant that carries no asat
# or stacker and follows no stacker, or at an independent vowel, a digit or punctuation.
SYLLABLE_START = re.compile(r"(?<!\u1039)([\u1000-\u1021])(?![\u103a\u1039])"
                            r"|([\u1023-\u102a\u103f\u1040-\u104f!-/:-@\[-`{-~])")
# "Country" words a segmenter keeps glued to a name (laonlp: ປະເທດໄທ, country-Thailand): split
# off, so the entity extractor sees the name alone, as it is annotated everywhere else.
COUNTRY_WORDS = {"km": ("ប្រទេស", "ស្រុក"), "lo": ("ປະເທດ",), "my": ("နိုင်ငံ",), "th": ("ประเทศ",)}


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


@lru_cache(maxsize=1)
def _thai() -> Callable[[str], list[str]]:
    from pythainlp.tokenize import word_tokenize

    def segment(text: str) -> list[str]:
        return word_tokenize(text, engine="newmm", keep_whitespace=False)

    return segment


_SEGMENTERS: dict[str, Callable[[], Callable[[str], list[str]]]] = {
    "km": _khmer,
    "lo": _lao,
    "my": _burmese,
    "th": _thai,
}


SEGMENTED_SCRIPTS = frozenset(_SEGMENTERS)  # scripts whose segmenters can glue a name on


def run_script(text: str) -> str | None:
    """The segmenter script ("km", "lo", "my", "th") of the first run of letters in `text`."""
    match = _RUNS.search(text)
    kind = match.lastgroup if match else None
    return kind if kind in SEGMENTED_SCRIPTS else None


class Word(NamedTuple):
    """A word and where it is in the text: text[start:end] (a Burmese word can span a space)."""

    text: str
    start: int
    end: int


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


def _split_country_words(kind: str, words: list[str]) -> list[str]:
    out: list[str] = []
    for word in words:
        prefix = next((p for p in COUNTRY_WORDS.get(kind, ()) if word.startswith(p)
                       and word != p), None)
        out.extend([prefix, word[len(prefix):]] if prefix else [word])
    return out


MIN_REST = 2  # a piece shorter than this left over is more likely part of the name's word
MAX_PIECES = 4  # a name is at most this many segmenter pieces


class Names:
    """Country names in segmented scripts, to mend the segmenters' word boundaries around them.

    Names with a country word (ស្រុកខ្មែរ, မလေးရှားနိုင်ငံ) are left out: the name is tagged
    without it.
    """

    def __init__(self, names: frozenset[str]) -> None:
        words = tuple(w for ws in COUNTRY_WORDS.values() for w in ws)
        self.names = frozenset(n for n in names if not any(w in n for w in words))
        self.lengths = sorted({len(n) for n in self.names}, reverse=True)
        # a word that begins some name (ម៉ាឡេ of ម៉ាឡេស៊ី) is never cut
        self.starts = {n[:i] for n in self.names for i in range(1, len(n) + 1)}

    def split(self, words: list[str]) -> list[str]:
        """Cut a name off the end or start of a word it was glued to.

        khmercut returns ធ្វើការម៉ាឡេស៊ី (work-Malaysia) as one word; it becomes ធ្វើការ +
        ម៉ាឡេស៊ី. The longest name wins.
        """
        if not self.names:
            return words
        out: list[str] = []
        for word in words:
            cut = None
            if word not in self.starts:
                cut = next((len(word) - n for n in self.lengths
                            if len(word) - n >= MIN_REST and word[-n:] in self.names), None)
                cut = cut or next((n for n in self.lengths
                                   if len(word) - n >= MIN_REST and word[:n] in self.names), None)
            out.extend([word[:cut], word[cut:]] if cut else [word])
        return out

    def join(self, located: list[tuple[str, int]]) -> list[tuple[str, int]]:
        """Join pieces a name was cut into: burmesenlp gives ကာ + တာ (Qatar), ဆော် + ဒီမှာ.

        Only pieces that touch in the text are joined; a name ending inside the last piece
        leaves the rest of that piece as a word of its own (ဆော်ဒီ + မှာ).
        """
        if not self.names:
            return located
        out: list[tuple[str, int]] = []
        i = 0
        while i < len(located):
            found = self._name_from(located, i)
            if found is None:
                out.append(located[i])
                i += 1
                continue
            name, used, rest = found
            out.append((name, located[i][1]))
            if rest:
                out.append((rest, located[i][1] + len(name)))
            i += used
        return out

    def _name_from(self, located: list[tuple[str, int]], i: int) -> tuple[str, int, str] | None:
        """The longest name starting at piece i and spanning 2+ touching pieces."""
        start = located[i][1]
        joined = located[i][0]
        best = None
        for j in range(i + 1, min(len(located), i + MAX_PIECES)):
            word, at = located[j]
            if at != start + len(joined):
                break
            before = len(joined)
            joined += word
            for n in self.lengths:
                if before < n <= len(joined) and joined[:n] in self.names:
                    rest = joined[n:]
                    if not rest or len(rest) >= MIN_REST:
                        best = (joined[:n], j - i + 1, rest)
                    break
        return best


NO_NAMES = Names(frozenset())


def segment_words(text: str, names: Names = NO_NAMES) -> list[Word]:
    """Every word in `text`, whatever the script.

    `names` (country names from the lookup tables) come out as words of their own.
    """
    out: list[Word] = []
    for match in _RUNS.finditer(text):
        kind = match.lastgroup or "other"
        if kind == "other":
            out.append(Word(match.group(0), match.start(), match.end()))
            continue
        for offset, piece in _pieces(match.group(0), match.start()):
            run, where = _without_spaces(piece)
            words = _split_country_words(kind, _SEGMENTERS[kind]()(run))
            located = names.join(_locate(run, 0, names.split(words))) or [(run, 0)]
            out.extend(Word(word, offset + where[at], offset + where[at + len(word) - 1] + 1)
                       for word, at in located)
    # emoji, punctuation: keep them as tokens so every message has features
    return out or whitespace_words(text)


def _pieces(run: str, offset: int) -> list[tuple[int, str]]:
    """The run whole when it is typed syllable by syllable (most pieces between its spaces
    are one syllable), else each piece between spaces: a space the writer put between words
    stays a word boundary."""
    pieces = [(offset + word.start, word.text) for word in whitespace_words(run)]
    single = sum(len(SYLLABLE_START.findall(piece)) <= 1 for _, piece in pieces)
    return [(offset, run)] if len(pieces) > 1 and 2 * single > len(pieces) else pieces


def _without_spaces(run: str) -> tuple[str, list[int]]:
    """The run without its spaces, and where each of its characters is in the run."""
    where = [i for i, char in enumerate(run) if not char.isspace()]
    return "".join(run[i] for i in where), where


def whitespace_words(text: str) -> list[Word]:
    """Each whitespace-separated piece of `text`."""
    return [Word(m.group(0), m.start(), m.end()) for m in re.finditer(r"\S+", text)]
