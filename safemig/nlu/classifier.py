"""A fast linear intent classifier: TF-IDF over the pipeline's sparse features + linear SVM.

Why not DIET: on this data and a 2-core machine DIET needs about 10 s an epoch (13+ minutes to
train) and scored no better in our comparison; a linear SVM on TF-IDF-weighted word and
character n-grams trains in seconds and was the most accurate on the held-out sets
(docs/nlu.md). Confidences are a softmax over the SVM's margins, so FallbackClassifier's
threshold works as usual.

A second opinion (`second_opinion_below` > 0): when the sparse model's top confidence is under
that threshold, the message is also embedded with e5 (safemig/nlu/encoder.py) and scored by a
second SVM trained on the embeddings alone; its margins are added to the sparse SVM's. Only the
uncertain messages (2-5% of chat messages) pay the embedding's few milliseconds;
docs/nlu-decisions.md has the figures that chose the threshold, the blend and the encoder depth.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import joblib
import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.svm import LinearSVC

from safemig.nlu.encoder import SentenceEncoder, shared_encoder

log = logging.getLogger(__name__)
_FILE = "linear_intent.joblib"


def _sentence_features(message: Message) -> Iterator[Features]:
    """Sentence-level sparse features of the text, one per featurizer (words, chars, regex)."""
    return (f for f in message.features
            if f.attribute == TEXT and f.is_sparse() and f.type == "sentence")


def _blocks(message: Message) -> dict[str, scipy.sparse.csr_matrix]:
    return {str(f.origin): scipy.sparse.csr_matrix(f.features)
            for f in _sentence_features(message)}


def _tfidf(counts: scipy.sparse.csr_matrix, idf: np.ndarray) -> scipy.sparse.csr_matrix:
    """Sublinear TF-IDF with L2 rows, as TfidfTransformer(sublinear_tf=True) computes it,
    on the CSR arrays directly (sklearn's per-call checks cost a fifth of a parse)."""
    x = counts.astype(np.float64, copy=True)
    x.eliminate_zeros()  # a stored 0 would become log(0)
    data = x.data
    np.log(data, out=data)
    data += 1.0
    data *= idf[x.indices]
    rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
    norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=x.shape[0]))
    norms[norms == 0] = 1.0
    data /= norms[rows]
    return x


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent):
    """TF-IDF + LinearSVC; confidences from a softmax over margins."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"C": 0.5, "temperature": 4.0, "ranking_length": 10, "random_state": 42,
                # e5 second opinion: off at 0.0; `encoder_layers` of e5's 12 are run, and the
                # e5 SVM's margins are added to the sparse ones times `dense_weight`.
                "second_opinion_below": 0.0, "encoder_layers": 4, "dense_weight": 1.0}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage,
                 resource: Resource, model: dict[str, Any] | None = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self._model = model
        self._scorer: _Scorer | None = None
        self._dense: tuple[np.ndarray, np.ndarray] | None = None  # e5 SVM's weights, intercepts

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        rows, labels, texts = [], [], []
        for message in training_data.intent_examples:
            blocks = _blocks(message)
            if blocks and message.get(INTENT):
                rows.append(blocks)
                labels.append(message.get(INTENT))
                texts.append(message.get(TEXT))
        if not rows:
            return self._resource
        # Each featurizer's block gets its own TF-IDF weighting and length normalization, so
        # the many character n-grams do not drown the word n-grams.
        origins = sorted({origin for blocks in rows for origin in blocks})
        tfidf = {}
        for origin in origins:
            width = next(b[origin].shape[1] for b in rows if origin in b)
            block = scipy.sparse.vstack(
                [b.get(origin, scipy.sparse.csr_matrix((1, width))) for b in rows])
            tfidf[origin] = TfidfTransformer(sublinear_tf=True).fit(block)
        x = self._matrix(rows, tfidf)
        svm = LinearSVC(C=self.config["C"], random_state=self.config["random_state"])
        svm.fit(x, labels)
        self._model = {"tfidf": tfidf, "svm": svm}
        if self.config["second_opinion_below"] > 0:
            dense = LinearSVC(C=self.config["C"], random_state=self.config["random_state"])
            dense.fit(self._encoder().encode(texts), labels)
            self._model["dense"] = dense
        self._scorer = None
        with self._storage.write_to(self._resource) as directory:
            joblib.dump(self._model, directory / _FILE)
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> LinearIntentClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                model = joblib.load(directory / _FILE)
        except (ValueError, FileNotFoundError):
            log.warning("No trained intent classifier found; predicting nothing.")
            model = None
        return cls(config, model_storage, resource, model)

    @staticmethod
    def _matrix(rows: list[dict[str, scipy.sparse.csr_matrix]],
                tfidf: dict[str, TfidfTransformer]) -> scipy.sparse.csr_matrix:
        parts = []
        for origin, transformer in tfidf.items():
            width = transformer.idf_.shape[0]
            block = scipy.sparse.vstack(
                [r.get(origin, scipy.sparse.csr_matrix((1, width))) for r in rows], format="csr")
            parts.append(_tfidf(block, transformer.idf_))
        return scipy.sparse.hstack(parts).tocsr()

    def _encoder(self) -> SentenceEncoder:
        return shared_encoder(int(self.config["encoder_layers"]))

    def _probabilities(self, scores: np.ndarray) -> np.ndarray:
        exp = np.exp((scores - scores.max()) * self.config["temperature"])
        return exp / exp.sum()

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is None:
            return messages
        svm: LinearSVC = self._model["svm"]
        if self._scorer is None:
            self._scorer = _Scorer(self._model["tfidf"], svm)
            self._dense = _weights(self._model["dense"]) if "dense" in self._model else None
            if self._dense is not None:
                self._encoder()  # load e5 now, not on the first uncertain message
        for message in messages:
            scores = self._scorer.scores(message)
            if scores is None:
                continue
            probs = self._probabilities(scores)
            if self._dense is not None and probs.max() < self.config["second_opinion_below"]:
                probs = self._probabilities(scores + self._second_opinion(message))
            order = np.argsort(-probs)[: self.config["ranking_length"]]
            ranking = [{"name": str(svm.classes_[i]), "confidence": float(probs[i])}
                       for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def _second_opinion(self, message: Message) -> np.ndarray:
        """The e5 SVM's margins for the message, weighted to be added to the sparse ones."""
        assert self._dense is not None
        coef, intercept = self._dense
        embedding = self._encoder().encode([message.get(TEXT) or ""])[0]
        return (coef @ embedding + intercept) * self.config["dense_weight"]


