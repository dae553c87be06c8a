"""Switching the conversation's language on request."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from safemig.languages import supported_languages


class ActionChangeLanguage(Action):
    """Confirm the new language, or offer the choice when the user did not name one."""

    def name(self) -> str:
        return "action_change_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        wanted = next(tracker.get_latest_entity_values("language"), None)
        if wanted in supported_languages():
            dispatcher.utter_message(response="utter_language_changed")
        else:
            dispatcher.utter_message(response="utter_ask_language")
        return []
