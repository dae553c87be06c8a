"""Rasa's CRF entity extractor, loaded from its fitted model instead of re-fitted at start-up.

Rasa 3.6's CRFEntityExtractor stores only its training tokens and fits the CRF again every
time a model is loaded: 11 of the Rasa server's 20 seconds of start-up here (py-spy). This
subclass also stores the fitted taggers (sklearn-crfsuite pickles the model file's bytes) and
loads them when present; a model trained without them still loads the old way.
"""

from __future__ import annotations

from typing import Any

import joblib
import rasa.shared.utils.io
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor, CRFToken

_TAGGERS = "crf_taggers.joblib"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class PersistedCRFEntityExtractor(CRFEntityExtractor):
    """CRFEntityExtractor that saves its fitted taggers with the model."""

    def persist(self, dataset: list[list[CRFToken]]) -> None:
        super().persist(dataset)
        with self._model_storage.write_to(self._resource) as model_dir:
            joblib.dump(self.entity_taggers, model_dir / _TAGGERS)

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> CRFEntityExtractor:
        try:
            with model_storage.read_from(resource) as model_dir:
                taggers = joblib.load(model_dir / _TAGGERS)
                crf_order = rasa.shared.utils.io.read_json_file(model_dir / "crf_order.json")
        except (ValueError, FileNotFoundError):
            return super().load(config, model_storage, resource, execution_context, **kwargs)
        extractor = cls(config, model_storage, resource, taggers)
        extractor.crf_order = crf_order
        return extractor