def _weights(svm: LinearSVC) -> tuple[np.ndarray, np.ndarray]:
    """One row of weights and one intercept per class, as float64."""
    coef = np.asarray(svm.coef_, dtype=np.float64)
    intercept = np.asarray(svm.intercept_, dtype=np.float64)
    if coef.shape[0] == 1:  # two classes: sklearn keeps one row of weights
        return np.vstack([-coef, coef]), np.array([-intercept[0], intercept[0]])
    return coef, intercept


class _Scorer:
    """The SVM's margins for one message straight from its sparse features.

    Same numbers as `decision_function(_matrix(...))` (a test compares them), without building
    scipy matrices per message: those constructors and checks were most of the classifier's
    time per parse. Each block is TF-IDF weighted and L2-normalized on its own, as in training.
    """

    def __init__(self, tfidf: dict[str, TfidfTransformer], svm: LinearSVC) -> None:
        self._blocks: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        coef, self._intercept = _weights(svm)
        offset = 0
        for origin, transformer in tfidf.items():
            idf = np.asarray(transformer.idf_, dtype=np.float64)
            width = idf.shape[0]
            weights = np.ascontiguousarray(coef[:, offset:offset + width].T)
            self._blocks[origin] = (idf, weights)
            offset += width

    def scores(self, message: Message) -> np.ndarray | None:
        total = None
        for feature in _sentence_features(message):
            block = self._blocks.get(str(feature.origin))
            if block is None:
                continue
            idf, weights = block
            coo = feature.features.tocoo()
            if not coo.has_canonical_format:
                coo.sum_duplicates()
            keep = coo.data > 0
            cols, counts = coo.col[keep], coo.data[keep].astype(np.float64)
            if total is None:
                total = self._intercept.copy()
            if cols.size == 0:
                continue
            values = (np.log(counts) + 1.0) * idf[cols]
            values /= np.sqrt(values @ values)
            total += values @ weights[cols]
        return total
