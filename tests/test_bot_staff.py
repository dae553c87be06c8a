"""The staff side, offline: a real SQLite queue in tmp_path, recorded Bot API calls, fake Rasa.

Reports are filed with `Queue.file_report` on a connection of their own, as the action server
does. Texts are compared with what the Renderer gives for the same name.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from test_bot_handlers import BOT_USER, USER_ID, FakeRasa, Harness, RecordingRequest, _settings

from bot import outbox
from bot.app import build_application, close_services
from safemig.config import Settings
from safemig.queue import Queue, Report

STAFF_CHAT = -100123
STAFF_ID = 777
OUTSIDER = 999
TEAM = "cambodia-hotline"  # origin KH; no team chat configured, so SAFEMIG_STAFF_CHAT_ID
SECRET = "boss took my passport at Mae Sot"
NAME = "Sokha Chan"


class StaffRequest(RecordingRequest):
    """Also answers sendPhoto, sendLocation, ... with a message."""

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method.startswith("send") and method != "sendChatAction":
            return super()._result("sendMessage", params)
        return super()._result(method, params)

    def to(self, chat_id: int) -> list[str]:
        return [str(p["text"]) for p in self.called("sendMessage") if p["chat_id"] == chat_id]


class StaffHarness(Harness):
    _callbacks = itertools.count(1)

    async def press_as(self, user_id: int, data: str, chat_id: int = STAFF_CHAT) -> None:
        await self.process({"callback_query": {
            "id": f"cb{next(self._callbacks)}", "chat_instance": "ci", "data": data,
            "from": {"id": user_id, "is_bot": False, "first_name": "Staff"},
            "message": {"message_id": 500, "date": 0, "from": BOT_USER, "text": "report",
                        "chat": {"id": chat_id, "type": "supergroup", "title": "staff"}},
        }})

    async def staff_says(self, text: str, user_id: int = STAFF_ID) -> None:
        await self.send(text, chat_type="supergroup", chat_id=STAFF_CHAT, user_id=user_id)

    def staff_text(self, name: str, **variables: Any) -> str:
        return self.text(name, "en", **variables)


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Any, rasa: FakeRasa) -> Settings:
    for var in ("SAFEMIG_TEAM_KH_CHAT_ID", "SAFEMIG_TEAM_LA_CHAT_ID", "SAFEMIG_TEAM_MM_CHAT_ID",
                "SAFEMIG_TEAM_TH_CHAT_ID"):
        monkeypatch.delenv(var, raising=False)
    base = _settings(monkeypatch, str(tmp_path), rasa.port)
    return dataclasses.replace(base, staff_chat_id=STAFF_CHAT,
                               staff_user_ids=frozenset({STAFF_ID}))


@pytest.fixture
async def bot(settings: Settings) -> AsyncIterator[StaffHarness]:
    request = StaffRequest()
    app = build_application(settings, request=request, updates_request=RecordingRequest())
    await app.initialize()
    yield StaffHarness(app, request)
    await app.shutdown()
    await close_services(app)


@pytest.fixture
def queue(settings: Settings) -> Iterator[Queue]:
    """The action server's side: its own connection to the same database."""
    q = Queue.open(settings)
    yield q
    q.close()


def file(queue: Queue, contact_ok: bool = True, key: str = "rest:4242:1") -> Report:
    return queue.file_report(
        "abuse", {"ab_what": SECRET, "ab_name": NAME, "contact_ok": "yes" if contact_ok else "no"},
        reporter_id=str(USER_ID), language="km", origin="KH", destination="TH",
        source_key=key, contact_ok=contact_ok)


def buttons(params: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for row in params["reply_markup"]["inline_keyboard"] for b in row]


async def claimed(bot: StaffHarness, queue: Queue, contact_ok: bool = True) -> Report:
    report = file(queue, contact_ok)
    await outbox.flush(bot.app)
    await bot.press_as(STAFF_ID, f"staff:claim:{report.id}")
    return report


# --- the outbox -------------------------------------------------------------------------


