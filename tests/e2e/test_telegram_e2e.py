"""A Khmer-speaking user through a real Bot API emulator (telemelya), the real model and stack.

Each test drives the bot only through the emulator's control API (updates delivered to the
bot's webhook) and reads only what the bot sent to the emulator's Bot API.
"""

from __future__ import annotations

import httpx
import pytest

from safemig.language import script_language

from .e2e_harness import LOCAL, Chat, Rig, buttons, text_of

pytestmark = pytest.mark.e2e

LEGAL_TO_THAILAND = "ខ្ញុំចង់ទៅធ្វើការនៅថៃដោយស្របច្បាប់"  # legal channels to Thailand
HOTLINE = "ខ្ញុំត្រូវការលេខទូរស័ព្ទជំនួយ"  # I need the helpline number


def all_khmer(messages: list[dict]) -> bool:
    return bool(messages) and all(script_language(text_of(m)) == "km" for m in messages)


def describe(messages: list[dict]) -> str:
    return "\n".join(f"- {text_of(m)[:200]!r} buttons={[b.get('text') for b in buttons(m)]}"
                     for m in messages)


def choose_khmer(chat: Chat) -> list[dict]:
    """/start, then the ខ្មែរ button of the language picker; the replies to the press."""
    chat.send("/start")
    greeting = chat.replies(at_least=2)
    picker = next(m for m in greeting if any(
        str(b.get("callback_data", "")).startswith("lang:") for b in buttons(m)))
    khmer = next(b for b in buttons(picker) if b["callback_data"] == "lang:km")
    assert khmer["text"] == "ខ្មែរ"
    chat.press(khmer["callback_data"], message_id=picker["message_id"])
    return chat.replies()


def test_start_pick_khmer_ask_and_press_a_button(chat: Chat) -> None:
    # The press is acknowledged, the picker's keyboard removed, and the greeting is Khmer.
    after_pick = choose_khmer(chat)
    calls = {c["method"] for c in chat.responses()}
    assert {"answerCallbackQuery", "editMessageReplyMarkup"} <= calls
    assert all_khmer(after_pick), describe(after_pick)

    # A question in Khmer gets the real model's Khmer answer, with buttons to go on.
    chat.send(LEGAL_TO_THAILAND)
    answer = chat.replies()
    assert all_khmer(answer), describe(answer)
    assert any("ថៃ" in text_of(m) for m in answer), describe(answer)  # about Thailand
    offered = [(m, b) for m in answer for b in buttons(m)]
    assert offered, f"no buttons on the answer:\n{describe(answer)}"
    assert all(b.get("callback_data") for _, b in offered)

    # Pressing the answer's hotline button gets the Khmer hotline list.
    hotline = [(m, b) for m, b in offered if b["callback_data"] == "p:/ask_hotline"]
    assert hotline, f"no hotline button on the answer:\n{describe(answer)}"
    holder, button = hotline[0]
    chat.press(button["callback_data"], message_id=holder["message_id"])
    followup = chat.replies()
    assert all_khmer(followup), f"after {button}:\n{describe(followup)}"
    assert any("1288" in text_of(m) for m in followup), describe(followup)


def test_hotline_request_in_khmer_gives_1288(chat: Chat) -> None:
    # A new user writes Khmer straight away: the bot switches to Khmer and gives hotlines.
    chat.send(HOTLINE)
    replies = chat.replies()
    assert all_khmer(replies), describe(replies)
    assert any("1288" in text_of(m) for m in replies), describe(replies)


def test_webhook_rejects_calls_without_the_secret(rig: Rig, chat: Chat) -> None:
    """Only calls carrying TELEGRAM_WEBHOOK_SECRET reach the bot."""
    url = f"http://{LOCAL}:{rig.webhook_port}/{rig.webhook_path}"
    update = {"update_id": 1, "message": {
        "message_id": 1, "date": 0, "text": HOTLINE,
        "chat": {"id": chat.chat_id, "type": "private"},
        "from": {"id": chat.chat_id, "is_bot": False, "first_name": "E2E"}}}
    with httpx.Client(trust_env=False, timeout=10) as client:
        assert client.post(url, json=update).status_code == 403
        wrong = {"X-Telegram-Bot-Api-Secret-Token": "not-the-secret"}
        assert client.post(url, json=update, headers=wrong).status_code == 403
    assert chat.responses() == []
