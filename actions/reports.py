"""Report intake: validate the forms' answers, review, and file the report in the queue.

Emergencies are filed the moment the user says so (before any question) and updated as they
answer; abuse and missing-person reports are filed when the user presses Send. A report is
stored in one transaction before the user is told it was received.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import language, latest_intent, where
from safemig.config import load_settings
from safemig.i18n import Catalogs
from safemig.queue.models import ANSWER_LABELS as LABELS
from safemig.render import Renderer

log = logging.getLogger(__name__)

FORMS = {
    "emergency_form": ("emergency", ("em_location", "em_safe_to_talk", "contact_ok")),
    "abuse_form": ("abuse", ("ab_who", "ab_name", "ab_what", "ab_where_when", "ab_money",
                             "ab_others", "contact_ok", "report_confirm")),
    "missing_form": ("missing_person", ("mp_who", "mp_where", "mp_last_contact",
                                        "contact_ok", "report_confirm")),
}
KIND_BY_INTENT = {"report_emergency": "emergency", "report_abuse": "abuse",
                  "report_missing_person": "missing_person"}
YES_NO_SLOTS = frozenset({"em_safe_to_talk", "ab_others", "contact_ok"})
SKIPPED = "-"
MAX_ANSWER = 2000  # characters kept per answer; the queue is not a file store


@lru_cache(maxsize=1)
def renderer() -> Renderer:
    settings = load_settings()
    return Renderer(settings.project_root, Catalogs(settings.locales_dir))


def words(name: str, english: str) -> set[str]:
    """A command word as users may type it: in English and in every catalog."""
    r = renderer()
    found = {english}
    for lang in r.catalogs.languages():
        found.add(r.catalogs.text(lang, name, english).strip().lower())
    return found


def is_word(text: str | None, name: str, english: str) -> bool:
    return bool(text) and str(text).strip().lower().strip("/") in words(name, english)


@lru_cache(maxsize=1)
def queue():  # type: ignore[no-untyped-def]
    from safemig.queue.store import Queue

    return Queue.open(load_settings())


def answers_of(tracker: Tracker, slots: tuple[str, ...]) -> dict[str, str]:
    return {s: str(tracker.get_slot(s)) for s in slots
            if tracker.get_slot(s) not in (None, "") and s != "report_confirm"}


def source_key(tracker: Tracker) -> str:
    """Idempotency key: the front end's message id when it sent one, else Rasa's."""
    message = tracker.latest_message or {}
    meta = message.get("metadata") or {}
    msg_id = meta.get("message_id") or message.get("message_id") or ""
    chat = meta.get("chat_id") or tracker.sender_id
    return f"{meta.get('channel', 'rest')}:{chat}:{msg_id}"


def active_form(tracker: Tracker) -> str | None:
    loop = tracker.active_loop.get("name") if tracker.active_loop else None
    return loop if loop in FORMS else None


class ValidateReportForm(FormValidationAction):
    """Shared validation: skip, cancel, yes/no, length. One subclass per form (names only)."""

    form = "abuse_form"

    def name(self) -> str:
        return f"validate_{self.form}" if type(self) is not ValidateReportForm else (
            "validate_report_form_base")

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        text = (tracker.latest_message or {}).get("text")
        if is_word(text, "word_cancel", "cancel"):
            dispatcher.utter_message(response="utter_report_cancelled")
            _, slots = FORMS[self.form]
            return [*(SlotSet(s, None) for s in slots), SlotSet("report_cancelled", True),
                    SlotSet("requested_slot", None), ActiveLoop(None)]
        return await super().run(dispatcher, tracker, domain)

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: dict[str, Any]) -> list[str]:
        return list(FORMS[self.form][1])

    def _clean(self, slot: str, value: Any, tracker: Tracker) -> str:
        text = str(value or "").strip()[:MAX_ANSWER]
        if is_word(text, "word_skip", "skip") or not text:
            return SKIPPED
        if slot in YES_NO_SLOTS:
            intent = latest_intent(tracker)
            if intent == "affirm" or is_word(text, "word_yes", "yes"):
                return "yes"
            if intent == "deny" or is_word(text, "word_no", "no"):
                return "no"
        return text

    def validate_report_confirm(self, slot_value: Any, dispatcher: CollectingDispatcher,
                                tracker: Tracker, domain: dict[str, Any]) -> dict[str, Any]:
        if is_word(slot_value, "word_send", "send") or latest_intent(tracker) == "affirm":
            return {"report_confirm": "send"}
        return {"report_confirm": None}  # ask again: only Send or Cancel end the review

    def __getattr__(self, attr: str) -> Any:
        """validate_<slot> for every answer slot of the form, sharing `_clean`."""
        slot = attr.removeprefix("validate_")
        if attr.startswith("validate_") and slot in FORMS[self.form][1]:
            def validate(slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                         domain: dict[str, Any]) -> dict[str, Any]:
                return {slot: self._clean(slot, slot_value, tracker)}
            return validate
        raise AttributeError(attr)


class ValidateEmergencyForm(ValidateReportForm):
    form = "emergency_form"


class ValidateAbuseForm(ValidateReportForm):
    form = "abuse_form"


class ValidateMissingForm(ValidateReportForm):
    form = "missing_form"


def summary(tracker: Tracker, form: str, lang: str) -> str:
    kind, slots = FORMS[form]
    catalogs = renderer().catalogs
    responses = renderer().responses()
    lines = [f"{catalogs.text(lang, 'label_type', 'Type')}: "
             f"{catalogs.text(lang, f'label_{kind}', responses[f'label_{kind}'].text)}"]
    for slot in slots:
        if slot not in LABELS:
            continue
        value = tracker.get_slot(slot)
        if value == SKIPPED or value is None:
            value = catalogs.text(lang, "label_skipped", "(skipped)")
        elif value in ("yes", "no"):
            value = catalogs.text(lang, f"word_{value}", value)
        label = LABELS[slot]
        lines.append(f"{catalogs.text(lang, label, responses[label].text)}: {value}")
    return "\n".join(lines)


class ActionAskReportConfirm(Action):
    """Show the report for review, with Send and Cancel."""

    def name(self) -> str:
        return "action_ask_report_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        form = active_form(tracker) or "abuse_form"
        dispatcher.utter_message(response="utter_ask_report_confirm",
                                 summary=summary(tracker, form, language(tracker)))
        return []


class ActionFileReport(Action):
    """Store the report (idempotently) and give the reference number."""

    def name(self) -> str:
        return "action_file_report"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        report_id = tracker.get_slot("report_id")
        if tracker.get_slot("report_cancelled"):
            return [SlotSet("report_cancelled", None), SlotSet("report_id", None)]
        form = active_form(tracker)
        starting_emergency = (form is None and not report_id
                              and latest_intent(tracker) == "report_emergency")
        if report_id:
            kind = "emergency"
        elif form:
            kind = FORMS[form][0]
        elif starting_emergency:
            kind = "emergency"
        else:
            kind = _kind_from_filled_slots(tracker)
        slots = next(s for k, s in FORMS.values() if k == kind)
        q = queue()
        answers = answers_of(tracker, slots)
        contact_ok = answers.get("contact_ok") == "yes"
        if report_id:
            report = q.update_answers(int(report_id), answers, contact_ok=contact_ok)
        else:
            corridor = where(tracker)
            report = q.file_report(
                kind=kind, answers=answers, reporter_id=tracker.sender_id,
                language=language(tracker), origin=corridor.origin,
                destination=corridor.destination, source_key=source_key(tracker),
                contact_ok=contact_ok)
        log.info("report %s stored (%s)", report.reference, kind)
        if starting_emergency:  # filed before any question; the answers update it
            return [SlotSet("report_id", str(report.id))]
        dispatcher.utter_message(response="utter_report_filed", reference=report.reference)
        return [*(SlotSet(s, None) for s in slots), SlotSet("report_id", None)]


def _kind_from_filled_slots(tracker: Tracker) -> str:
    """After a form closed: which form's answers are there (abuse and missing need Send)."""
    for kind, slots in FORMS.values():
        if tracker.get_slot("report_confirm") == "send" and kind != "emergency" and any(
                tracker.get_slot(s) for s in slots if s not in ("contact_ok", "report_confirm")):
            return kind
    return "abuse"