async def test_new_report_is_posted_with_buttons_and_no_personal_data(
        bot: StaffHarness, queue: Queue) -> None:
    report = file(queue)
    assert await outbox.flush(bot.app) == 1

    posts = [p for p in bot.request.called("sendMessage") if p["chat_id"] == STAFF_CHAT]
    assert len(posts) == 1
    text = posts[0]["text"]
    assert report.reference in text and "KH" in text and "TH" in text and "km" in text
    for personal in (SECRET, "passport", NAME, "Sokha", str(USER_ID)):
        assert personal not in text
    assert [b["callback_data"] for b in buttons(posts[0])] == [
        f"staff:{action}:{report.id}" for action in ("claim", "open", "resolve", "reassign")]
    assert [b["text"] for b in buttons(posts[0])] == [
        bot.staff_text(f"staff_button_{a}") for a in ("claim", "open", "resolve", "reassign")]
    assert queue.pending_notifications() == []
    assert await outbox.flush(bot.app) == 0  # posted once only


async def test_outbox_keeps_a_report_pending_while_the_staff_chat_fails(
        bot: StaffHarness, queue: Queue) -> None:
    report = file(queue)
    bot.request.fail("sendMessage", 403, {"ok": False, "error_code": 403,
                                          "description": "Forbidden: bot was kicked"})
    assert await outbox.flush(bot.app) == 0
    assert [r.id for r in queue.pending_notifications()] == [report.id]
    assert await outbox.flush(bot.app) == 1
    assert queue.pending_notifications() == []
    assert bot.request.to(STAFF_CHAT)[-1].startswith(
        bot.staff_text("staff_new_report", reference=report.reference).split("\n")[0])


async def test_outbox_without_any_staff_chat_keeps_reports_pending(
        settings: Settings, queue: Queue) -> None:
    lone = dataclasses.replace(settings, staff_chat_id=None)
    request = StaffRequest()
    app = build_application(lone, request=request, updates_request=RecordingRequest())
    await app.initialize()
    try:
        file(queue)
        assert await outbox.flush(app) == 0
        assert len(queue.pending_notifications()) == 1
        assert request.called("sendMessage") == []
    finally:
        await app.shutdown()
        await close_services(app)


async def test_outbox_runs_in_the_background_from_post_init(
        bot: StaffHarness, queue: Queue, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox, "INTERVAL", 0.05)
    assert bot.app.post_init is not None
    await bot.app.post_init(bot.app)
    report = file(queue)
    for _ in range(100):
        if bot.request.to(STAFF_CHAT):
            break
        await asyncio.sleep(0.02)
    assert report.reference in bot.request.to(STAFF_CHAT)[0]
    await outbox.stop(bot.app)
    assert outbox.OUTBOX_KEY not in bot.app.bot_data


# --- who may act ------------------------------------------------------------------------


async def test_non_staff_pressing_claim_gets_nothing_and_is_audited(
        bot: StaffHarness, queue: Queue) -> None:
    report = file(queue)
    await outbox.flush(bot.app)
    sent_before = len(bot.request.called("sendMessage"))
    await bot.press_as(OUTSIDER, f"staff:claim:{report.id}")
    await bot.press_as(OUTSIDER, f"staff:open:{report.id}")

    answers = bot.request.called("answerCallbackQuery")
    assert len(answers) == 2 and all("text" not in a for a in answers)
    assert len(bot.request.called("sendMessage")) == sent_before
    assert queue.get(report.id).status == "new"  # type: ignore[union-attr]
    refused = [row for row in queue.audit_log(report.id) if row["allowed"] == 0]
    assert [(r["actor"], r["action"]) for r in refused] == [
        (f"user:{OUTSIDER}", "telegram:claim"), (f"user:{OUTSIDER}", "telegram:open")]


async def test_non_staff_commands_are_ignored_and_audited(
        bot: StaffHarness, queue: Queue) -> None:
    report = file(queue)
    await bot.staff_says(f"/reply {report.reference} hello", user_id=OUTSIDER)
    assert bot.request.called("sendMessage") == []
    assert queue.messages(report.id) == []
    refused = [row for row in queue.audit_log(report.id) if row["allowed"] == 0]
    assert refused[-1]["action"] == "telegram:reply"


# --- claim, handoff, reply, end ---------------------------------------------------------


