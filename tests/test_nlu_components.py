"""The pipeline's own Rasa components, one by one, on real Rasa Message objects."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from safemig.nlu import components as c


def make(cls, config=None):  # type: ignore[no-untyped-def]
    defaults = cls.get_default_config() if hasattr(cls, "get_default_config") else {}
    return cls.create({**defaults, **(config or {})}, None, None, None)


def message(text: str, entities: list[dict] | None = None, intent: str | None = None) -> Message:
    data = {"text": text}
    if entities is not None:
        data["entities"] = entities
    if intent:
        data["intent"] = intent
    return Message(data=data)


def test_invisible_normalizer_moves_entity_offsets() -> None:
    text = "ទៅ\u200bថៃ\u200bធ្វើការ"
    start = text.index("ថៃ")
    msg = message(text, [{"start": start, "end": start + 2, "value": "TH", "entity": "country"}])
    make(c.InvisibleCharNormalizer).process_training_data(TrainingData([msg]))
    new = msg.get("text")
    entity = msg.get("entities")[0]
    assert "\u200b" not in new and new[entity["start"]:entity["end"]] == "ថៃ"


def test_lao_tone_folder_makes_words_typed_with_and_without_tone_marks_one() -> None:
    text = "ຂ້ອຍຢາກໄປຍີ່ປຸ່ນ"
    start = text.index("ຍີ່ປຸ່ນ")
    msg = message(text, [{"start": start, "end": len(text), "value": "JP", "entity": "country"}])
    make(c.LaoToneFolder).process_training_data(TrainingData([msg]))
    typed = message("ຂອຍຢາກໄປຍີປຸນ")
    make(c.LaoToneFolder).process([typed])
    entity = msg.get("entities")[0]
    assert msg.get("text") == typed.get("text") == "ຂອຍຢາກໄປຍີປຸນ"
    assert msg.get("text")[entity["start"]:entity["end"]] == "ຍີປຸນ"


def test_khmer_order_normalizer_at_runtime() -> None:
    msg = message("ស្រ្តី")
    make(c.KhmerOrderNormalizer).process([msg])
    assert msg.get("text") == "ស្ត្រី"


def test_zawgyi_normalizer_converts_only_zawgyi() -> None:
    zawgyi = message("မဂၤလာပါ ပတ္စ္ပို႔ ဘယ္လိုလုပ္ရမလဲ")
    unicode_text = message("မင်္ဂလာပါ ပတ်စ်ပို့ ဘယ်လိုလုပ်ရမလဲ")
    make(c.ZawgyiNormalizer).process([zawgyi, unicode_text])
    assert zawgyi.get("text") == unicode_text.get("text") == "မင်္ဂလာပါ ပတ်စ်ပို့ ဘယ်လိုလုပ်ရမလဲ"


def test_digit_normalizer() -> None:
    msg = message("៥០០០ baht")
    make(c.NativeDigitNormalizer).process([msg])
    assert msg.get("text") == "5000 baht"


def test_tokenizer_segments_each_script() -> None:
    msg = message("ខ្ញុំចង់ទៅថៃ passport ສະບາຍດີ")
    make(c.MultiScriptTokenizer).process([msg])
    tokens = [t.text for t in msg.get("text_tokens")]
    assert tokens[:4] == ["ខ្ញុំ", "ចង់", "ទៅ", "ថៃ"] and "passport" in tokens
    assert "ສະບາຍດີ" in tokens


def test_language_tagger_adds_language_to_the_parse() -> None:
    msg = message("ສະບາຍດີ")
    make(c.ScriptLanguageTagger).process([msg])
    assert msg.get("language") == "lo"
    assert "language" in msg.as_dict(only_output_properties=True)


@pytest.mark.parametrize(("text", "known", "intent", "kept"), [
    ("12345", True, "ask_hotline", False),  # digits are never an intent...
    ("12345", True, "out_of_scope", True),  # ...but may be nonsense
    ("???", True, "help", False),
    ("👍", True, "affirm", True),  # emoji carry meaning
    ("🐔", False, "affirm", False),  # nothing the model knows: intercepts alone
    ("你好", False, "greet", False),  # a script it never saw
    ("hotline 1288", True, "ask_hotline", True),
])
def test_nonsense_guard_leaves_no_confident_intent_on_meaningless_input(
        text: str, known: bool, intent: str, kept: bool) -> None:
    import scipy.sparse
    from rasa.shared.nlu.training_data.features import Features

    msg = message(text)
    counts = scipy.sparse.coo_matrix(([1.0], ([0], [3])), shape=(1, 8)) if known else \
        scipy.sparse.coo_matrix((1, 8))
    msg.features.append(Features(counts, "sentence", "text", "words"))
    msg.set("intent", {"name": intent, "confidence": 0.9})
    msg.set("intent_ranking", [{"name": intent, "confidence": 0.9}])
    make(c.NonsenseGuard).process([msg])
    assert msg.get("intent")["confidence"] == (0.9 if kept else 0.0)
    assert msg.get("intent_ranking")[0]["confidence"] == (0.9 if kept else 0.0)


def test_typed_synonyms_keep_country_and_language_apart(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("synonyms")
    context = ExecutionContext(graph_schema=None, model_id="m")  # type: ignore[arg-type]
    mapper = c.TypedSynonymMapper.create({}, storage, resource, context)
    country = message("go to lao", [{"start": 6, "end": 9, "value": "LA", "entity": "country"}],
                      intent="ask_legal_channels")
    language = message("speak lao", [{"start": 6, "end": 9, "value": "lo",
                                      "entity": "language"}], intent="change_language")
    mapper.train(TrainingData([country, language]))
    loaded = c.TypedSynonymMapper.load({}, storage, resource, context)
    runtime = message("lao", [{"start": 0, "end": 3, "value": "lao", "entity": "country"},
                              {"start": 0, "end": 3, "value": "lao", "entity": "language"}])
    loaded.process([runtime])
    values = {e["entity"]: e["value"] for e in runtime.get("entities")}
    assert values == {"country": "LA", "language": "lo"}


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_text_passes_through_every_component(text: str) -> None:
    msg = message(text)
    for cls in (c.InvisibleCharNormalizer, c.KhmerOrderNormalizer, c.ZawgyiNormalizer,
                c.NativeDigitNormalizer, c.ScriptLanguageTagger):
        make(cls).process([msg])
    assert msg.get("text") == text


def test_classifier_fast_scores_match_the_svm(tmp_path: Path) -> None:
    """The per-message scorer gives the SVM's own margins (duplicate feature entries too)."""
    import numpy as np
    import scipy.sparse
    from rasa.shared.nlu.training_data.features import Features

    from safemig.nlu.classifier import LinearIntentClassifier, _Scorer

    rng = np.random.default_rng(0)

    def featurized(intent: str | None, seed_cols: list[int]) -> Message:
        msg = message("x", intent=intent)
        for origin, width in (("words", 30), ("chars", 50)):
            cols = rng.choice(seed_cols, size=4) % width
            counts = rng.integers(1, 4, size=cols.size).astype(float)
            matrix = scipy.sparse.coo_matrix((counts, (np.zeros(cols.size, int), cols)),
                                             shape=(1, width))  # may repeat a column
            msg.features.append(Features(matrix, "sentence", "text", origin))
        return msg

    train = [featurized(intent, cols) for intent, cols in
             [("a", [1, 2, 3, 4]), ("b", [10, 11, 12, 13]), ("c", [20, 21, 22, 23])] * 10]
    classifier = LinearIntentClassifier.create(
        LinearIntentClassifier.get_default_config(),
        LocalModelStorage(tmp_path), Resource("clf"), ExecutionContext({}, "1"))
    classifier.train(TrainingData(train))
    model = classifier._model
    assert model is not None
    scorer = _Scorer(model["tfidf"], model["svm"])
    for probe in [featurized(None, [1, 2, 11, 40]), featurized(None, [20, 22, 23, 3])]:
        blocks = {str(f.origin): scipy.sparse.csr_matrix(f.features) for f in probe.features}
        expected = model["svm"].decision_function(
            LinearIntentClassifier._matrix([blocks], model["tfidf"]))[0]
        assert np.allclose(scorer.scores(probe), expected)
    classifier.process([probe])
    assert probe.get("intent")["name"] in {"a", "b", "c"}


