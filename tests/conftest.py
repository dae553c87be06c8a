"""Shared fixtures: the real trained model and the real running stack (Rasa + action server)."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from e2e.e2e_harness import free_port

from safemig.config import PROJECT_ROOT, load_settings


@dataclass
class Stack:
    """A running `safemig serve` (the real supervisor, Rasa server and action server)."""

    rasa_url: str
    token: str
    env: dict[str, str]
    data_dir: Path

    def send(self, sender: str, text: str, metadata: dict | None = None) -> list[dict]:
        response = httpx.post(f"{self.rasa_url}/webhooks/rest/webhook",
                              json={"sender": sender, "message": text,
                                    "metadata": metadata or {}}, timeout=60)
        response.raise_for_status()
        return list(response.json())

    def parse(self, text: str) -> dict:
        response = httpx.post(f"{self.rasa_url}/model/parse", params={"token": self.token},
                              json={"text": text}, timeout=60)
        response.raise_for_status()
        return dict(response.json())


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The project's model, trained if its inputs changed (make test trains it first)."""
    from safemig.training import train

    settings = load_settings()
    train(settings)
    path = settings.model_dir / "safemig.tar.gz"
    assert path.exists()
    return path


@contextmanager
def running_stack(data_dir: Path, **extra_env: str) -> Iterator[Stack]:
    """`safemig serve` on free ports with its data in `data_dir`, stopped afterwards."""
    token = secrets.token_urlsafe(16)
    rasa_port, action_port = free_port(), free_port()
    env = {**os.environ, "SAFEMIG_RASA_PORT": str(rasa_port),
           "SAFEMIG_ACTION_PORT": str(action_port), "SAFEMIG_RASA_TOKEN": token,
           "SAFEMIG_DATA_DIR": str(data_dir), "TELEGRAM_BOT_TOKEN": "", **extra_env}
    log = (data_dir / "stack.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "safemig.cli", "serve"], cwd=PROJECT_ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{rasa_port}"
    deadline = time.monotonic() + 300
    ready = False
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            ready = httpx.get(f"{url}/", timeout=2).status_code == 200 and httpx.get(
                f"http://127.0.0.1:{action_port}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            ready = False
        if ready:
            break
        time.sleep(0.5)
    if not ready:
        proc.kill()
        pytest.fail("stack did not start:\n" + (data_dir / "stack.log").read_text()[-4000:])
    try:
        yield Stack(url, token, env, data_dir)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="session")
def stack(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("stack-data")) as running:
        yield running


@pytest.fixture
async def rasa():  # type: ignore[no-untyped-def]
    """A fake Rasa REST channel over real HTTP, for the Telegram front end's handler tests."""
    from test_bot_handlers import FakeRasa

    fake = FakeRasa()
    await fake.start()
    yield fake
    await fake.stop()
