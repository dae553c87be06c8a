"""Relay one user message to Rasa and deliver the replies to Telegram.

Every text sent is HTML-escaped: the content holds no markup, and Rasa's replies can echo
what users typed (report summaries), so nothing a user wrote can become markup.
Logs carry update ids, counts and timings only, never message text or names.
"""

from __future__ import annotations

import asyncio
import html
import logging
import time
from collections.abc import Sequence
from typing import Any

from telegram import InlineKeyboardMarkup, Update

from bot.keyboards import reply_keyboard
from bot.services import BotContext, Services
from bot.textsplit import split_text
from safemig.languages import default_language, supported_languages
from safemig.rasa_client import RasaUnavailable

log = logging.getLogger(__name__)


def telegram_language(code: str | None) -> str:
    """The supported language matching Telegram's language_code ('km', 'en-GB'), else default."""
    base = (code or "").split("-")[0].lower()
    return base if base in supported_languages() else default_language()


def user_language(services: Services, update: Update) -> str:
    """The user's chosen language, else their Telegram app's language if supported."""
    user = update.effective_user
    if user is None:
        return default_language()
    stored = services.store.language(user.id)
    if stored in supported_languages():
        return str(stored)
    return telegram_language(user.language_code)


async def send_text(context: BotContext, chat_id: int, text: str,
                    markup: InlineKeyboardMarkup | None = None) -> None:
    """Send plain text, split to Telegram's size; the keyboard goes on the last piece."""
    pieces = split_text(text)
    for number, piece in enumerate(pieces, start=1):
        await context.bot.send_message(
            chat_id, html.escape(piece, quote=False),
            reply_markup=markup if number == len(pieces) else None,
        )


async def say(context: BotContext, chat_id: int, name: str, lang: str,
              markup: InlineKeyboardMarkup | None = None, **variables: Any) -> None:
    """Send the front-end text `name` (content/frontend.yml) in `lang`."""
    await send_text(context, chat_id, context.services.text(name, lang, **variables), markup)


async def converse(update: Update, context: BotContext, text: str, lang: str) -> None:
    """Send `text` to Rasa as the user's message and deliver the replies."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    services = context.services
    metadata: dict[str, Any] = {"language": lang, "chat_id": chat.id}
    if update.effective_message is not None:
        metadata["message_id"] = update.effective_message.message_id
    started = time.monotonic()
    try:
        replies = await asyncio.wait_for(
            services.rasa.send(str(user.id), text, metadata),
            timeout=services.settings.rasa_timeout,
        )
    except (RasaUnavailable, asyncio.TimeoutError) as exc:
        log.warning("update %s: Rasa unavailable after %.2fs (%s)", update.update_id,
                    time.monotonic() - started, type(exc).__name__)
        await say(context, chat.id, "fe_unavailable", lang)
        return
    # per message, so DEBUG: at INFO these lines were 4% of the front end's CPU under load
    log.debug("update %s: %d replies from Rasa in %.2fs", update.update_id, len(replies),
              time.monotonic() - started)
    await deliver(context, chat.id, user.id, replies)


async def deliver(context: BotContext, chat_id: int, user_id: int,
                  replies: Sequence[dict[str, Any]]) -> None:
    """Each reply as a message with its buttons; honour custom {"set_language": code}."""
    store = context.services.store
    for reply in replies:
        custom = reply.get("custom")
        if isinstance(custom, dict) and custom.get("set_language") in supported_languages():
            store.set_language(user_id, str(custom["set_language"]))
        text = reply.get("text")
        if text:
            markup = reply_keyboard(reply.get("buttons") or [], store)
            await send_text(context, chat_id, str(text), markup)
