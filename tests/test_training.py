"""The model is retrained only when its inputs change, and the reason is printed."""

import json
import shutil
from pathlib import Path

from safemig.config import PROJECT_ROOT, Settings
from safemig.training import input_hashes, reasons_to_train


def project_copy(tmp_path: Path) -> Settings:
    for folder in ("domain", "dialogue", "nlu_data", "safemig/nlu"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    for name in ("config.yml",):
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)
    (tmp_path / "content").mkdir()
    shutil.copy(PROJECT_ROOT / "content" / "languages.yml", tmp_path / "content")
    settings = Settings(project_root=tmp_path, model_dir=tmp_path / "models")
    settings.model_dir.mkdir()
    return settings


def test_no_model_means_training(tmp_path: Path) -> None:
    assert reasons_to_train(project_copy(tmp_path)) == ["no trained model yet"]


def test_unchanged_inputs_do_not_retrain_and_a_change_says_which(tmp_path: Path) -> None:
    settings = project_copy(tmp_path)
    (settings.model_dir / "safemig.tar.gz").write_bytes(b"model")
    (settings.model_dir / "inputs.json").write_text(json.dumps(input_hashes(tmp_path)))
    assert reasons_to_train(settings) == []
    data = tmp_path / "nlu_data" / "en" / "conversation.yml"
    data.write_text(data.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert reasons_to_train(settings) == ["nlu_data/en/conversation.yml changed"]
    (tmp_path / "nlu_data" / "en" / "new_topic.yml").write_text("version: '3.1'\n")
    assert "nlu_data/en/new_topic.yml added" in reasons_to_train(settings)


def test_translations_alone_do_not_retrain(tmp_path: Path) -> None:
    settings = project_copy(tmp_path)
    (settings.model_dir / "safemig.tar.gz").write_bytes(b"model")
    (settings.model_dir / "inputs.json").write_text(json.dumps(input_hashes(tmp_path)))
    (tmp_path / "locales").mkdir()
    (tmp_path / "locales" / "x.po").write_text("changed")
    assert reasons_to_train(settings) == []