async def test_claim_hands_the_reporter_over_to_staff(
        bot: StaffHarness, queue: Queue, rasa: FakeRasa) -> None:
    report = await claimed(bot, queue)

    assert queue.get(report.id).claimed_by == STAFF_ID  # type: ignore[union-attr]
    assert bot.request.to(USER_ID) == [bot.text("fe_handoff_started", "km", team=TEAM)]
    assert bot.request.to(STAFF_CHAT)[-1] == bot.staff_text(
        "staff_claimed", reference=report.reference, staff="Staff")

    await bot.send("they locked the door <now>")
    assert rasa.received == []
    assert bot.request.to(STAFF_CHAT)[-1] == html.escape(
        f"{report.reference}: they locked the door <now>", quote=False)
    assert [(m["direction"], m["text"]) for m in queue.messages(report.id)] == [
        ("from_reporter", "they locked the door <now>")]

    await bot.press_as(STAFF_ID, f"staff:claim:{report.id}")  # again: told only once
    assert bot.request.to(USER_ID) == [bot.text("fe_handoff_started", "km", team=TEAM)]


async def test_reply_reaches_the_reporter_under_the_team_name_and_end_restores_rasa(
        bot: StaffHarness, queue: Queue, rasa: FakeRasa) -> None:
    report = await claimed(bot, queue)
    await bot.staff_says(f"/reply {report.reference} We are calling the police.\nStay inside.")

    last = bot.request.to(USER_ID)[-1]
    assert last == (bot.text("fe_staff_prefix", "km", team=TEAM)
                    + "\nWe are calling the police.\nStay inside.")
    assert TEAM in last and str(STAFF_ID) not in last and "Staff" not in last
    assert bot.request.to(STAFF_CHAT)[-1] == bot.staff_text(
        "staff_reply_sent", reference=report.reference)
    message = queue.messages(report.id)[-1]
    assert (message["direction"], message["staff_id"]) == ("to_reporter", STAFF_ID)

    await bot.staff_says(f"/end {report.reference}")
    assert bot.request.to(USER_ID)[-1] == bot.text("fe_handoff_ended", "km", team=TEAM)
    assert bot.request.to(STAFF_CHAT)[-1] == bot.staff_text(
        "staff_handoff_ended", reference=report.reference)

    await bot.send("hello again")
    assert rasa.messages() == ["hello again"]
    assert bot.request.to(USER_ID)[-1] == "echo hello again"


async def test_note_and_usage_and_unknown_reference(bot: StaffHarness, queue: Queue) -> None:
    report = file(queue)
    await bot.staff_says(f"/note {report.reference} called the employer")
    assert bot.request.to(STAFF_CHAT)[-1] == bot.staff_text(
        "staff_note_saved", reference=report.reference)
    note = queue.messages(report.id)[-1]
    assert (note["direction"], note["text"]) == ("note", "called the employer")

    await bot.staff_says("/reply")
    assert bot.request.to(STAFF_CHAT)[-1] == bot.staff_text("staff_usage")
    await bot.staff_says("/end SM-1999-000001")
    assert bot.request.to(STAFF_CHAT)[-1] == bot.staff_text(
        "staff_unknown_reference", reference="SM-1999-000001")
    await bot.staff_says(f"/end {report.reference}")
    assert bot.request.to(STAFF_CHAT)[-1] == bot.staff_text(
        "staff_no_handoff", reference=report.reference)


async def test_reporter_who_refused_contact_is_never_written_to(
        bot: StaffHarness, queue: Queue, rasa: FakeRasa) -> None:
    report = await claimed(bot, queue, contact_ok=False)
    assert bot.request.to(USER_ID) == []
    assert bot.request.to(STAFF_CHAT)[-1] == bot.staff_text(
        "staff_claimed_no_contact", reference=report.reference, staff="Staff")
    await bot.staff_says(f"/reply {report.reference} hello")
    assert bot.request.to(USER_ID) == []
    assert bot.request.to(STAFF_CHAT)[-1] == bot.staff_text(
        "staff_no_contact", reference=report.reference)
    await bot.send("hi")
    assert rasa.messages() == ["hi"]


# --- open, resolve, reassign ------------------------------------------------------------