def test_crf_extractor_loads_its_fitted_taggers_without_fitting_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import scipy.sparse
    from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor
    from rasa.shared.nlu.training_data.features import Features

    from safemig.nlu.crf import PersistedCRFEntityExtractor

    tokenizer = make(c.MultiScriptTokenizer)
    examples = []
    places = [("thailand", "TH"), ("malaysia", "MY"), ("korea", "KR"), ("japan", "JP"),
              ("singapore", "SG")]
    frames = ["go to {} to work", "work in {} how", "{} job legal?", "is {} safe",
              "i want go {}", "documents for {} please", "how much fee to {}", "visa {}"]
    for place, code in places:
      for frame in frames:
        text = frame.format(place)
        start = text.index(place)
        examples.append(message(text, [{"start": start, "end": start + len(place),
                                        "value": code, "entity": "country"}], "ask"))
    data = TrainingData(examples)
    tokenizer.process_training_data(data)
    def featurize(msg: Message) -> None:  # Rasa's CRF skips messages without features
        msg.features.append(Features(scipy.sparse.coo_matrix([[1.0]]), "sentence", "text", "x"))

    for example in examples:
        featurize(example)
    storage, resource = LocalModelStorage(tmp_path), Resource("crf")
    context = ExecutionContext({}, "1")
    config = PersistedCRFEntityExtractor.get_default_config()
    trained = PersistedCRFEntityExtractor.create(config, storage, resource, context)
    trained.train(data)
    expected = message("go to korea to work")
    tokenizer.process([expected])
    featurize(expected)
    trained.process([expected])

    def no_fitting(*args: object, **kwargs: object) -> None:
        raise AssertionError("the CRF was fitted again at load time")

    monkeypatch.setattr(CRFEntityExtractor, "train_model", classmethod(no_fitting))
    loaded = PersistedCRFEntityExtractor.load(config, storage, resource, context)
    probe = message("go to korea to work")
    tokenizer.process([probe])
    featurize(probe)
    loaded.process([probe])
    assert [e["value"] for e in probe.get("entities")] == ["korea"]
    assert probe.get("entities") == expected.get("entities")


