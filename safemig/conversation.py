"""What the renderer needs to know about a conversation, from either kind of tracker.

Rasa's own tracker (in the NLG) holds Event objects; rasa-sdk's (in actions) holds dicts.
Both are reduced to the same `Turn`s, newest first, and the same country guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from safemig.hotlines import ORIGIN_COUNTRIES
from safemig.language import Turn

UNKNOWN_COUNTRY = "ZZ"


def turns_from_event_dicts(events: Iterable[dict]) -> Iterator[Turn]:
    """rasa-sdk events (dicts), newest first."""
    for event in reversed(list(events)):
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        yield Turn(
            text=event.get("text") or "",
            metadata=event.get("metadata") or {},
            intent=(parse.get("intent") or {}).get("name"),
            entities=list(parse.get("entities") or []),
        )


def turns_from_rasa_events(events: Iterable[Any]) -> Iterator[Turn]:
    """Rasa core events (UserUttered objects), newest first."""
    from rasa.shared.core.events import UserUttered

    for event in reversed(list(events)):
        if isinstance(event, UserUttered):
            yield Turn(
                text=event.text or "",
                metadata=event.metadata or {},
                intent=(event.intent or {}).get("name"),
                entities=list(event.entities or []),
            )


@dataclass(frozen=True)
class Corridor:
    """Where the user comes from and goes to, as far as we know."""

    origin: str | None
    destination: str | None


def corridor(slots: dict[str, Any], lang_home: str | None = None) -> Corridor:
    """Origin/destination from the slots; a role-less country counts by what it usually is."""
    origin = slots.get("origin")
    destination = slots.get("destination")
    country = slots.get("country")
    if country and country != UNKNOWN_COUNTRY:
        if country in ORIGIN_COUNTRIES and not origin:
            origin = country
        elif country not in ORIGIN_COUNTRIES and not destination:
            destination = country
    if destination == UNKNOWN_COUNTRY:
        destination = None
    return Corridor(origin or lang_home, destination)


HOME_BY_LANGUAGE = {"km": "KH", "lo": "LA", "my": "MM"}

