"""`rasa train` without the training cache's bookkeeping: `python -m safemig.rasa_train ARGS`.

Rasa fingerprints every graph node's inputs and outputs as it trains, to store them in its
training cache (`~/.rasa/cache`), and writes the model archive at gzip level 9. This project
always trains with `--force`, which never reads that cache back, and a model archive is mostly
float arrays that level 9 barely shrinks (the stock anchor's: 207 MB at level 9, 209 MB at
level 1). py-spy of the stock anchor's training (November 29): the fingerprints took a tenth
of its 4.6 minutes and the archive a sixth. The trained model is the same; only that
bookkeeping goes. Used by `safemig train` and the bench's stock anchor (bench/turns.py).
"""

from __future__ import annotations

import sys
import tarfile
from typing import Any

ARCHIVE_GZIP_LEVEL = 1


def _fast_gzopen(cls: type[tarfile.TarFile], name: Any, mode: str = "r", fileobj: Any = None,
                 compresslevel: int = ARCHIVE_GZIP_LEVEL, **kwargs: Any) -> tarfile.TarFile:
    return _GZOPEN(cls, name, mode, fileobj, compresslevel, **kwargs)


_GZOPEN = tarfile.TarFile.gzopen.__func__  # type: ignore[attr-defined]


def install() -> None:
    """Patch Rasa's trainer: no cache hook, archives at ARCHIVE_GZIP_LEVEL."""
    from rasa.engine.training import graph_trainer
    from rasa.engine.training.hooks import TrainingHook

    class NoCacheHook(TrainingHook):
        """TrainingHook minus its fingerprints and cache writes (nothing reads them)."""

        def on_before_node(self, *args: Any, **kwargs: Any) -> dict:
            return {}

        def on_after_node(self, *args: Any, **kwargs: Any) -> None:
            return None

    graph_trainer.TrainingHook = NoCacheHook  # type: ignore[misc]
    tarfile.TarFile.gzopen = classmethod(_fast_gzopen)  # type: ignore[assignment]


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
