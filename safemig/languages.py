"""The configured languages (content/languages.yml): codes, scripts and the default."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import yaml

_ROOT = Path(__file__).resolve().parent.parent


def _config_path() -> Path:
    content = os.environ.get("SAFEMIG_CONTENT_DIR")
    return Path(content) / "languages.yml" if content else _ROOT / "content" / "languages.yml"


@lru_cache(maxsize=1)
def _load() -> tuple[str, dict[str, str]]:
    data = yaml.safe_load(_config_path().read_text(encoding="utf-8"))
    return str(data["default"]), {str(k): str(v).upper() for k, v in data["languages"].items()}


def supported_languages() -> tuple[str, ...]:
    """Language codes in configured order, e.g. ('en', 'km', 'lo', 'my')."""
    return tuple(_load()[1])


def default_language() -> str:
    return _load()[0]


def language_scripts() -> dict[str, str]:
    """Map script name (KHMER) to language code (km)."""
    return {script: code for code, script in _load()[1].items()}
