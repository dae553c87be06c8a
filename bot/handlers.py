"""One handler per job, and `register()` wiring them in order.

Only private chats get answers. Edited messages, groups and channels are ignored, except
the staff chat, which goes to its hook.
"""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import hooks, staff
from bot.conversation import converse, say, user_language
from bot.keyboards import LANG_PREFIX, decode_payload, language_picker
from bot.services import BotContext
from safemig.conversation_log import forget_conversation
from safemig.language import is_decisive, script_language
from safemig.languages import supported_languages

log = logging.getLogger(__name__)

Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]

GREET = "/greet"
# Commands that are shortcuts for a Rasa intent.
INTENT_COMMANDS = {
    "help": "/help",
    "hotline": "/ask_hotline",
    "check": "/start_red_flag_check",
    "report": "/report_abuse",
}

PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


def per_user(handler: Handler) -> Handler:
    """Flood control and ordering: one message per user at a time, slowed past the limit."""

    @functools.wraps(handler)
    async def wrapped(update: Update, context: BotContext) -> None:
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        flood = context.services.flood
        slot = flood.reserve(user.id)
        if slot.notify:
            log.info("update %s: user over the flood limit, slowing down", update.update_id)
            await say(context, chat.id, "fe_busy", user_language(context.services, update))
        async with flood.turn(user.id, slot):
            await handler(update, context)

    return wrapped


async def show_picker(update: Update, context: BotContext, lang: str) -> None:
    """Send the language picker."""
    chat = update.effective_chat
    if chat is not None:
        await say(context, chat.id, "fe_choose_language", lang,
                  markup=language_picker(supported_languages()))


@per_user
async def start(update: Update, context: BotContext) -> None:
    """Greet in the user's language (stored, else Telegram's), then offer the picker."""
    lang = user_language(context.services, update)
    await converse(update, context, GREET, lang)
    await show_picker(update, context, lang)


@per_user
async def choose_language(update: Update, context: BotContext) -> None:
    """/language: show the picker."""
    await show_picker(update, context, user_language(context.services, update))


def relay(intent: str) -> Handler:
    """A command handler that sends `intent` to Rasa."""

    @per_user
    async def handler(update: Update, context: BotContext) -> None:
        await converse(update, context, intent, user_language(context.services, update))

    handler.__doc__ = f"Send {intent} to Rasa."
    return handler


@per_user
async def privacy(update: Update, context: BotContext) -> None:
    """/privacy: what is stored and for how long."""
    chat = update.effective_chat
    if chat is not None:
        lang = user_language(context.services, update)
        await say(context, chat.id, "fe_privacy", lang,
                  days=context.services.settings.retention_days)


@per_user
async def delete_my_data(update: Update, context: BotContext) -> None:
    """/delete_my_data: forget the user's language, conversation and reports (open reports
    stay)."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    lang = user_language(context.services, update)
    blocked = await hooks.delete_report_data(user.id, context)
    context.services.store.delete_user(user.id)
    # Rasa's copy of what they wrote (the bot talks to Rasa as sender str(user.id)).
    forget_conversation(context.services.settings.tracker_db_path, str(user.id))
    log.info("update %s: user data deleted", update.update_id)
    await say(context, chat.id, "fe_delete_blocked" if blocked else "fe_deleted", lang)


@per_user
async def on_text(update: Update, context: BotContext) -> None:
    """Plain text: switch language if the script says so, then ask Rasa."""
    user, chat, message = update.effective_user, update.effective_chat, update.effective_message
    if user is None or chat is None or message is None or not message.text:
        return
    services = context.services
    if await hooks.forward_to_staff(update, context):  # staff are talking with the user
        return
    lang = user_language(services, update)
    written = script_language(message.text)
    if is_decisive(message.text) and written and written != lang:
        lang = written
        services.store.set_language(user.id, lang)
        await say(context, chat.id, "fe_language_switched", lang)
    await converse(update, context, message.text, lang)


@per_user
async def on_button(update: Update, context: BotContext) -> None:
    """A button press: acknowledge, disable the keyboard, then act on it."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    await query.answer()
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE:
        return
    try:
        await query.edit_message_reply_markup(None)
    except TelegramError as exc:  # too old, already edited: the press still counts
        log.info("update %s: keyboard not removed (%s)", update.update_id, type(exc).__name__)
    services = context.services
    data = query.data or ""
    if data.startswith(LANG_PREFIX):
        lang = data[len(LANG_PREFIX):]
        if lang in supported_languages():
            services.store.set_language(user.id, lang)
            await converse(update, context, GREET, lang)
        return
    payload = decode_payload(data, services.store)
    if payload is None:
        log.info("update %s: unknown button data", update.update_id)
        return
    await converse(update, context, payload, user_language(services, update))


