"""All settings in one place: read from the environment or a `.env` file, never from code.

Every setting is documented in README.md ("Settings"). Secrets (bot token, Rasa API token,
webhook secret) only ever come from the environment.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _int_set(raw: str) -> frozenset[int]:
    return frozenset(int(part) for part in raw.replace(";", ",").split(",") if part.strip())


def _opt_int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.strip() else None


@dataclass(frozen=True)
class Settings:
    """The bot's settings; build with `load_settings()` so `.env` is honoured."""

    project_root: Path = PROJECT_ROOT
    data_dir: Path = PROJECT_ROOT / "var"
    model_dir: Path = PROJECT_ROOT / "models"
    locales_dir: Path = PROJECT_ROOT / "locales"
    content_dir: Path = PROJECT_ROOT / "content"
    rasa_host: str = "127.0.0.1"
    rasa_port: int = 5005
    action_port: int = 5055
    rasa_token: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    rasa_timeout: float = 5.0
    rasa_start_seconds: float = 180.0  # how long Rasa may take to load its model
    rasa_workers: int = 1
    telegram_token: str | None = field(default=None, repr=False)
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_mode: str = "polling"
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str | None = field(default=None, repr=False)
    staff_chat_id: int | None = None
    staff_user_ids: frozenset[int] = frozenset()
    retention_days: int = 180
    flood_messages: int = 30
    flood_seconds: float = 10.0
    log_level: str = "INFO"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.rasa_host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.rasa_host}:{self.action_port}/webhook"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "safemig.db"

    @property
    def tracker_db_path(self) -> Path:
        return self.data_dir / "rasa_tracker.db"

    @property
    def lock_db_path(self) -> Path:
        return self.data_dir / "rasa_locks.db"


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    """Read settings once per process from the environment (after loading `.env`)."""
    load_dotenv(PROJECT_ROOT / ".env", override=False)
    env = os.environ
    root = Path(env.get("SAFEMIG_ROOT", PROJECT_ROOT))
    data_dir = Path(env.get("SAFEMIG_DATA_DIR", root / "var"))
    kwargs: dict[str, object] = {
        "project_root": root,
        "data_dir": data_dir,
        "model_dir": Path(env.get("SAFEMIG_MODEL_DIR", root / "models")),
        "locales_dir": Path(env.get("SAFEMIG_LOCALES_DIR", root / "locales")),
        "content_dir": Path(env.get("SAFEMIG_CONTENT_DIR", root / "content")),
        "rasa_port": int(env.get("SAFEMIG_RASA_PORT", "5005")),
        "action_port": int(env.get("SAFEMIG_ACTION_PORT", "5055")),
        "rasa_timeout": float(env.get("SAFEMIG_RASA_TIMEOUT", "5")),
        "rasa_start_seconds": float(env.get("SAFEMIG_RASA_START_SECONDS", "180")),
        "rasa_workers": int(env.get("SAFEMIG_RASA_WORKERS", "1")),
        "telegram_token": env.get("TELEGRAM_BOT_TOKEN") or None,
        "telegram_base_url": env.get("TELEGRAM_BASE_URL", "https://api.telegram.org/bot"),
        "telegram_mode": env.get("TELEGRAM_MODE", "polling"),
        "webhook_url": env.get("TELEGRAM_WEBHOOK_URL") or None,
        "webhook_listen": env.get("TELEGRAM_WEBHOOK_LISTEN", "127.0.0.1"),
        "webhook_port": int(env.get("TELEGRAM_WEBHOOK_PORT", "8443")),
        "webhook_secret": env.get("TELEGRAM_WEBHOOK_SECRET") or None,
        "staff_chat_id": _opt_int(env.get("SAFEMIG_STAFF_CHAT_ID")),
        "staff_user_ids": _int_set(env.get("SAFEMIG_STAFF_USER_IDS", "")),
        "retention_days": int(env.get("SAFEMIG_RETENTION_DAYS", "180")),
        "log_level": env.get("SAFEMIG_LOG_LEVEL", "INFO"),
    }
    if env.get("SAFEMIG_RASA_TOKEN"):
        kwargs["rasa_token"] = env["SAFEMIG_RASA_TOKEN"]
    return Settings(**kwargs)  # type: ignore[arg-type]
