"""Rasa pipeline components: normalization steps, script-aware tokenizer, language tag, guard.

They sit in config.yml, so `rasa shell nlu`, `rasa test nlu`, the server and the bot all see
the same normalized text. Normalizers rewrite the message text and carry the training
entities' offsets along (`normalize_with_spans`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import regex
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.entity_synonyms import EntitySynonymMapper
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    INTENT,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from safemig.language import script_language
from safemig.languages import supported_languages
from safemig.nlu import normalize as norm
from safemig.nlu.lookup_featurizer import NearNames, lookup_key
from safemig.nlu.segment import (
    MIN_REST,
    NO_NAMES,
    Names,
    run_script,
    segment_words,
    whitespace_words,
)


class _TextNormalizer(GraphComponent):
    """Base: rewrite TEXT with one normalization step, keeping entity offsets right."""

    def __init__(self, config: dict[str, Any]) -> None:
        self._config = config

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> _TextNormalizer:
        return cls(config)

    def converter(self, text: str) -> Callable[[str], str]:
        """The function applied to the text (and to each piece between entity boundaries).

        Subclasses that only read the text (language tag, guard) keep it unchanged.
        """
        return str

    def _normalize(self, message: Message) -> None:
        text = message.get(TEXT)
        if not text:
            return
        fn = self.converter(text)
        entities = message.get(ENTITIES) or []
        spans = [(e[ENTITY_ATTRIBUTE_START], e[ENTITY_ATTRIBUTE_END]) for e in entities]
        new_text, new_spans = norm.normalize_with_spans(text, spans, fn)
        if new_text == text:
            return
        message.set(TEXT, new_text)
        for entity, (start, end) in zip(entities, new_spans):
            entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END] = start, end

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._normalize(message)
        self._normalize_lookups_and_synonyms(training_data)
        return training_data

    def _normalize_lookups_and_synonyms(self, training_data: TrainingData) -> None:
        """Lookup entries and synonym keys as the text will read at run time.

        An editor writes ກຳປູເຈັຍ in countries.yml; after NFKC the message says ກໍາປູເຈັຍ, so
        an unnormalized key would never match. The written form is kept beside the new one.
        """
        for table in training_data.lookup_tables:
            elements = table.get("elements")
            if isinstance(elements, list):
                extra = [new for e in elements if (new := self.converter(e)(e)) != e]
                table["elements"] = list(dict.fromkeys([*elements, *extra]))
        synonyms = training_data.entity_synonyms
        for surface, value in list(synonyms.items()):
            synonyms.setdefault(self.converter(surface)(surface), value)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._normalize(message)
        return messages


def _register_normalizer(cls: type[_TextNormalizer]) -> type[_TextNormalizer]:
    return DefaultV1Recipe.register(  # type: ignore[no-any-return]
        DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False
    )(cls)


@_register_normalizer
class InvisibleCharNormalizer(_TextNormalizer):
    """Zero-width characters out, NFC everywhere, NFKC inside Lao."""

    def converter(self, text: str) -> Callable[[str], str]:
        return norm.strip_invisible


@_register_normalizer
class LaoToneFolder(_TextNormalizer):
    """Lao tone marks out, so a word typed without them is the same word."""

    def converter(self, text: str) -> Callable[[str], str]:
        return norm.fold_lao_tones


@_register_normalizer
class KhmerOrderNormalizer(_TextNormalizer):
    """Khmer characters in canonical order, so typing order does not change the word."""

    def converter(self, text: str) -> Callable[[str], str]:
        return norm.khmer_order


@_register_normalizer
class ZawgyiNormalizer(_TextNormalizer):
    """Zawgyi-encoded Burmese converted to Unicode when the detector is sure (> 0.95)."""

    def converter(self, text: str) -> Callable[[str], str]:
        return norm.zawgyi_converter(text)


@_register_normalizer
class NativeDigitNormalizer(_TextNormalizer):
    """Khmer, Lao and Burmese digits read as 0-9."""

    def converter(self, text: str) -> Callable[[str], str]:
        return norm.ascii_digits


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class MultiScriptTokenizer(Tokenizer):
    """Words from khmercut, laonlp, burmesenlp, or letter runs for other scripts.

    Trained only to remember the country names of the `country` lookup table written in
    Khmer, Lao or Burmese script, which it splits off the words a segmenter glued them to.
    """

    NAMES_FILE = "glued_names.json"
    LOOKUP = "country"

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage | None = None,
                 resource: Resource | None = None, names: Names = NO_NAMES) -> None:
        super().__init__(config)
        self._model_storage = model_storage
        self._resource = resource
        self.names = names

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MultiScriptTokenizer:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        self.names = Names(frozenset(
            element for table in training_data.lookup_tables
            if table.get("name") == self.LOOKUP and isinstance(table.get("elements"), list)
            for element in table["elements"]
            if run_script(element) and len(element) >= MIN_REST
        ))
        with self._model_storage.write_to(self._resource) as directory:  # type: ignore[union-attr]
            (directory / self.NAMES_FILE).write_text(
                json.dumps(sorted(self.names.names), ensure_ascii=False), encoding="utf-8")
        return self._resource  # type: ignore[return-value]

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> MultiScriptTokenizer:
        try:
            with model_storage.read_from(resource) as directory:
                names = json.loads((directory / cls.NAMES_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            names = []
        return cls(config, model_storage, resource, Names(frozenset(names)))

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text = message.get(attribute) or ""
        words = segment_words(text, self.names) if attribute == TEXT else whitespace_words(text)
        return [Token(word.text, word.start, word.end) for word in words]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class ScriptLanguageTagger(_TextNormalizer):
    """Adds `language` (by script) to the parse result, for evaluation and the front ends."""

    def _normalize(self, message: Message) -> None:
        lang = script_language(message.get(TEXT) or "")
        if lang:
            message.set("language", lang, add_to_output=True)


OUT_OF_SCOPE = "out_of_scope"
_EMOJI = regex.compile(r"\p{Extended_Pictographic}")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class NonsenseGuard(_TextNormalizer):
    """Input that cannot carry the intent the classifier gave it gets no confidence.

    Placed before FallbackClassifier, so such input ends in the fallback, never in a
    confident wrong intent such as "12345" -> ask_hotline:
    - input the model has no feature for (an emoji or a script it never saw): a linear
      classifier then answers from its intercepts alone (🐔 was `affirm` at 0.68);
    - digits and punctuation, which can be nonsense (`out_of_scope`, as the training data
      labels them) but nothing else.
    Emoji do carry meaning (👍 yes, 🙏 thanks), so they are left to the classifier.
    """

    def _normalize(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        intent = message.get(INTENT) or {}
        meaningful = any(ch.isalpha() for ch in text) or _EMOJI.search(text)
        if _has_known_features(message) and (meaningful or intent.get("name") == OUT_OF_SCOPE):
            return
        if intent:
            intent[PREDICTED_CONFIDENCE_KEY] = 0.0
            message.set(INTENT, intent, add_to_output=True)
        for entry in message.get(INTENT_RANKING_KEY) or []:
            entry[PREDICTED_CONFIDENCE_KEY] = 0.0
        message.set(ENTITIES, [], add_to_output=True)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


def _has_known_features(message: Message) -> bool:
    """Whether any sparse sentence feature of the text is set (a word, a character n-gram or
    a lookup entry the model learnt)."""
    return any(f.features.nnz for f in message.features
               if f.attribute == TEXT and f.is_sparse() and f.type == "sentence")


_ISO_COUNTRY = re.compile(r"^[A-Z]{2}$")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class TypedSynonymMapper(EntitySynonymMapper):
    """Entity synonyms per entity type: "lao" is LA as a country and lo as a language.

    Rasa's EntitySynonymMapper keys synonyms by text alone, so one of those two meanings
    silently overwrites the other; here the key is (entity type, text). Spaces do not count:
    a name typed syllable by syllable (မ လေး ရှား) is the same name.
    """

    def __init__(self, config: dict[str, Any] | None, model_storage: ModelStorage,
                 resource: Resource, synonyms: dict[str, Any] | None = None) -> None:
        super().__init__(config, model_storage, resource, synonyms)
        self._near_names: dict[str, NearNames] = {}

    def _typed_key(self, entity: str, text: str) -> str:
        return f"{entity}\x1f{lookup_key(text)}"

    def train(self, training_data: TrainingData) -> Resource:
        for example in training_data.entity_examples:
            for entity in example.get(ENTITIES, []):
                start, end = entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END]
                surface = example.get(TEXT)[start:end]
                value = str(entity.get("value"))
                if surface != value:
                    self.synonyms[self._typed_key(entity["entity"], surface)] = value
        languages = set(supported_languages())
        for surface, value in training_data.entity_synonyms.items():
            kind = "country" if _ISO_COUNTRY.match(value) else (
                "language" if value in languages else None)
            if kind:
                self.synonyms.setdefault(self._typed_key(kind, surface), value)
        self._near_names = {}  # built again from the synonyms as they are now
        self._persist()
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            entities = self.join_fragments(message.get(TEXT) or "", message.get(ENTITIES, []))
            self.replace_synonyms(entities)
            message.set(ENTITIES, entities, add_to_output=True)
        return messages

    def join_fragments(self, text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Neighbouring entities of one type that together spell a known name become one.

        The CRF sometimes tags each word of a name of several words on its own ("korea" and
        "south" in "korea south", "tai" and "wan"): joined they are the name. Two names
        side by side ("korea japan") stay two, because together they are no known name.
        """
        joined: list[dict[str, Any]] = []
        for entity in sorted(entities, key=lambda e: e.get(ENTITY_ATTRIBUTE_START, 0)):
            last = joined[-1] if joined else None
            start = entity[ENTITY_ATTRIBUTE_START]
            between = text[last[ENTITY_ATTRIBUTE_END]:start] if last else ""
            if (last is not None and not between.strip()
                    and last.get("entity") == entity.get("entity")
                    and last.get("role") == entity.get("role")):
                span = text[last[ENTITY_ATTRIBUTE_START]:entity[ENTITY_ATTRIBUTE_END]]
                if self._typed_key(str(entity.get("entity")), span) in self.synonyms:
                    joined[-1] = {**last, ENTITY_ATTRIBUTE_END: entity[ENTITY_ATTRIBUTE_END],
                                  "value": span}
                    continue
            joined.append(dict(entity))
        return joined

    def replace_synonyms(self, entities: list[dict[str, Any]]) -> None:
        """Known names become their value; a Latin-script name one typo away from a known
        one (thialand) becomes that one's value."""
        for entity in entities:
            kind = str(entity.get("entity"))
            key = self._typed_key(kind, str(entity.get("value")))
            if key not in self.synonyms:
                near = self._near(kind).nearest(lookup_key(str(entity.get("value"))))
                key = self._typed_key(kind, near) if near else key
            if key in self.synonyms:
                entity["value"] = self.synonyms[key]
                self.add_processor_name(entity)

    def _near(self, kind: str) -> NearNames:
        if kind not in self._near_names:
            prefix = self._typed_key(kind, "")
            self._near_names[kind] = NearNames(
                key[len(prefix):] for key in self.synonyms if key.startswith(prefix))
        return self._near_names[kind]
