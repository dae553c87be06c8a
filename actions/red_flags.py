"""The broker red-flag check: a form of yes/no questions, then a verdict."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

QUESTIONS = (
    "rf_fee", "rf_passport", "rf_tourist_visa", "rf_contract",
    "rf_social_only", "rf_too_good", "rf_debt", "rf_licence",
)
# One of these alone means high risk: they are forced-labour or trafficking indicators.
SEVERE = frozenset({"rf_passport", "rf_tourist_visa", "rf_debt"})


def verdict(answers: dict[str, bool | None]) -> tuple[str, int]:
    """('high'|'medium'|'low', number of warning signs) for the user's answers."""
    flags = [q for q in QUESTIONS if answers.get(q) is True]
    if len(flags) >= 2 or SEVERE.intersection(flags):
        return "high", len(flags)
    return ("medium", 1) if flags else ("low", 0)


class ActionRedFlagVerdict(Action):
    """Say how risky the offer looks, what to do, and reset the check for next time."""

    def name(self) -> str:
        return "action_red_flag_verdict"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        level, flags = verdict({q: tracker.get_slot(q) for q in QUESTIONS})
        dispatcher.utter_message(response=f"utter_red_flag_verdict_{level}", flags=str(flags))
        return [SlotSet(q, None) for q in QUESTIONS]


class ActionRedFlagIntro(Action):
    """Explain the check before the first question."""

    def name(self) -> str:
        return "action_red_flag_intro"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_red_flag_intro", count=str(len(QUESTIONS)))
        return []
