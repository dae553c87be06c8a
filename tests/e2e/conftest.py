"""End-to-end fixtures: our whole stack behind the telemelya Bot API emulator.

The rig (see e2e_harness.py) runs Redis, moto (the emulator's S3 store), telemelya, and
`python -m safemig.cli run --no-train` in webhook mode, exactly as production starts it,
with every port free and on 127.0.0.1. Without the e2e environment (`bash
scripts/e2e_setup.sh`) the tests skip locally and fail in CI (CI=true).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .e2e_harness import Chat, Rig, missing_requirements, start_rig


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def rig(request: pytest.FixtureRequest,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    """The emulator plus the running bot, shared by all e2e tests."""
    problem = missing_requirements()
    if problem:
        message = f"e2e environment not available: {problem}"
        if _in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    model: Path = request.getfixturevalue("trained_model")  # trains only if inputs changed
    assert model.exists()
    try:
        running = start_rig(tmp_path_factory.mktemp("e2e"))
    except RuntimeError as exc:
        pytest.fail(f"e2e rig did not start: {exc}", pytrace=False)
    yield running
    running.stop()


@pytest.fixture
def chat(rig: Rig) -> Chat:
    """A fresh Telegram user (new chat id and emulator session) for one test."""
    return rig.new_chat()
