"""`rasa train` without its bookkeeping overheads: `python -m safemig.rasa_train ARGS`.

py-spy of the stock anchor's training (November 29) found three costs that do not change the
trained model:
- Rasa fingerprints every graph node's inputs and outputs, to store them in its training
  cache (`~/.rasa/cache`). This project always trains with `--force`, which never reads that
  cache back: a tenth of the 4.6 minutes.
- It writes the model archive at gzip level 9, and a model is mostly float arrays that level
  9 barely shrinks (the anchor's: 207 MB at level 9, 209 MB at level 1): a sixth.
- It checks every entity annotation in the training data (`[Laos]{"entity": ...}`) with
  `jsonschema.validate`, which checks the schema itself each time: a twelfth. One compiled
  validator per schema gives the same answers; on an error Rasa's own check runs and raises
  its own message.
Used by `safemig train` and the bench's stock anchor (bench/turns.py).
"""

from __future__ import annotations

import json
import sys
import tarfile
from collections.abc import Callable
from typing import Any

ARCHIVE_GZIP_LEVEL = 1
_GZOPEN = tarfile.TarFile.gzopen.__func__  # type: ignore[attr-defined]


def _fast_gzopen(cls: type[tarfile.TarFile], name: Any, mode: str = "r", fileobj: Any = None,
                 compresslevel: int = ARCHIVE_GZIP_LEVEL, **kwargs: Any) -> tarfile.TarFile:
    return _GZOPEN(cls, name, mode, fileobj, compresslevel, **kwargs)


def _compiled_validation(original: Callable[[Any, dict], None]) -> Callable[[Any, dict], None]:
    """`original(data, schema)`, with each schema compiled once; errors still go to it."""
    from jsonschema import validators

    compiled: dict[str, Any] = {}

    def validate(data: Any, schema: dict) -> None:
        key = json.dumps(schema, sort_keys=True)
        if key not in compiled:
            compiled[key] = validators.validator_for(schema)(schema)
        if not compiled[key].is_valid(data):
            original(data, schema)  # raises Rasa's own error

    return validate


def install() -> None:
    """Patch Rasa's trainer: no cache hook, archives at ARCHIVE_GZIP_LEVEL, compiled checks."""
    from rasa.engine.training import graph_trainer
    from rasa.engine.training.hooks import TrainingHook
    from rasa.shared.utils import validation

    class NoCacheHook(TrainingHook):
        """TrainingHook minus its fingerprints and cache writes (nothing reads them)."""

        def on_before_node(self, *args: Any, **kwargs: Any) -> dict:
            return {}

        def on_after_node(self, *args: Any, **kwargs: Any) -> None:
            return None

    graph_trainer.TrainingHook = NoCacheHook  # type: ignore[misc]
    tarfile.TarFile.gzopen = classmethod(_fast_gzopen)  # type: ignore[assignment]
    validation.validate_training_data = _compiled_validation(validation.validate_training_data)


def main(argv: list[str]) -> int:
    if "--force" not in argv:
        # without --force Rasa reuses cached steps, and this runner stores none
        raise SystemExit("safemig.rasa_train needs --force")
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *argv]
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
