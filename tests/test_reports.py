"""Reports through the real Rasa server and action server, checked in the real SQLite queue."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from conftest import Stack

from safemig.config import PROJECT_ROOT, Settings
from safemig.i18n import Catalogs
from safemig.language import script_language
from safemig.queue.store import Queue
from safemig.render import Renderer

LANGS = ("en", "km", "lo", "my")
RENDER = Renderer(PROJECT_ROOT, Catalogs(PROJECT_ROOT / "locales"))


def queue_of(stack: Stack) -> Queue:
    return Queue.open(Settings(data_dir=stack.data_dir))


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def word(name: str, lang: str) -> str:
    return RENDER.catalogs.text(lang, name, RENDER.responses()[name].text)


def reference_in(text: str) -> str:
    import re

    match = re.search(r"SM-\d{4}-\d{6}", text)
    assert match, text
    return match.group(0)


def abuse_report(stack: Stack, sender: str, lang: str) -> tuple[str, str]:
    """Go through the whole abuse report form; the filed answer and its reference."""
    meta = {"language": lang}
    first = stack.send(sender, "/report_abuse", meta)
    assert RENDER.render("utter_ask_ab_who", lang)["text"] in texts(first)
    answers = ["broker", "Mr Sok", "he took our money and left", "Poipet, March",
               "15000 baht", word("word_yes", lang), word("word_yes", lang)]
    for answer in answers:
        replies = stack.send(sender, answer, meta)
    review = texts(replies)
    assert "15000 baht" in review and "Mr Sok" in review
    filed = texts(stack.send(sender, word("word_send", lang), meta))
    return filed, reference_in(filed)


@pytest.mark.parametrize("lang", LANGS)
def test_abuse_report_in_every_language_is_stored_and_acknowledged(stack: Stack,
                                                                   lang: str) -> None:
    sender = f"rep-{uuid.uuid4().hex[:8]}"
    filed, reference = abuse_report(stack, sender, lang)
    if lang != "en":
        assert script_language(filed) == lang
    report = queue_of(stack).by_reference(reference)
    assert report is not None and report.kind == "abuse" and report.language == lang
    assert report.details and report.details["ab_money"] == "15000 baht"
    assert report.details["ab_others"] == "yes" and report.contact_ok
    assert report.reporter_id == sender


HOME_HOTLINE = {"en": "1300", "km": "1288", "lo": "1362", "my": "067 430183"}


@pytest.mark.parametrize("lang", LANGS)
def test_emergency_gives_the_hotline_first_and_is_filed_before_any_answer(stack: Stack,
                                                                         lang: str) -> None:
    sender = f"em-{uuid.uuid4().hex[:8]}"
    replies = stack.send(sender, "/report_emergency", {"language": lang})
    assert "☎" in replies[0]["text"] and HOME_HOTLINE[lang] in replies[0]["text"]
    q = queue_of(stack)
    filed = q.open_report_for(sender)
    assert filed is not None and filed.kind == "emergency"  # user may stop answering now
    for answer in ["Bangkok, a factory", word("word_skip", lang), word("word_yes", lang)]:
        replies = stack.send(sender, answer, {"language": lang})
    reference = reference_in(texts(replies))
    assert reference == filed.reference
    report = q.by_reference(reference)
    assert report is not None and report.details == {
        "em_location": "Bangkok, a factory", "em_safe_to_talk": "-", "contact_ok": "yes"}


def test_missing_person_report_can_be_cancelled_and_nothing_is_stored(stack: Stack) -> None:
    sender = f"mp-{uuid.uuid4().hex[:8]}"
    stack.send(sender, "/report_missing_person", {"language": "lo"})
    stack.send(sender, "my sister Noy", {"language": "lo"})
    replies = stack.send(sender, word("word_cancel", "lo"), {"language": "lo"})
    assert RENDER.render("utter_report_cancelled", "lo")["text"].split("\n")[0] in texts(replies)
    assert queue_of(stack).open_report_for(sender) is None
    replies = stack.send(sender, "/greet", {"language": "lo"})  # the bot answers normally again
    assert texts(replies)


@pytest.mark.parametrize("lang", LANGS)
def test_missing_person_report_in_every_language(stack: Stack, lang: str) -> None:
    sender = f"mp-{uuid.uuid4().hex[:8]}"
    meta = {"language": lang}
    stack.send(sender, "/report_missing_person", meta)
    for answer in ["my sister Mya", "Malaysia, Penang", "2 months ago", word("word_no", lang),
                   word("word_send", lang)]:
        replies = stack.send(sender, answer, meta)
    filed = texts(replies)
    report = queue_of(stack).by_reference(reference_in(filed))
    assert report is not None and report.kind == "missing_person" and not report.contact_ok
    assert report.details and report.details["mp_where"] == "Malaysia, Penang"
    if lang != "en":
        assert script_language(filed) == lang


def action_request(sender: str, message_id: int) -> dict:
    slots = {"ab_who": "agency", "ab_what": "no job", "report_confirm": "send",
             "contact_ok": "no"}
    return {
        "next_action": "action_file_report",
        "sender_id": sender,
        "tracker": {
            "sender_id": sender, "slots": slots, "events": [],
            "latest_message": {"text": "send", "intent": {"name": "affirm"},
                               "entities": [],
                               "metadata": {"channel": "telegram", "chat_id": 99,
                                            "message_id": message_id}},
            "active_loop": {}, "latest_action_name": "abuse_form",
        },
        "domain": {"responses": {}},
        "version": "3.6.2",
    }


def test_same_message_delivered_twice_files_one_report(stack: Stack) -> None:
    url = f"http://127.0.0.1:{stack.env['SAFEMIG_ACTION_PORT']}/webhook"
    sender = f"dup-{uuid.uuid4().hex[:8]}"
    first = httpx.post(url, json=action_request(sender, 4242), timeout=30).json()
    second = httpx.post(url, json=action_request(sender, 4242), timeout=30).json()
    ref_first = first["responses"][0]["reference"]
    assert ref_first == second["responses"][0]["reference"]
    reports = [r for r in queue_of(stack).list() if r.reporter_id == sender]
    assert len(reports) == 1


def test_crash_between_store_and_acknowledgement_loses_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions import reports
    from safemig.config import load_settings

    monkeypatch.setenv("SAFEMIG_DATA_DIR", str(tmp_path))
    load_settings.cache_clear()
    reports.queue.cache_clear()

    class CrashingDispatcher(CollectingDispatcher):
        def utter_message(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            raise RuntimeError("process died before answering")

    tracker = Tracker.from_dict(action_request("crash-user", 7)["tracker"])
    with pytest.raises(RuntimeError):
        asyncio.run(reports.ActionFileReport().run(CrashingDispatcher(), tracker, {}))
    stored = Queue.open(load_settings()).open_report_for("crash-user")
    assert stored is not None and stored.kind == "abuse"
    load_settings.cache_clear()
    reports.queue.cache_clear()
