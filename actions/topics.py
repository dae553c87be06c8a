"""Answers to information intents, specific to the user's corridor when we know it."""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_intent, where
from safemig.config import load_settings
from safemig.content import load_responses
from safemig.conversation import UNKNOWN_COUNTRY

# Topics whose answer depends on the destination: without one, the bot asks first.
ASK_DESTINATION_FIRST = frozenset({"ask_legal_channels", "ask_costs"})


def response_names() -> Container[str]:
    """The responses in the domain files, read here (and re-read when a file changes): Rasa
    sends its domain, 30 KB of JSON, only to the actions that ask for it (endpoints.yml)."""
    return load_responses(load_settings().project_root).keys()


def answer_name(topic: str, origin: str | None, destination: str | None,
                responses: Container[str]) -> str:
    """Most specific response that exists: topic__ORIGIN_DEST, topic__DEST, then topic."""
    candidates = []
    if origin and destination:
        candidates.append(f"utter_{topic}__{origin}_{destination}")
    if destination:
        candidates.append(f"utter_{topic}__{destination}")
    candidates.append(f"utter_{topic}")
    return next((name for name in candidates if name in responses), "utter_help")


class ActionAnswerTopic(Action):
    """Answer the topic the user asked about, or first ask where they want to work."""

    def name(self) -> str:
        return "action_answer_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        topic = latest_intent(tracker)
        corridor = where(tracker)
        declined = tracker.get_slot("country") == UNKNOWN_COUNTRY
        if topic in ASK_DESTINATION_FIRST and corridor.destination is None and not declined:
            dispatcher.utter_message(response="utter_ask_destination", topic=topic)
            return [SlotSet("topic", topic)]
        dispatcher.utter_message(
            response=answer_name(topic, corridor.origin, corridor.destination, response_names())
        )
        dispatcher.utter_message(response="utter_next_step")
        return [SlotSet("topic", topic)]
