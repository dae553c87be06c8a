"""Render a named response in a language: catalog lookup, placeholders, translated buttons."""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safemig.content import Response, load_responses
from safemig.hotlines import countries_for, format_hotlines, language_name, load_directory
from safemig.i18n import Catalogs

BUTTON_CONTEXT = "button"


class _Lenient(dict):
    """Unknown placeholders stay visible as {name} instead of raising."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(template: str, variables: dict[str, Any]) -> str:
    """str.format_map that never raises on a missing or malformed placeholder."""
    try:
        return string.Formatter().vformat(template, (), _Lenient(variables))
    except (ValueError, IndexError):
        return template


def needs(template: str, name: str) -> bool:
    return "{" + name + "}" in template


@dataclass
class Renderer:
    """Everything needed to turn a response name into localized text and buttons."""

    root: Path
    catalogs: Catalogs

    def responses(self) -> dict[str, Response]:
        return load_responses(self.root)

    def exists(self, name: str) -> bool:
        return name in self.responses()

    def hotlines_text(self, lang: str, origin: str | None, destination: str | None) -> str:
        directory = load_directory(self.root / "content")
        return format_hotlines(
            lang, countries_for(lang, origin, destination, directory), directory, self.catalogs
        )

    def render(
        self,
        name: str,
        lang: str,
        variables: dict[str, Any] | None = None,
        origin: str | None = None,
        destination: str | None = None,
    ) -> dict[str, Any]:
        """{'text', 'buttons', 'custom'} for response `name` in `lang`."""
        response = self.responses().get(name)
        if response is None:
            response = self.responses()["utter_default"]
        values: dict[str, Any] = {"language": language_name(lang)}
        values.update(variables or {})
        template = self.catalogs.text(lang, name, response.text)
        if needs(template, "hotlines") and "hotlines" not in values:
            values["hotlines"] = self.hotlines_text(lang, origin, destination)
        buttons = [
            {
                "title": self.catalogs.text(lang, BUTTON_CONTEXT, str(b["title"])),
                "payload": str(b["payload"]).replace("{topic}", str(values.get("topic", ""))),
            }
            for b in response.buttons
        ]
        custom = dict(response.custom)
        if custom.get("set_language"):
            custom = {"set_language": lang}
        return {"text": fill(template, values), "buttons": buttons, "custom": custom or None}
