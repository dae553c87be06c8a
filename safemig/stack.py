"""The processes behind the bot and how each is started: Rasa, the action server, Telegram."""

from __future__ import annotations

import sys
from pathlib import Path

from safemig.config import Settings
from safemig.conversation_log import clear_locks
from safemig.supervisor import Service

MODEL_NAME = "safemig"


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def stack_env(settings: Settings) -> dict[str, str]:
    """Environment every child gets: ports, token, paths (endpoints.yml reads these)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return {
        "SAFEMIG_ACTION_PORT": str(settings.action_port),
        "SAFEMIG_RASA_PORT": str(settings.rasa_port),
        "SAFEMIG_RASA_TOKEN": settings.rasa_token,
        "SAFEMIG_TRACKER_DB": str(settings.tracker_db_path),
        "SAFEMIG_LOCK_DB": str(settings.lock_db_path),
        # Rasa starts more than one Sanic worker only with a shared lock store (endpoints.yml).
        "SANIC_WORKERS": str(settings.rasa_workers),
        "SAFEMIG_ROOT": str(settings.project_root),
        "SAFEMIG_DATA_DIR": str(settings.data_dir),
    }


def model_path(settings: Settings) -> Path:
    return settings.model_dir / f"{MODEL_NAME}.tar.gz"


def action_server(settings: Settings) -> Service:
    return Service(
        name="actions",
        argv=[sys.executable, "-m", "rasa_sdk", "--actions", "actions",
              "--port", str(settings.action_port)],
        health_url=f"http://127.0.0.1:{settings.action_port}/health",
        env=stack_env(settings),
        start_with_next=True,  # Rasa calls it only once a message arrives
    )


def rasa_server(settings: Settings, start_with_next: bool = False) -> Service:
    root = settings.project_root
    return Service(
        name="rasa",
        # "--auth-token=..." in one piece: a random token can start with "-", which argparse
        # would take for an option (Rasa then refused to start, about 1 run in 64)
        argv=[_bin("rasa"), "run", "--enable-api", f"--auth-token={settings.rasa_token}",
              "-i", "127.0.0.1", "-p", str(settings.rasa_port),
              "--model", str(model_path(settings)),
              "--endpoints", str(root / "endpoints.yml"),
              "--credentials", str(root / "credentials.yml")],
        health_url=f"http://127.0.0.1:{settings.rasa_port}/",
        env=stack_env(settings),
        ready_timeout=settings.rasa_start_seconds,
        start_with_next=start_with_next,
        # tickets held by a Rasa that exited mean nothing; left, they would stall its users
        before_start=lambda: clear_locks(settings.lock_db_path),
    )


def telegram_bot(settings: Settings) -> Service:
    return Service(
        name="telegram",
        argv=[sys.executable, "-m", "bot"],
        env=stack_env(settings),
        settle_seconds=3.0,
    )


def services(settings: Settings, with_telegram: bool) -> list[Service]:
    """All start together: the front end imports and sets up while Rasa loads its model, and
    takes updates once Rasa answers (bot/app.py, start_background)."""
    chosen = [action_server(settings), rasa_server(settings, start_with_next=with_telegram)]
    if with_telegram:
        chosen.append(telegram_bot(settings))
    return chosen