async def test_open_sends_details_and_attachments_and_is_audited(
        bot: StaffHarness, queue: Queue) -> None:
    report = file(queue)
    queue.add_attachment(report.id, "photo", "PHOTO-ID")
    queue.add_attachment(report.id, "location", "13.7,100.5")
    await bot.press_as(STAFF_ID, f"staff:open:{report.id}")

    details = bot.request.to(STAFF_CHAT)[-1]
    assert report.reference in details and html.escape(SECRET) in details and NAME in details
    assert bot.request.called("sendPhoto")[0]["photo"] == "PHOTO-ID"
    location = bot.request.called("sendLocation")[0]
    assert (location["latitude"], location["longitude"]) == (13.7, 100.5)
    opened = [r for r in queue.audit_log(report.id) if r["action"] == "open"]
    assert opened and opened[0]["actor"] == f"user:{STAFF_ID}" and opened[0]["allowed"] == 1


async def test_resolve_with_an_outcome_ends_the_handoff(bot: StaffHarness, queue: Queue) -> None:
    report = await claimed(bot, queue)
    await bot.press_as(STAFF_ID, f"staff:resolve:{report.id}")
    offered = buttons(bot.request.called("sendMessage")[-1])
    assert [b["text"] for b in offered] == list(queue.routing.outcomes)
    assert offered[0]["callback_data"] == f"staff:outcome:{report.id}:assisted"

    await bot.press_as(STAFF_ID, offered[0]["callback_data"])
    resolved = queue.get(report.id)
    assert resolved is not None and (resolved.status, resolved.outcome) == ("resolved", "assisted")
    assert bot.request.to(USER_ID)[-1] == bot.text("fe_handoff_ended", "km", team=TEAM)
    assert bot.request.to(STAFF_CHAT)[-1] == bot.staff_text(
        "staff_resolved", reference=report.reference, outcome="assisted")
    assert bot.services.store.active_handoff(USER_ID) is None

    await bot.press_as(STAFF_ID, f"staff:claim:{report.id}")  # resolved: refused, said so
    assert bot.request.to(STAFF_CHAT)[-1].startswith(f"{report.reference}:")


async def test_reassign_moves_the_report_and_posts_it_again(
        bot: StaffHarness, queue: Queue) -> None:
    report = await claimed(bot, queue)
    await bot.press_as(STAFF_ID, f"staff:reassign:{report.id}")
    offered = [b["callback_data"] for b in buttons(bot.request.called("sendMessage")[-1])]
    assert f"staff:team:{report.id}:thailand-partners" in offered
    assert f"staff:team:{report.id}:{TEAM}" not in offered

    await bot.press_as(STAFF_ID, f"staff:team:{report.id}:thailand-partners")
    moved = queue.get(report.id)
    assert moved is not None and (moved.team, moved.status) == ("thailand-partners", "new")
    assert bot.services.store.active_handoff(USER_ID) is None
    assert await outbox.flush(bot.app) == 1


# --- the reporter's side ----------------------------------------------------------------


async def test_attachments_during_an_open_report_are_stored(
        bot: StaffHarness, queue: Queue) -> None:
    report = file(queue)
    await bot.send(photo=[{"file_id": "small", "file_unique_id": "s", "width": 1, "height": 1},
                          {"file_id": "big", "file_unique_id": "b", "width": 9, "height": 9}])
    await bot.send(location={"latitude": 13.7, "longitude": 100.5})
    await bot.send(voice={"file_id": "v1", "file_unique_id": "v", "duration": 3})
    await bot.send(document={"file_id": "d1", "file_unique_id": "d"})

    stored = [(a["kind"], a["telegram_file_id"]) for a in queue.attachments(report.id)]
    assert stored == [("photo", "big"), ("location", "13.7,100.5"), ("voice", "v1"),
                      ("document", "d1")]
    assert bot.request.to(USER_ID) == [bot.text("fe_attachment_saved", "en")] * 4


async def test_delete_is_blocked_while_a_report_is_open(bot: StaffHarness, queue: Queue) -> None:
    report = file(queue)
    bot.services.store.set_language(USER_ID, "lo")
    await bot.send("/delete_my_data")
    assert bot.request.to(USER_ID) == [bot.text("fe_delete_blocked", "lo")]
    assert bot.services.store.language(USER_ID) is None  # the bot's own row is gone
    assert queue.get(report.id).details is not None  # type: ignore[union-attr]

    queue.resolve(report.id, STAFF_ID, "assisted")
    await bot.send("/delete_my_data")
    assert bot.request.to(USER_ID)[-1] == bot.text("fe_deleted", "en")
    forgotten = queue.get(report.id)
    assert forgotten is not None and forgotten.details is None and forgotten.reporter_id is None
