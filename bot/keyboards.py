"""Inline keyboards: the language picker, and Rasa's buttons as callback data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.store import Store
from safemig.hotlines import language_name

LANG_PREFIX = "lang:"
RAW_PREFIX = "p:"
KEY_PREFIX = "k:"
MAX_CALLBACK_BYTES = 64


Rows = list[list[InlineKeyboardButton]]


def _rows(buttons: Sequence[InlineKeyboardButton], per_row: int) -> Rows:
    return [list(buttons[i:i + per_row]) for i in range(0, len(buttons), per_row)]


def language_picker(languages: Iterable[str]) -> InlineKeyboardMarkup:
    """One button per language, labelled with its name in its own script."""
    buttons = [InlineKeyboardButton(language_name(code), callback_data=LANG_PREFIX + code)
               for code in languages]
    return InlineKeyboardMarkup(_rows(buttons, 2))


def encode_payload(payload: str, store: Store) -> str:
    """Callback data for a payload: inline if it fits in 64 bytes, else a stored short key."""
    data = RAW_PREFIX + payload
    if len(data.encode("utf-8")) <= MAX_CALLBACK_BYTES:
        return data
    return KEY_PREFIX + store.save_payload(payload)


def decode_payload(data: str, store: Store) -> str | None:
    """The payload behind callback data from `encode_payload` (None if unknown)."""
    if data.startswith(RAW_PREFIX):
        return data[len(RAW_PREFIX):]
    if data.startswith(KEY_PREFIX):
        return store.payload(data[len(KEY_PREFIX):])
    return None


def reply_keyboard(buttons: Sequence[dict[str, Any]], store: Store) -> InlineKeyboardMarkup | None:
    """Rasa's buttons ({title, payload}) as an inline keyboard, one button per row."""
    keys = []
    for button in buttons:
        title, payload = button.get("title"), button.get("payload")
        if title or payload:
            data = encode_payload(str(payload or title), store)
            keys.append(InlineKeyboardButton(str(title or payload), callback_data=data))
    return InlineKeyboardMarkup(_rows(keys, 1)) if keys else None
