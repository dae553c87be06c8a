"""Train the Rasa model only when its inputs changed, and say why when it does."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

from safemig.config import Settings
from safemig.stack import model_path

# Everything the model depends on: data, domain, config, and our pipeline components' code.
INPUT_GLOBS = ("config.yml", "domain/*.yml", "dialogue/*.yml", "nlu_data/**/*.yml",
               "safemig/nlu/*.py", "safemig/policies.py", "content/languages.yml")


def input_hashes(root: Path) -> dict[str, str]:
    files = sorted({p for pattern in INPUT_GLOBS for p in root.glob(pattern) if p.is_file()})
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def _stamp_path(settings: Settings) -> Path:
    return settings.model_dir / "inputs.json"


def reasons_to_train(settings: Settings) -> list[str]:
    """Why the model is out of date (empty when it is current)."""
    if not model_path(settings).exists():
        return ["no trained model yet"]
    stamp = _stamp_path(settings)
    old = json.loads(stamp.read_text()) if stamp.exists() else {}
    new = input_hashes(settings.project_root)
    changed = [f"{name} changed" for name in new if old.get(name) not in (None, new[name])]
    added = [f"{name} added" for name in new if name not in old]
    removed = [f"{name} removed" for name in old if name not in new]
    return changed + added + removed


def train(settings: Settings, force: bool = False) -> bool:
    """Train if needed; True when a model was trained."""
    reasons = ["--force given"] if force else reasons_to_train(settings)
    if not reasons:
        print("Model is up to date: not training.", flush=True)
        return False
    shown = ", ".join(reasons[:5]) + (f" and {len(reasons) - 5} more" if len(reasons) > 5 else "")
    print(f"Training the model because: {shown}", flush=True)
    root = settings.project_root
    settings.model_dir.mkdir(parents=True, exist_ok=True)
    # `rasa train` without the training cache's bookkeeping (safemig/rasa_train.py)
    cmd = [sys.executable, "-m", "safemig.rasa_train", "train", "--force",
           "--config", str(root / "config.yml"), "--domain", str(root / "domain"),
           "--data", str(root / "nlu_data"), str(root / "dialogue"),
           "--out", str(settings.model_dir), "--fixed-model-name", "safemig",
           # Rasa's own pre-training check only warns, and takes ~40 s of the 3-minute budget;
           # `make validate` runs the same validator strictly (every warning fails).
           "--skip-validation"]
    import os

    from safemig.supervisor import QUIET_ENV

    started = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=root, env={**os.environ, **QUIET_ENV})
    seconds = round(time.perf_counter() - started, 1)
    print(f"Trained in {seconds} s.", flush=True)
    _stamp_path(settings).write_text(json.dumps(input_hashes(root), indent=1))
    last_training_path(settings).write_text(json.dumps({"seconds": seconds}))
    return True


def last_training_path(settings: Settings) -> Path:
    """How long the last full training took (read by `make bench`)."""
    return settings.model_dir / "last_training.json"