@per_user
async def on_voice(update: Update, context: BotContext) -> None:
    """Voice and audio: added to an open report by the hook, else ask for text."""
    chat = update.effective_chat
    if chat is not None:
        lang = user_language(context.services, update)
        saved = await hooks.attach_to_open_report(update, context)
        await say(context, chat.id, "fe_attachment_saved" if saved else "fe_voice", lang)


@per_user
async def on_attachment(update: Update, context: BotContext) -> None:
    """Photos and files: added to an open report by the hook, else not understood."""
    chat = update.effective_chat
    if chat is None:
        return
    lang = user_language(context.services, update)
    saved = await hooks.attach_to_open_report(update, context)
    await say(context, chat.id, "fe_attachment_saved" if saved else "fe_unsupported", lang)


@per_user
async def on_other(update: Update, context: BotContext) -> None:
    """Stickers, GIFs and anything else: not understood (a location joins an open report)."""
    chat, message = update.effective_chat, update.effective_message
    if chat is not None:
        lang = user_language(context.services, update)
        saved = (message is not None and message.location is not None
                 and await hooks.attach_to_open_report(update, context))
        await say(context, chat.id, "fe_attachment_saved" if saved else "fe_unsupported", lang)


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure: update id and traceback frames, never the message or the user."""
    update_id = update.update_id if isinstance(update, Update) else None
    error = context.error
    frames = "".join(traceback.format_tb(error.__traceback__)) if error else ""
    log.error("update %s failed: %s\n%s", update_id, type(error).__name__, frames)


def register(app: Application, staff_chat_id: int | None = None) -> None:
    """Add every handler, most specific first."""
    staff.register(app)  # staff buttons before on_button; staff commands in staff chats
    app.add_handler(CommandHandler("start", start, filters=PRIVATE))
    app.add_handler(CommandHandler("language", choose_language, filters=PRIVATE))
    app.add_handler(CommandHandler("privacy", privacy, filters=PRIVATE))
    app.add_handler(CommandHandler("delete_my_data", delete_my_data, filters=PRIVATE))
    for command, intent in INTENT_COMMANDS.items():
        app.add_handler(CommandHandler(command, relay(intent), filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, relay(INTENT_COMMANDS["help"])))
    app.add_handler(MessageHandler(PRIVATE & filters.TEXT, on_text))
    app.add_handler(MessageHandler(
        PRIVATE & (filters.VOICE | filters.AUDIO | filters.VIDEO_NOTE), on_voice))
    app.add_handler(MessageHandler(
        PRIVATE & (filters.PHOTO | filters.Document.ALL | filters.VIDEO)
        & ~filters.ANIMATION, on_attachment))
    app.add_handler(MessageHandler(PRIVATE & ~filters.StatusUpdate.ALL, on_other))
    if staff_chat_id is not None:
        app.add_handler(MessageHandler(filters.Chat(chat_id=staff_chat_id),
                                       hooks.handle_staff_chat))
    app.add_error_handler(on_error)

