"""The English source of every user-facing text: Rasa domain responses plus front-end texts.

Editors change English in these YAML files and translations in locales/. Each response's
comment block (the lines starting with # right above its name) is its translator comment:
the source and last-checked date of any fact it states.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

_RESPONSE_KEY = re.compile(r"^  (utter_\w+|[a-z]\w*):\s*$")


@dataclass(frozen=True)
class Response:
    """One response variant: English text, buttons, custom payload, where it is defined."""

    name: str
    text: str
    buttons: tuple[dict, ...] = ()
    custom: dict = field(default_factory=dict)
    file: str = ""
    line: int = 0
    comments: tuple[str, ...] = ()


def _comments_by_key(path: Path) -> dict[str, tuple[int, tuple[str, ...]]]:
    """For each response key: its line number and the comment block just above it."""
    found: dict[str, tuple[int, tuple[str, ...]]] = {}
    pending: list[str] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("#") and line.startswith("  #"):
            pending.append(stripped.lstrip("# ").strip())
            continue
        match = _RESPONSE_KEY.match(line)
        if match:
            found[match.group(1)] = (lineno, tuple(pending))
        if stripped:
            pending = []
    return found


def load_response_file(path: Path, section: str = "responses") -> dict[str, Response]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    where = _comments_by_key(path)
    out: dict[str, Response] = {}
    for name, variants in (data.get(section) or {}).items():
        first = (variants or [{}])[0]
        line, comments = where.get(name, (0, ()))
        out[name] = Response(
            name=name,
            text=str(first.get("text", "")),
            buttons=tuple(first.get("buttons") or ()),
            custom=dict(first.get("custom") or {}),
            file=str(path),
            line=line,
            comments=comments,
        )
    return out


def response_files(root: Path) -> list[Path]:
    return [*sorted((root / "domain").glob("*.yml")), root / "content" / "frontend.yml"]


@lru_cache(maxsize=4)
def _load_all(root: str, stamp: tuple[float, ...]) -> dict[str, Response]:
    responses: dict[str, Response] = {}
    for path in response_files(Path(root)):
        if path.exists():
            responses.update(load_response_file(path))
    return responses


# Editors' changes show within this many seconds: listing and stat-ing the files on every
# rendered message was 3% of a turn's CPU.
CHECK_SECONDS = 1.0
_checked: dict[str, tuple[float, tuple[float, ...]]] = {}


def load_responses(root: Path) -> dict[str, Response]:
    """Every response by name (domain and front end), re-read when a file changes."""
    key, now = str(root), time.monotonic()
    seen = _checked.get(key)
    if seen is None or now - seen[0] >= CHECK_SECONDS:
        stamp = tuple(p.stat().st_mtime if p.exists() else 0.0 for p in response_files(root))
        _checked[key] = seen = (now, stamp)
    return _load_all(key, seen[1])
