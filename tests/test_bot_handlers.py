"""The Telegram front end, offline: recorded Bot API calls, a fake Rasa over real HTTP.

Texts are compared with what the Renderer gives for the same name, never with literal
translations (the catalogs change while translators work).
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import itertools
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web
from conftest import free_port
from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from bot.app import build_application, close_services, set_commands
from bot.keyboards import MAX_CALLBACK_BYTES
from bot.services import SERVICES_KEY, Services
from safemig.config import Settings, load_settings
from safemig.hotlines import language_name
from safemig.i18n import Catalogs
from safemig.languages import supported_languages
from safemig.render import Renderer

USER_ID = 4242
BOT_USER = {"id": 1, "is_bot": True, "first_name": "SafeMig", "username": "safemig_test_bot",
            "can_join_groups": False, "can_read_all_group_messages": False,
            "supports_inline_queries": False}


# --- Telegram, offline ------------------------------------------------------------------


class RecordingRequest(BaseRequest):
    """Records every Bot API call and answers with canned JSON; never touches the network."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self._ids = itertools.count(1000)

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def fail(self, method: str, status: int, body: dict[str, Any], times: int = 1) -> None:
        self.failures.setdefault(method, []).extend([(status, body)] * times)

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in ("sendMessage", "editMessageReplyMarkup"):
            return {"message_id": params.get("message_id") or next(self._ids), "date": 0,
                    "chat": {"id": params.get("chat_id", USER_ID), "type": "private"},
                    "from": BOT_USER, "text": params.get("text", "")}
        return True

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = None, write_timeout: Any = None,
                         connect_timeout: Any = None, pool_timeout: Any = None,
                         ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        self.calls.append((name, params))
        if self.failures.get(name):
            status, body = self.failures[name].pop(0)
            return status, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": self._result(name, params)}).encode()

    def called(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    def texts(self) -> list[str]:
        return [str(p["text"]) for p in self.called("sendMessage")]


# --- Rasa, faked over real HTTP ---------------------------------------------------------


class FakeRasa:
    """Rasa's REST webhook on 127.0.0.1: records messages, answers with `self.reply`."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.reply: Callable[[dict[str, Any]], list[dict[str, Any]]] = (
            lambda body: [{"recipient_id": body["sender"], "text": "echo " + body["message"]}]
        )
        self.delay = 0.0
        self.up = True  # False: "/" answers 503, as while Rasa loads its model
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def _root(self, request: web.Request) -> web.Response:
        return web.Response(text="Hello from Rasa", status=200 if self.up else 503)

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.json_response(self.reply(body))

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self._webhook)
        app.router.add_get("/", self._root)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def messages(self) -> list[str]:
        return [str(body["message"]) for body in self.received]


# --- fixtures ---------------------------------------------------------------------------


def _settings(monkeypatch: pytest.MonkeyPatch, data_dir: str, rasa_port: int) -> Settings:
    monkeypatch.setenv("SAFEMIG_DATA_DIR", data_dir)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST-TOKEN")
    monkeypatch.setenv("SAFEMIG_RASA_PORT", str(rasa_port))
    monkeypatch.setenv("SAFEMIG_RASA_TIMEOUT", "2")
    monkeypatch.delenv("SAFEMIG_STAFF_CHAT_ID", raising=False)
    load_settings.cache_clear()
    settings = load_settings()
    load_settings.cache_clear()
    return settings


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Any, rasa: FakeRasa) -> Settings:
    return _settings(monkeypatch, str(tmp_path), rasa.port)


class Harness:
    """An initialised Application plus the recorder, with helpers to send updates."""

    def __init__(self, app: Application, request: RecordingRequest) -> None:
        self.app = app
        self.request = request
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        settings = self.services.settings
        self.renderer = Renderer(settings.project_root, Catalogs(settings.locales_dir))

    @property
    def services(self) -> Services:
        return self.app.bot_data[SERVICES_KEY]  # type: ignore[no-any-return]

    def text(self, name: str, lang: str, **variables: Any) -> str:
        """What the bot sends for front-end text `name` (escaped, as on the wire)."""
        return html.escape(str(self.renderer.render(name, lang, variables)["text"]), quote=False)

    async def process(self, data: dict[str, Any]) -> None:
        data = {"update_id": next(self._update_ids), **data}
        await self.app.process_update(Update.de_json(data, self.app.bot))

    def message(self, text: str | None = None, *, lang: str = "en", chat_type: str = "private",
                chat_id: int | None = None, user_id: int = USER_ID,
                **extra: Any) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "message_id": next(self._message_ids), "date": 0,
            "chat": {"id": chat_id or user_id, "type": chat_type,
                     **({"title": "group"} if chat_type != "private" else {})},
            "from": {"id": user_id, "is_bot": False, "first_name": "Test", "language_code": lang},
            **extra,
        }
        if text is not None:
            msg["text"] = text
            if text.startswith("/"):
                command = text.split()[0]
                msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return msg

    async def send(self, text: str | None = None, **kwargs: Any) -> None:
        await self.process({"message": self.message(text, **kwargs)})

    async def press(self, data: str, *, lang: str = "en", message_id: int = 77) -> None:
        await self.process({"callback_query": {
            "id": f"cb{message_id}", "chat_instance": "ci", "data": data,
            "from": {"id": USER_ID, "is_bot": False, "first_name": "Test", "language_code": lang},
            "message": {"message_id": message_id, "date": 0, "from": BOT_USER, "text": "menu",
                        "chat": {"id": USER_ID, "type": "private"}},
        }})


async def _harness(settings: Settings) -> tuple[Application, RecordingRequest]:
    request = RecordingRequest()
    app = build_application(settings, request=request, updates_request=RecordingRequest())
    await app.initialize()
    return app, request


@pytest.fixture
async def make_bot(settings: Settings) -> AsyncIterator[Callable[..., Any]]:
    """Build a bot with optional setting changes; everything is shut down afterwards."""
    apps: list[Application] = []

    async def make(**changes: Any) -> Harness:
        app, request = await _harness(dataclasses.replace(settings, **changes))
        apps.append(app)
        return Harness(app, request)

    yield make
    for app in apps:
        await app.shutdown()
        await close_services(app)


@pytest.fixture
async def bot(make_bot: Callable[..., Any]) -> Harness:
    return await make_bot()  # type: ignore[no-any-return]


# --- tests ------------------------------------------------------------------------------


async def test_start_greets_in_telegram_language_then_offers_picker(
        bot: Harness, rasa: FakeRasa) -> None:
    await bot.send("/start", lang="km")

    assert rasa.received[0]["message"] == "/greet"
    assert rasa.received[0]["sender"] == str(USER_ID)
    assert rasa.received[0]["metadata"]["language"] == "km"
    sent = bot.request.called("sendMessage")
    assert sent[0]["text"] == "echo /greet"
    assert sent[1]["text"] == bot.text("fe_choose_language", "km")
    keyboard = sent[1]["reply_markup"]["inline_keyboard"]
    buttons = [b for row in keyboard for b in row]
    assert [b["callback_data"] for b in buttons] == [f"lang:{c}" for c in supported_languages()]
    assert [b["text"] for b in buttons] == [language_name(c) for c in supported_languages()]
    assert sent[0]["parse_mode"] == "HTML"


async def test_start_with_unsupported_telegram_language_uses_default(
        bot: Harness, rasa: FakeRasa) -> None:
    await bot.send("/start", lang="de")
    assert rasa.received[0]["metadata"]["language"] == "en"


async def test_picker_stores_language_removes_keyboard_and_greets_again(
        bot: Harness, rasa: FakeRasa) -> None:
    await bot.press("lang:lo", message_id=77)

    assert bot.request.called("answerCallbackQuery")
    edits = bot.request.called("editMessageReplyMarkup")
    assert len(edits) == 1
    assert edits[0]["message_id"] == 77
    assert "reply_markup" not in edits[0]
    assert bot.services.store.language(USER_ID) == "lo"
    assert rasa.received[-1]["message"] == "/greet"
    assert rasa.received[-1]["metadata"]["language"] == "lo"


async def test_language_command_shows_picker(bot: Harness) -> None:
    await bot.send("/language", lang="my")
    sent = bot.request.called("sendMessage")
    assert sent[-1]["text"] == bot.text("fe_choose_language", "my")
    assert "inline_keyboard" in sent[-1]["reply_markup"]


async def test_lao_text_switches_language_and_says_so(bot: Harness, rasa: FakeRasa) -> None:
    bot.services.store.set_language(USER_ID, "km")
    await bot.send("ສະບາຍດີ")

    assert bot.services.store.language(USER_ID) == "lo"
    texts = bot.request.texts()
    assert texts[0] == bot.text("fe_language_switched", "lo")
    assert texts[1] == "echo ສະບາຍດີ"
    metadata = rasa.received[0]["metadata"]
    assert metadata["language"] == "lo"
    assert metadata["chat_id"] == USER_ID
    assert isinstance(metadata["message_id"], int)


async def test_latin_text_keeps_the_chosen_language(bot: Harness, rasa: FakeRasa) -> None:
    bot.services.store.set_language(USER_ID, "km")
    await bot.send("ok 123")
    assert bot.services.store.language(USER_ID) == "km"
    assert rasa.received[0]["metadata"]["language"] == "km"
    assert bot.request.texts() == ["echo ok 123"]


async def test_buttons_become_inline_keyboard_and_long_payloads_survive(
        bot: Harness, rasa: FakeRasa) -> None:
    long_payload = '/inform{"topic": "' + "x" * 80 + '"}'
    rasa.reply = lambda body: [{"text": "Choose", "buttons": [
        {"title": "Menu", "payload": "/help"},
        {"title": "More", "payload": long_payload},
    ]}]
    await bot.send("hello")

    markup = bot.request.called("sendMessage")[-1]["reply_markup"]
    buttons = [b for row in markup["inline_keyboard"] for b in row]
    assert [b["text"] for b in buttons] == ["Menu", "More"]
    assert buttons[0]["callback_data"] == "p:/help"
    assert all(len(b["callback_data"].encode()) <= MAX_CALLBACK_BYTES for b in buttons)

    rasa.reply = lambda body: [{"text": "ok"}]
    await bot.press(buttons[1]["callback_data"], message_id=78)
    assert rasa.received[-1]["message"] == long_payload
    assert bot.request.called("editMessageReplyMarkup")[-1]["message_id"] == 78
    await bot.press(buttons[0]["callback_data"], message_id=79)
    assert rasa.received[-1]["message"] == "/help"


async def test_custom_set_language_is_stored(bot: Harness, rasa: FakeRasa) -> None:
    rasa.reply = lambda body: [{"text": "done", "custom": {"set_language": "my"}}]
    await bot.send("burmese please")
    assert bot.services.store.language(USER_ID) == "my"


async def test_text_from_rasa_is_html_escaped(bot: Harness, rasa: FakeRasa) -> None:
    rasa.reply = lambda body: [{"text": "Name: <b>Tom & Jerry</b>"}]
    await bot.send("hi")
    assert bot.request.texts() == ["Name: &lt;b&gt;Tom &amp; Jerry&lt;/b&gt;"]


async def test_rasa_down_apologises_with_hotlines(
        make_bot: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    settings = _settings(monkeypatch, str(tmp_path / "down"), free_port())
    app, request = await _harness(settings)
    try:
        harness = Harness(app, request)
        await harness.send("សួស្តី", lang="km")
        texts = request.texts()
        assert texts[-1] == harness.text("fe_unavailable", "km")
        assert "1288" in texts[-1]  # Cambodia's anti-trafficking hotline
    finally:
        await app.shutdown()
        await close_services(app)


async def test_rasa_too_slow_apologises(make_bot: Callable[..., Any], rasa: FakeRasa) -> None:
    bot = await make_bot(rasa_timeout=0.1)
    rasa.delay = 0.5
    await bot.send("hello")
    assert bot.request.texts() == [bot.text("fe_unavailable", "en")]
    await asyncio.sleep(rasa.delay)  # let the fake finish its answer before it stops


async def test_flood_warns_once_and_answers_everything(
        make_bot: Callable[..., Any], rasa: FakeRasa) -> None:
    bot = await make_bot(flood_messages=3, flood_seconds=0.2)
    for number in range(8):
        await bot.send(f"message {number}")

    texts = bot.request.texts()
    assert texts.count(bot.text("fe_busy", "en")) == 1
    assert rasa.messages() == [f"message {n}" for n in range(8)]
    assert [t for t in texts if t.startswith("echo")] == [f"echo message {n}" for n in range(8)]


async def test_concurrent_flood_keeps_order(make_bot: Callable[..., Any], rasa: FakeRasa) -> None:
    bot = await make_bot(flood_messages=2, flood_seconds=0.2)
    await asyncio.gather(*(bot.send(f"m{n}") for n in range(6)))
    assert rasa.messages() == [f"m{n}" for n in range(6)]
    assert bot.request.texts().count(bot.text("fe_busy", "en")) == 1


async def test_long_reply_is_split_at_line_breaks(bot: Harness, rasa: FakeRasa) -> None:
    line = "a" * 99
    long_text = "\n".join([line] * 50)  # 4999 characters
    rasa.reply = lambda body: [{"text": long_text, "buttons": [{"title": "Menu",
                                                                 "payload": "/help"}]}]
    await bot.send("long please")

    sent = bot.request.called("sendMessage")
    assert len(sent) == 2
    assert all(len(p["text"]) <= 4096 for p in sent)
    assert all(set(part) == {"a"} for p in sent for part in p["text"].split("\n"))
    assert "\n".join(p["text"] for p in sent) == long_text
    assert "reply_markup" not in sent[0]
    assert sent[1]["reply_markup"]["inline_keyboard"]


async def test_edited_group_and_channel_messages_are_ignored(
        bot: Harness, rasa: FakeRasa) -> None:
    await bot.process({"edited_message": bot.message("fixed typo", edit_date=1)})
    await bot.send("hello group", chat_type="group", chat_id=-100)
    await bot.send("/help", chat_type="supergroup", chat_id=-1001)
    await bot.process({"channel_post": {"message_id": 5, "date": 0, "text": "news",
                                        "chat": {"id": -1002, "type": "channel",
                                                 "title": "c"}}})
    assert rasa.received == []
    assert bot.request.called("sendMessage") == []


async def test_delete_my_data(bot: Harness) -> None:
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered

    from safemig.tracker_store import SQLiteTrackerStore

    rasa_db = bot.services.settings.tracker_db_path
    conversations = SQLiteTrackerStore(Domain.empty(), db=str(rasa_db))
    for sender in (str(USER_ID), "someone-else"):
        tracker = await conversations.get_or_create_tracker(sender)
        tracker.update(UserUttered("my name is Noy, I am in Vientiane"))
        await conversations.save(tracker)
    bot.services.store.set_language(USER_ID, "lo")
    await bot.send("/delete_my_data")
    assert bot.services.store.language(USER_ID) is None
    assert bot.request.texts() == [bot.text("fe_deleted", "lo")]
    assert await conversations.retrieve(str(USER_ID)) is None  # what they wrote is gone
    assert await conversations.retrieve("someone-else") is not None


async def test_privacy_states_retention(bot: Harness) -> None:
    await bot.send("/privacy", lang="km")
    days = bot.services.settings.retention_days
    assert bot.request.texts() == [bot.text("fe_privacy", "km", days=days)]
    assert str(days) in bot.request.texts()[0]


@pytest.mark.parametrize(("command", "intent"), [
    ("/help", "/help"), ("/hotline", "/ask_hotline"), ("/check", "/start_red_flag_check"),
    ("/report", "/report_abuse"), ("/unknown_thing", "/help"),
])
async def test_commands_send_intents(bot: Harness, rasa: FakeRasa, command: str,
                                     intent: str) -> None:
    await bot.send(command, lang="lo")
    assert rasa.messages() == [intent]
    assert rasa.received[0]["metadata"]["language"] == "lo"


async def test_voice_and_other_media(bot: Harness, rasa: FakeRasa) -> None:
    await bot.send(voice={"file_id": "v", "file_unique_id": "v", "duration": 3}, lang="km")
    await bot.send(sticker={"file_id": "s", "file_unique_id": "s", "width": 1, "height": 1,
                            "is_animated": False, "is_video": False, "type": "regular"},
                   lang="km")
    await bot.send(photo=[{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}],
                   lang="km")
    await bot.send(location={"latitude": 13.7, "longitude": 100.5}, lang="km")
    assert bot.request.texts() == [bot.text("fe_voice", "km")] + [
        bot.text("fe_unsupported", "km")] * 3
    assert "1288" in bot.request.texts()[0]
    assert rasa.received == []


async def test_language_persists_across_restarts(make_bot: Callable[..., Any],
                                                 rasa: FakeRasa) -> None:
    first = await make_bot()
    await first.press("lang:my")
    second = await make_bot()
    await second.send("hello")
    assert rasa.received[-1]["metadata"]["language"] == "my"


async def test_set_my_commands_per_language(bot: Harness) -> None:
    await set_commands(bot.app)
    calls = bot.request.called("setMyCommands")
    codes = [c.get("language_code") for c in calls]
    assert codes == [None, *supported_languages()]
    km = next(c for c in calls if c.get("language_code") == "km")
    descriptions = {c["command"]: c["description"] for c in km["commands"]}
    assert descriptions["delete_my_data"] == bot.renderer.render("fe_cmd_delete", "km")["text"]
    assert set(descriptions) == {"help", "hotline", "check", "report", "language", "privacy",
                                 "delete_my_data"}


async def test_set_my_commands_failure_does_not_stop_start_up(bot: Harness) -> None:
    bot.request.fail("setMyCommands", 404,
                     {"ok": False, "error_code": 404, "description": "Not Found"}, times=10)
    assert bot.app.post_init is not None
    await bot.app.post_init(bot.app)  # logs, does not raise
    await bot.app.start()
    await bot.app.stop()
    await bot.send("still alive")
    assert bot.request.texts() == ["echo still alive"]


async def test_updates_are_taken_only_once_rasa_answers(bot: Harness, rasa: FakeRasa) -> None:
    """The front end starts beside Rasa; start-up (post_init, before polling or the webhook)
    waits until Rasa answers, so messages kept by Telegram are not all told 'try later'."""
    assert bot.app.post_init is not None
    rasa.up = False
    starting = asyncio.create_task(bot.app.post_init(bot.app))
    await asyncio.sleep(0.5)
    assert not starting.done()
    rasa.up = True
    await asyncio.wait_for(starting, timeout=5)


async def test_start_up_goes_on_when_rasa_never_answers(
        bot: Harness, rasa: FakeRasa, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    services = bot.app.bot_data[SERVICES_KEY]
    monkeypatch.setattr(services, "settings",
                        dataclasses.replace(services.settings, rasa_start_seconds=0.3))
    rasa.up = False
    assert bot.app.post_init is not None
    await asyncio.wait_for(bot.app.post_init(bot.app), timeout=5)
    assert "Rasa did not answer" in caplog.text


async def test_telegram_flood_limit_is_retried(bot: Harness) -> None:
    bot.request.fail("sendMessage", 429, {"ok": False, "error_code": 429,
                                          "description": "Too Many Requests: retry after 1",
                                          "parameters": {"retry_after": 1}})
    await bot.send("hello")
    assert bot.request.texts() == ["echo hello", "echo hello"]  # refused, then delivered


def test_run_polls_by_default_and_serves_a_webhook_when_asked(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from bot.app import run

    seen: dict[str, Any] = {}
    app = build_application(settings, request=RecordingRequest(),
                            updates_request=RecordingRequest())
    monkeypatch.setattr(app, "run_polling", lambda **kw: seen.update(polling=kw))
    monkeypatch.setattr(app, "run_webhook", lambda **kw: seen.update(webhook=kw))
    run(app, settings)
    assert "polling" in seen

    hook = dataclasses.replace(settings, telegram_mode="webhook", webhook_secret="s3cret",
                               webhook_url="https://bot.example.org/tg/hook", webhook_port=9000)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())
    run(app, hook)
    assert seen["webhook"]["url_path"] == "tg/hook"
    assert seen["webhook"]["webhook_url"] == "https://bot.example.org/tg/hook"
    assert seen["webhook"]["secret_token"] == "s3cret"
    assert seen["webhook"]["port"] == 9000
    app.bot_data[SERVICES_KEY].store.close()
