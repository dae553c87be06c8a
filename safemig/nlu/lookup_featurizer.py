"""Lookup tables matched against whole tokens, for the entity extractor and the classifier.

Rasa's RegexFeaturizer turns each lookup table into one regex with `\\b` around every entry.
In text written without spaces there is often no `\\b` where a name starts: a Latin name glued
to Lao or Khmer letters (ໄປaustralia, go-Australia) never matched, and the CRF, whose
`pattern` feature is that match, missed the country. Our tokenizer has already cut the text
into words (and mended the boundaries around country names), so an entry here counts where a
run of whole tokens spells it: case and spaces aside, so "hong kong" is "hongkong" and
syllable-spaced Burmese (မ လေး ရှား) is the name. A short entry can no longer fire inside a
longer word ("mm" in "summer").

Same outputs as RegexFeaturizer (a `pattern` dict on each token, sequence and sentence
features), so the CRF and the classifier use it unchanged. Regex entries (`- regex:`) are not
supported: the project has none, and training says so if one appears.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import numpy as np
import scipy.sparse
from rapidfuzz import process
from rapidfuzz.distance import OSA
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.regex_featurizer import RegexFeaturizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

log = logging.getLogger(__name__)
MAX_TOKENS = 4  # longest entry, in tokens: "united arab emirates", a spaced Burmese name


def lookup_key(text: str) -> str:
    """How an entry and a run of tokens are compared: lower case, no spaces."""
    return "".join(text.lower().split())


# A typed Latin word this long may be one typo away from a name this long; shorter ones must
# match exactly. Five-letter words are too often real words near a name: chain (chaina, a
# spelling of China), score (spore, Singapore).
MIN_NEAR_WORD = 6
MIN_NEAR_NAME = 5


def _latin_word(key: str) -> bool:
    return key.isascii() and key.isalpha()


class NearNames:
    """Latin-script names a word misses by one typo: a letter added, dropped or changed, or
    two letters swapped (thialand, malasia, jappan). Khmer, Lao and Burmese names are matched
    exactly: their spelling variants are listed in the lookup tables."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = sorted({n for n in names if len(n) >= MIN_NEAR_NAME and _latin_word(n)})

    def nearest(self, key: str) -> str | None:
        """The name `key` (a lookup_key) is one typo away from, if any."""
        if len(key) < MIN_NEAR_WORD or not self.names or not _latin_word(key):
            return None
        found = process.extractOne(key, self.names, scorer=OSA.distance, score_cutoff=1)
        return str(found[0]) if found else None


def matching_tokens(text: str, tokens: list[Token], entries: frozenset[str],
                    near: NearNames | None = None) -> list[bool]:
    """For each token: is it part of a run of 1..MAX_TOKENS whole tokens spelling an entry,
    or, with `near`, a single token one typo away from one? (Not a run: "is real" would be
    israel, and "dubai i" dubai.)"""
    hits = [False] * len(tokens)
    for i, first in enumerate(tokens):
        for j in range(i, min(i + MAX_TOKENS, len(tokens))):
            if lookup_key(text[first.start:tokens[j].end]) in entries:
                hits[i:j + 1] = [True] * (j + 1 - i)
        if near is not None and not hits[i] and near.nearest(lookup_key(first.text)):
            hits[i] = True
    return hits


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class TokenLookupFeaturizer(RegexFeaturizer):
    """RegexFeaturizer for lookup tables, matching whole tokens instead of `\\b` regexes."""

    def train(self, training_data: TrainingData) -> Resource:
        if training_data.regex_features:
            log.warning("TokenLookupFeaturizer ignores `regex` entries: %s",
                        sorted({r["name"] for r in training_data.regex_features}))
        tables: dict[str, set[str]] = {}
        for table in training_data.lookup_tables:
            if isinstance(table.get("elements"), list):
                tables.setdefault(table["name"], set()).update(
                    key for e in table["elements"] if (key := lookup_key(str(e))))
        self.known_patterns = [{"name": name, "elements": sorted(entries)}
                               for name, entries in tables.items()]
        self._entries = None
        self._persist()
        return self._resource

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**RegexFeaturizer.get_default_config(), "near_names": True}

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training sees exact matches only, so the CRF learns to trust the feature; near
        misses count only at run time. (Near misses in training too lit up words such as
        "score" (spore) and cost exact names: dubai was missed.)"""
        self._exact_only = True
        try:
            return super().process_training_data(training_data)  # type: ignore[no-any-return]
        finally:
            self._exact_only = False

    def _entry_sets(self) -> list[tuple[str, frozenset[str], NearNames | None]]:
        if getattr(self, "_entries", None) is None:
            near = self._config.get("near_names", True)
            self._entries = [(p["name"], entries, NearNames(entries) if near else None)
                             for p in self.known_patterns
                             for entries in [frozenset(p.get("elements", []))]]
        return self._entries  # type: ignore[return-value]

    def _features_for_patterns(
        self, message: Message, attribute: str
    ) -> tuple[scipy.sparse.coo_matrix | None, scipy.sparse.coo_matrix | None]:
        text = message.get(attribute)
        tokens = message.get(TOKENS_NAMES[attribute], []) if text else []
        if not tokens:
            return None, None
        tables = self._entry_sets()
        sequence = np.zeros([len(tokens), len(tables)])
        for column, (name, entries, near) in enumerate(tables):
            hits = matching_tokens(text, tokens, entries,
                                   None if getattr(self, "_exact_only", False) else near)
            for row, (token, hit) in enumerate(zip(tokens, hits)):
                patterns = token.get("pattern", default={})
                patterns[name] = hit
                token.set("pattern", patterns)
                sequence[row, column] = float(hit)
        sentence = sequence.max(axis=0, keepdims=True)
        return scipy.sparse.coo_matrix(sequence), scipy.sparse.coo_matrix(sentence)
