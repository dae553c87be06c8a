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

import numpy as np
import scipy.sparse
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


def matching_tokens(text: str, tokens: list[Token], entries: frozenset[str]) -> list[bool]:
    """For each token: is it part of a run of 1..MAX_TOKENS whole tokens spelling an entry?"""
    hits = [False] * len(tokens)
    for i, first in enumerate(tokens):
        for j in range(i, min(i + MAX_TOKENS, len(tokens))):
            if lookup_key(text[first.start:tokens[j].end]) in entries:
                hits[i:j + 1] = [True] * (j + 1 - i)
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

    def _entry_sets(self) -> list[tuple[str, frozenset[str]]]:
        if getattr(self, "_entries", None) is None:
            self._entries = [(p["name"], frozenset(p.get("elements", [])))
                             for p in self.known_patterns]
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
        for column, (name, entries) in enumerate(tables):
            for row, (token, hit) in enumerate(zip(tokens, matching_tokens(text, tokens,
                                                                           entries))):
                patterns = token.get("pattern", default={})
                patterns[name] = hit
                token.set("pattern", patterns)
                sequence[row, column] = float(hit)
        sentence = sequence.max(axis=0, keepdims=True)
        return scipy.sparse.coo_matrix(sequence), scipy.sparse.coo_matrix(sentence)
