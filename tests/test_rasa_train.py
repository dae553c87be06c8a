"""`python -m safemig.rasa_train`: Rasa's own training, minus the cache it never reads."""

import gzip
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from safemig.config import PROJECT_ROOT

SMALL_CONFIG = {
    "recipe": "default.v1", "language": "en", "assistant_id": "test",
    "pipeline": [{"name": "WhitespaceTokenizer"}, {"name": "CountVectorsFeaturizer"},
                 {"name": "LogisticRegressionClassifier"}],
    "policies": [{"name": "RulePolicy"}],
}
SMALL_NLU = {"version": "3.1", "nlu": [
    {"intent": "greet", "examples": "- hello\n- hi there\n- good morning\n"},
    {"intent": "bye", "examples": "- bye\n- see you\n- good night\n"}]}
SMALL_DOMAIN = {"version": "3.1", "intents": ["greet", "bye"],
                "responses": {"utter_hi": [{"text": "hi"}]}}


def test_it_refuses_to_train_without_force() -> None:
    """Without --force Rasa would reuse cached steps, and this runner stores none."""
    done = subprocess.run([sys.executable, "-m", "safemig.rasa_train", "train"],
                          capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert done.returncode != 0 and "--force" in done.stderr


def test_trains_a_model_without_filling_the_cache(tmp_path: Path) -> None:
    for name, content in (("config.yml", SMALL_CONFIG), ("nlu.yml", SMALL_NLU),
                          ("domain.yml", SMALL_DOMAIN)):
        (tmp_path / name).write_text(yaml.safe_dump(content))
    cache = tmp_path / "cache"
    subprocess.run([sys.executable, "-m", "safemig.rasa_train", "train", "--force",
                    "--config", "config.yml", "--domain", "domain.yml", "--data", "nlu.yml",
                    "--out", "models", "--fixed-model-name", "small", "--skip-validation"],
                   check=True, cwd=tmp_path, capture_output=True,
                   env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                        "RASA_CACHE_DIRECTORY": str(cache), "RASA_TELEMETRY_ENABLED": "false"})
    model = tmp_path / "models" / "small.tar.gz"
    with tarfile.open(model) as archive:  # a normal model archive, read by Rasa's loader
        names = archive.getnames()
    assert any(name.startswith("components/") for name in names)
    with gzip.open(model) as unpacked:  # written fast (level 1), not at tarfile's default 9
        assert unpacked.read(1)
    assert model.read_bytes()[8] == 4  # gzip's XFL byte: 4 = fastest, 2 = best compression
    with sqlite3.connect(cache / "cache.db") as db:
        assert db.execute("SELECT COUNT(*) FROM cache_entry").fetchone() == (0,)


def test_entity_annotations_are_checked_as_rasa_checks_them() -> None:
    """One compiled validator per schema: valid annotations pass, a wrong one raises Rasa's
    own error with Rasa's message."""
    from rasa.shared.exceptions import SchemaValidationError
    from rasa.shared.nlu.training_data.schemas.data_schema import entity_dict_schema
    from rasa.shared.utils import validation

    from safemig.rasa_train import _compiled_validation

    checks = _compiled_validation(validation.validate_training_data)
    checks({"entity": "country", "role": "destination", "value": "TH"}, entity_dict_schema())
    for wrong in ({"entity": 5}, {"role": "destination"}, {"entity": "country", "group": []}):
        with pytest.raises(SchemaValidationError) as ours:
            checks(wrong, entity_dict_schema())
        with pytest.raises(SchemaValidationError) as rasas:
            validation.validate_training_data(wrong, entity_dict_schema())
        assert str(ours.value) == str(rasas.value)