def test_word_features_keep_khmer_lao_burmese_words_whole(tmp_path: Path) -> None:
    """Rasa's own pattern cut တူရကီ into consonant pieces; ours keeps every token whole."""
    from safemig.nlu.featurizers import TokenCountVectorsFeaturizer

    texts = ["ខ្ញុំចង់ទៅថៃ", "ຂ້ອຍຢາກໄປໄທ", "တူရကီ သွားချင်တယ်", "go to thailand"]
    examples = [message(t, intent="ask") for t in texts]
    data = TrainingData(examples)
    make(c.MultiScriptTokenizer).process_training_data(data)
    featurizer = TokenCountVectorsFeaturizer.create(
        TokenCountVectorsFeaturizer.get_default_config(), LocalModelStorage(tmp_path),
        Resource("cv"), ExecutionContext({}, "1"))
    featurizer.train(data)
    vocabulary = set(featurizer.vectorizers["text"].vocabulary_)
    tokens = {t.text.lower() for m in examples for t in m.get("text_tokens")}
    assert {"ខ្ញុំ", "တူရကီ", "thailand"} <= vocabulary
    assert vocabulary == tokens  # nothing cut, nothing added


def test_lookup_entries_and_synonyms_are_normalized_like_the_text(tmp_path: Path) -> None:
    """ກຳປູເຈັຍ as an editor writes it still maps once NFKC has rewritten the message."""
    written = "ກຳປູເຈັຍ"
    data = TrainingData(
        entity_synonyms={written: "KH"},
        lookup_tables=[{"name": "country", "elements": [written, "ໄທ"]}],
    )
    make(c.InvisibleCharNormalizer).process_training_data(data)
    typed = c.norm.strip_invisible(written)
    assert typed != written
    assert typed in data.lookup_tables[0]["elements"]
    assert written in data.lookup_tables[0]["elements"]  # the written form stays
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(graph_schema=None, model_id="m")  # type: ignore[arg-type]
    mapper = c.TypedSynonymMapper.create({}, storage, Resource("syn"), context)
    mapper.train(data)
    runtime = message(f"ຖືກຂັງຢູ່{typed}", [{"start": 9, "end": 9 + len(typed), "value": typed,
                                          "entity": "country"}])
    mapper.process([runtime])
    assert runtime.get("entities")[0]["value"] == "KH"


