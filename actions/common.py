"""Helpers every action shares: the conversation's language and corridor from a sdk tracker."""

from __future__ import annotations

from rasa_sdk import Tracker

from safemig.conversation import HOME_BY_LANGUAGE, Corridor, corridor, turns_from_event_dicts
from safemig.language import conversation_language


def language(tracker: Tracker) -> str:
    return conversation_language(turns_from_event_dicts(tracker.events))


def where(tracker: Tracker) -> Corridor:
    slots = {name: tracker.get_slot(name) for name in ("origin", "destination", "country")}
    return corridor(slots, HOME_BY_LANGUAGE.get(language(tracker)))


def latest_intent(tracker: Tracker) -> str:
    return str((tracker.latest_message.get("intent") or {}).get("name") or "")
