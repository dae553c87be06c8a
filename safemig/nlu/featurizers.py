"""Rasa's count-vector featurizer, with whole tokens as words in every script.

Rasa 3.6 hard-codes the word pattern `\\b\\w+\\b`, and Python's `\\w` does not match the vowel
signs and other combining marks of Khmer, Lao and Burmese: each word our segmenters produced
was cut again into consonant pieces (တူရကီ → တ, ရက, ...), so the "word" features of those
languages were never words. This subclass keeps each token whole (`\\S+`); the character n-gram
featurizer is unaffected. Measured in docs/nlu-decisions.md.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from sklearn.feature_extraction.text import CountVectorizer

WHOLE_TOKEN = r"(?u)\S+"


def _whole_tokens(vectorizers: dict[str, CountVectorizer]) -> dict[str, CountVectorizer]:
    for vectorizer in vectorizers.values():
        if vectorizer.analyzer == "word":
            vectorizer.token_pattern = WHOLE_TOKEN
    return vectorizers


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class TokenCountVectorsFeaturizer(CountVectorsFeaturizer):
    """CountVectorsFeaturizer whose word analyzer takes each token as it is."""

    @classmethod
    def _create_shared_vocab_vectorizers(cls, parameters: dict[str, Any],
                                         vocabulary: Any | None = None
                                         ) -> dict[str, CountVectorizer]:
        return _whole_tokens(super()._create_shared_vocab_vectorizers(parameters, vocabulary))

    @classmethod
    def _create_independent_vocab_vectorizers(cls, parameters: dict[str, Any],
                                              vocabulary: Any | None = None
                                              ) -> dict[str, CountVectorizer]:
        return _whole_tokens(
            super()._create_independent_vocab_vectorizers(parameters, vocabulary))