def test_tokenizer_learns_the_country_names_it_mends_and_keeps_them(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(graph_schema=None, model_id="m")  # type: ignore[arg-type]
    resource = Resource("tokenizer")
    config = c.MultiScriptTokenizer.get_default_config()
    tokenizer = c.MultiScriptTokenizer.create(config, storage, resource, context)
    lookup = [{"name": "country", "elements": ["ម៉ាឡេស៊ី", "malaysia", "ថៃ"]},
              {"name": "city", "elements": ["ភ្នំពេញ"]}]
    tokenizer.train(TrainingData(lookup_tables=lookup))
    loaded = c.MultiScriptTokenizer.load(config, storage, resource, context)
    assert loaded.names.names == {"ម៉ាឡេស៊ី", "ថៃ"}  # Latin needs no mending; cities none
    msg = message("ទៅធ្វើការម៉ាឡេស៊ី")
    loaded.process([msg])
    assert [t.text for t in msg.get("text_tokens")] == ["ទៅ", "ធ្វើការ", "ម៉ាឡេស៊ី"]


def lookup_featurizer(tmp_path: Path, tables: list[dict]):  # type: ignore[no-untyped-def]
    from safemig.nlu.lookup_featurizer import TokenLookupFeaturizer

    context = ExecutionContext(graph_schema=None, model_id="m")  # type: ignore[arg-type]
    storage, resource = LocalModelStorage(tmp_path), Resource("lookup")
    config = TokenLookupFeaturizer.get_default_config()
    TokenLookupFeaturizer.create(config, storage, resource, context).train(
        TrainingData(lookup_tables=tables))
    return TokenLookupFeaturizer.load(config, storage, resource, context)


def country_flags(featurizer, text: str) -> list[tuple[str, bool]]:  # type: ignore[no-untyped-def]
    msg = message(text)
    make(c.MultiScriptTokenizer).process([msg])
    featurizer.process([msg])
    return [(t.text, t.get("pattern")["country"]) for t in msg.get("text_tokens")]


def test_lookup_entries_count_on_whole_tokens_in_every_script(tmp_path: Path) -> None:
    """Rasa's `\\b` regexes missed names glued to Lao or Khmer letters (ໄປaustralia), and let
    the last of several same-named tables decide (the English "koria" never counted); a
    short entry fired inside a longer word. Whole tokens from the tokenizer fix all three."""
    featurizer = lookup_featurizer(tmp_path, [
        {"name": "country", "elements": ["koria", "australia", "Hong Kong", "mm"]},
        {"name": "country", "elements": ["ថៃ", "မလေးရှား"]},
    ])
    assert country_flags(featurizer, "i want go koria") == [
        ("i", False), ("want", False), ("go", False), ("koria", True)]
    assert country_flags(featurizer, "ໄປaustralia") == [("ໄປ", False), ("australia", True)]
    khmer = country_flags(featurizer, "ទៅថៃធ្វើការ")
    assert [word for word, hit in khmer if hit] == ["ថៃ"] and khmer[0] == ("ទៅ", False)
    assert country_flags(featurizer, "in hongkong or HONG KONG") == [
        ("in", False), ("hongkong", True), ("or", False), ("HONG", True), ("KONG", True)]
    assert country_flags(featurizer, "summer mm") == [("summer", False), ("mm", True)]
    spaced = dict(country_flags(featurizer, "မ လေး ရှား သွား ချင် တယ်"))  # one syllable a space
    assert any(spaced.values()) and not spaced.get("သွား", False)


def test_a_latin_name_one_typo_away_counts_and_maps_to_its_country(tmp_path: Path) -> None:
    """thialand, malasia, jappan: one letter swapped, dropped or doubled. Short words (laso,
    chain: chaina is China) and runs of several words must match exactly."""
    featurizer = lookup_featurizer(tmp_path, [
        {"name": "country", "elements": ["thailand", "malaysia", "japan", "laos", "spain",
                                         "israel", "dubai", "chaina"]}])
    assert country_flags(featurizer, "go thialand or malasia") == [
        ("go", False), ("thialand", True), ("or", False), ("malasia", True)]
    assert country_flags(featurizer, "jappan laso chain") == [
        ("jappan", True), ("laso", False), ("chain", False)]
    assert country_flags(featurizer, "agency is real dubai i") == [  # not israel, not dubaii
        ("agency", False), ("is", False), ("real", False), ("dubai", True), ("i", False)]

    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(graph_schema=None, model_id="m")  # type: ignore[arg-type]
    mapper = c.TypedSynonymMapper.create({}, storage, Resource("syn"), context)
    mapper.train(TrainingData(entity_synonyms={"thailand": "TH", "malaysia": "MY", "lao": "lo"}))
    text = "i work in thialand, brother in malasia, sister in maleysiaa"
    found = [{"entity": "country", "start": text.index(w), "end": text.index(w) + len(w),
              "value": w} for w in ("thialand", "malasia", "maleysiaa")]
    msg = message(text, found)
    mapper.process([msg])
    assert [e["value"] for e in msg.get("entities")] == ["TH", "MY", "maleysiaa"]


def test_a_name_the_entity_extractor_split_in_two_is_joined(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(graph_schema=None, model_id="m")  # type: ignore[arg-type]
    mapper = c.TypedSynonymMapper.create({}, storage, Resource("syn"), context)
    mapper.train(TrainingData(entity_synonyms={"korea south": "KR", "korea": "KR",
                                               "japan": "JP"}))

    def country(text: str, start: int, end: int) -> dict:
        return {"entity": "country", "start": start, "end": end, "value": text[start:end],
                "role": "destination"}

    text = "factory in korea south"
    msg = message(text, [country(text, 11, 16), country(text, 17, 22)])
    mapper.process([msg])
    assert [(e["value"], e["start"], e["end"]) for e in msg.get("entities")] == [("KR", 11, 22)]
    text = "korea japan which better"
    msg = message(text, [country(text, 0, 5), country(text, 6, 11)])
    mapper.process([msg])
    assert [e["value"] for e in msg.get("entities")] == ["KR", "JP"]
