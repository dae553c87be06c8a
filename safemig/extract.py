"""Babel extractor for the YAML content files, so `pybabel extract` builds messages.pot.

Responses give (msgctxt=name, msgid=English text) with their comment block as the translator
comment; button titles give msgctxt "button"; the hotline directory gives organisation names
(msgctxt "hotline:<id>") and opening hours ("hotline-hours").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from safemig.content import load_response_file
from safemig.render import BUTTON_CONTEXT

_LATIN = re.compile("[A-Za-z]")
Extracted = tuple[int, str, tuple[str, str], list[str]]


def _extract_responses(path: Path) -> Iterator[Extracted]:
    for response in load_response_file(path).values():
        if response.text:
            yield response.line, "pgettext", (response.name, response.text), list(response.comments)
        for button in response.buttons:
            title = str(button.get("title", ""))
            if _LATIN.search(title):  # titles already in their own script stay as they are
                yield response.line, "pgettext", (BUTTON_CONTEXT, title), []


def _extract_hotlines(path: Path) -> Iterator[Extracted]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    lines = path.read_text(encoding="utf-8").splitlines()
    for entry in data.get("hotlines", []):
        lineno = next((i for i, line in enumerate(lines, 1) if f"id: {entry['id']}" in line), 0)
        note = [f"source: {entry.get('source')}; last checked {entry.get('last_checked')}"]
        yield lineno, "pgettext", (f"hotline:{entry['id']}", str(entry["organisation"])), note
        if entry.get("hours"):
            yield lineno, "pgettext", ("hotline-hours", str(entry["hours"])), []


def extract_yaml(fileobj: Any, keywords: Any, comment_tags: Any,
                 options: dict[str, Any]) -> Iterator[Extracted]:
    """Entry point named in babel.cfg."""
    path = Path(fileobj.name)
    if path.name == "hotlines.yml":
        yield from _extract_hotlines(path)
    else:
        yield from _extract_responses(path)
