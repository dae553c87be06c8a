"""The hotline staff side: report buttons, staff commands, and human handoffs.

Reports are posted to their team's staff chat by `bot.outbox`. Staff (and only the user ids
in SAFEMIG_STAFF_USER_IDS) press Claim / Open / Resolve / Reassign under a report, and use
`/reply REF text`, `/end REF` and `/note REF text` in a staff chat. Claiming a report whose
reporter agreed to be contacted starts a handoff: the reporter's text goes to the staff chat
instead of Rasa until `/end`. Reporters only ever see the team's name, never a staff account.

Anyone else pressing a staff button gets an empty answer; the attempt is audited in the queue.
Logs carry update ids and references, never message texts, answers or reporter ids.
"""

from __future__ import annotations

import contextlib
import html
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.services import SERVICES_KEY, BotContext, Services
from bot.store import Handoff
from bot.textsplit import split_text
from safemig.languages import default_language, supported_languages
from safemig.queue import NotStaff, Queue, QueueError, Report, load_routing
from safemig.queue.models import ANSWER_LABELS as LABELS

log = logging.getLogger(__name__)

QUEUE_KEY = "queue"
PREFIX = "staff:"
STAFF_LANG = "en"  # staff texts are written in English (content/frontend.yml, staff_*)
MAX_CALLBACK_BYTES = 64
COMMANDS = ("reply", "end", "note")
UNKNOWN = "?"


# Attachment kind -> the Bot method that sends a Telegram file id of that kind.
SENDERS: dict[str, Callable[[Bot], Callable[..., Awaitable[Message]]]] = {
    "photo": lambda b: b.send_photo, "document": lambda b: b.send_document,
    "video": lambda b: b.send_video, "voice": lambda b: b.send_voice,
    "audio": lambda b: b.send_audio, "video_note": lambda b: b.send_video_note,
}


# --- shared pieces --------------------------------------------------------------------------


def services_of(app: Application) -> Services:
    return app.bot_data[SERVICES_KEY]


def queue_of(app: Application) -> Queue:
    """The queue on the bot's database, opened on first use (one connection per bot)."""
    queue = app.bot_data.get(QUEUE_KEY)
    if queue is None:
        queue = Queue.open(services_of(app).settings)
        app.bot_data[QUEUE_KEY] = queue
    return queue


def close_queue(app: Application) -> None:
    queue = app.bot_data.pop(QUEUE_KEY, None)
    if queue is not None:
        queue.close()


def staff_text(services: Services, name: str, **variables: Any) -> str:
    return services.text(name, STAFF_LANG, **variables)


def team_chat(services: Services, queue: Queue, team: str) -> int | None:
    """The team's staff chat, else SAFEMIG_STAFF_CHAT_ID; None when neither is set."""
    found = queue.routing.teams.get(team)
    chat_id = found.chat_id if found is not None else None
    return chat_id if chat_id is not None else services.settings.staff_chat_id


def staff_chat_ids(services: Services) -> set[int]:
    """Every chat where staff work: each team's chat and SAFEMIG_STAFF_CHAT_ID."""
    settings = services.settings
    routing = load_routing(settings.content_dir / "routing.yml",
                           fallback_chat_id=settings.staff_chat_id)
    ids = {team.chat_id for team in routing.teams.values() if team.chat_id is not None}
    if settings.staff_chat_id is not None:
        ids.add(settings.staff_chat_id)
    return ids


def reporter_chat(report: Report) -> int | None:
    """The reporter's private chat (the Telegram user id the bot sent to Rasa), if any."""
    try:
        return int(report.reporter_id) if report.reporter_id else None
    except ValueError:  # filed from another channel (the console)
        return None


def reporter_language(services: Services, report: Report, chat_id: int) -> str:
    lang = services.store.language(chat_id) or report.language
    return lang if lang in supported_languages() else default_language()


async def post(bot: Bot, chat_id: int, text: str,
               markup: InlineKeyboardMarkup | None = None) -> None:
    """Send plain text (HTML-escaped, split to size); the keyboard goes on the last piece."""
    pieces = split_text(text)
    for number, piece in enumerate(pieces, start=1):
        await bot.send_message(chat_id, html.escape(piece, quote=False),
                               reply_markup=markup if number == len(pieces) else None)


def _when(timestamp: str | None) -> str:
    return timestamp.replace("T", " ")[:16] + " UTC" if timestamp else UNKNOWN


def _facts(services: Services, report: Report) -> dict[str, Any]:
    """What may appear in a staff chat: no answers, no reporter id."""
    return {"reference": report.reference, "urgency": report.urgency,
            "kind": staff_text(services, f"label_{report.kind}"),
            "origin": report.origin or UNKNOWN, "destination": report.destination or UNKNOWN,
            "report_language": report.language or UNKNOWN, "created": _when(report.created_at)}


def summary(services: Services, report: Report) -> str:
    """The short notification for the staff chat: no personal data."""
    return staff_text(services, "staff_new_report", **_facts(services, report))


def data(action: str, report_id: int, arg: str = "") -> str:
    return f"{PREFIX}{action}:{report_id}" + (f":{arg}" if arg else "")


def report_keyboard(services: Services, report_id: int) -> InlineKeyboardMarkup:
    def button(action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(staff_text(services, f"staff_button_{action}"),
                                    callback_data=data(action, report_id))

    return InlineKeyboardMarkup([[button("claim"), button("open")],
                                 [button("resolve"), button("reassign")]])


def _choices(action: str, report_id: int, values: list[str]) -> InlineKeyboardMarkup:
    """One button per code (outcome codes and team names are configuration, not text)."""
    rows = []
    for value in values:
        callback = data(action, report_id, value)
        if len(callback.encode("utf-8")) <= MAX_CALLBACK_BYTES:
            rows.append([InlineKeyboardButton(value, callback_data=callback)])
        else:
            log.warning("%s %r is too long for a button", action, value)
    return InlineKeyboardMarkup(rows)


def refuse(queue: Queue, user_id: int | None, action: str, report_id: int | None) -> None:
    """Audit a refused staff action (allowed=0) the way the queue's own actions do."""
    with contextlib.suppress(NotStaff):
        queue._require_staff(user_id, action, report_id)  # audits, then raises NotStaff


def is_staff(queue: Queue, user_id: int | None, action: str, report_id: int | None) -> bool:
    if queue.staff_allowed(user_id):
        return True
    refuse(queue, user_id, action, report_id)
    return False


# --- handoffs -------------------------------------------------------------------------------


async def start_handoff(context: BotContext, report: Report, staff_id: int) -> bool | None:
    """Start talking with the reporter; None when they cannot or may not be written to.

    Returns True when a new handoff started and the reporter was told (False: it was already
    running). A reporter who did not agree to be contacted is never written to.
    """
    services = context.services
    chat_id = reporter_chat(report)
    if chat_id is None or not report.contact_ok:
        return None
    handoff, new = services.store.start_handoff(chat_id, report.id, staff_id, report.team)
    if new:
        queue_of(context.application).record_access(report.id, f"user:{staff_id}",
                                                    "handoff_start", f"team={report.team}")
        text = services.text("fe_handoff_started", reporter_language(services, report, chat_id),
                             team=handoff.team)
        try:
            await post(context.bot, chat_id, text)
        except TelegramError as exc:
            log.warning("report %s: reporter not told of the handoff (%s)", report.reference,
                        type(exc).__name__)
    return new


async def end_handoff(context: BotContext, report: Report, staff_id: int) -> Handoff | None:
    """End the report's handoff and tell the reporter; the ended handoff or None."""
    services = context.services
    ended = services.store.end_handoff(report.id)
    if ended is None:
        return None
    queue_of(context.application).record_access(report.id, f"user:{staff_id}", "handoff_end")
    text = services.text("fe_handoff_ended",
                         reporter_language(services, report, ended.reporter_id), team=ended.team)
    try:
        await post(context.bot, ended.reporter_id, text)
    except TelegramError as exc:
        log.warning("report %s: reporter not told the handoff ended (%s)", report.reference,
                    type(exc).__name__)
    return ended


async def forward_to_staff(update: Update, context: BotContext) -> bool:
    """During a handoff: record the reporter's text and post it to the team's chat.

    Returns False when no handoff is active (the text then goes to Rasa as usual).
    """
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or not message.text:
        return False
    services = context.services
    handoff = services.store.active_handoff(user.id)
    if handoff is None:
        return False
    queue = queue_of(context.application)
    report = queue.get(handoff.report_id)
    if report is None or report.status == "resolved" or report.purged_at:
        services.store.end_handoff(handoff.report_id)
        return False
    queue.add_message(report.id, "from_reporter", message.text)
    chat_id = team_chat(services, queue, report.team)
    if chat_id is None:
        log.warning("report %s: no staff chat for team %s", report.reference, report.team)
        return True
    try:
        await post(context.bot, chat_id, staff_text(
            services, "staff_from_reporter", reference=report.reference, text=message.text))
    except TelegramError as exc:  # recorded in the queue; staff see it with Open
        log.warning("update %s: reporter message not posted to staff (%s)", update.update_id,
                    type(exc).__name__)
    log.info("update %s: forwarded to staff for report %s", update.update_id, report.reference)
    return True


# --- attachments ----------------------------------------------------------------------------


def attachment_of(message: Message) -> tuple[str, str] | None:
    """(kind, Telegram file id) of a photo, file, voice or video; a location as "lat,lon"."""
    if message.photo:
        return "photo", message.photo[-1].file_id
    if message.location is not None:
        return "location", f"{message.location.latitude},{message.location.longitude}"
    for kind in ("document", "video", "voice", "audio", "video_note"):
        item = getattr(message, kind, None)
        if item is not None:
            return kind, str(item.file_id)
    return None


async def attach_to_open_report(update: Update, context: BotContext) -> bool:
    """Keep the attachment (its Telegram file id) with the user's open report."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return False
    found = attachment_of(message)
    if found is None:
        return False
    queue = queue_of(context.application)
    report = queue.open_report_for(user.id)
    if report is None:
        return False
    kind, value = found
    try:
        queue.add_attachment(report.id, kind, value)
    except QueueError as exc:
        log.info("update %s: attachment not kept (%s)", update.update_id, type(exc).__name__)
        return False
    log.info("update %s: %s attached to report %s", update.update_id, kind, report.reference)
    services = context.services
    chat_id = team_chat(services, queue, report.team)
    if report.notified_at and chat_id is not None:  # else the outbox posts the report anyway
        try:
            await post(context.bot, chat_id, staff_text(
                services, "staff_attachment_added", reference=report.reference, kind=kind))
        except TelegramError as exc:
            log.warning("report %s: attachment notice not posted (%s)", report.reference,
                        type(exc).__name__)
    return True


# --- buttons --------------------------------------------------------------------------------


async def on_button(update: Update, context: BotContext) -> None:
    """A press on a staff button: staff:<action>:<report id>[:<outcome or team>]."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    parts = (query.data or "").split(":", 3)
    if len(parts) < 3 or not parts[2].isdigit():
        await query.answer()
        return
    action, report_id = parts[1], int(parts[2])
    arg = parts[3] if len(parts) > 3 else ""
    queue = queue_of(context.application)
    if not is_staff(queue, user.id, f"telegram:{action}", report_id):
        await query.answer()  # nothing to see for anyone else
        return
    action_handler = BUTTONS.get(action)
    report = queue.get(report_id)
    if action_handler is None or report is None:
        await query.answer()
        return
    chat = update.effective_chat
    chat_id = chat.id if chat is not None else user.id
    try:
        await action_handler(context, report, user.id, chat_id, arg, update)
    except QueueError as exc:
        await query.answer()
        await post(context.bot, chat_id, staff_text(
            context.services, "staff_refused", reference=report.reference, reason=str(exc)))
        return
    await query.answer()


async def _claim(context: BotContext, report: Report, staff_id: int, chat_id: int, arg: str,
                 update: Update) -> None:
    queue = queue_of(context.application)
    report = queue.claim(report.id, staff_id)
    started = await start_handoff(context, report, staff_id)
    user = update.effective_user
    name = user.full_name if user is not None else str(staff_id)
    text = "staff_claimed_no_contact" if started is None else "staff_claimed"
    await post(context.bot, chat_id, staff_text(context.services, text,
                                                reference=report.reference, staff=name))


async def _open(context: BotContext, report: Report, staff_id: int, chat_id: int, arg: str,
                update: Update) -> None:
    """The full report, for the staff member who asked (audited as a read)."""
    services = context.services
    queue = queue_of(context.application)
    queue.record_access(report.id, f"user:{staff_id}", "open", "telegram staff chat")
    answers = []
    for slot, value in (report.details or {}).items():
        label = staff_text(services, LABELS[slot]) if slot in LABELS else slot
        answers.append(f"{label}: {value}")
    attachments = queue.attachments(report.id)
    kinds = ", ".join(str(a["kind"]) for a in attachments) or "0"
    await post(context.bot, chat_id, staff_text(
        services, "staff_report_details", **_facts(services, report), status=report.status,
        answers="\n".join(answers), attachments=kinds))
    for attachment in attachments:
        try:
            await _send_attachment(context.bot, chat_id, attachment, report.reference)
        except TelegramError as exc:
            log.warning("report %s: attachment %s not sent (%s)", report.reference,
                        attachment["id"], type(exc).__name__)


async def _send_attachment(bot: Bot, chat_id: int, attachment: dict[str, Any],
                           caption: str) -> None:
    kind, value = str(attachment["kind"]), str(attachment["telegram_file_id"])
    if kind == "location":
        latitude, longitude = (float(v) for v in value.split(",", 1))
        await bot.send_location(chat_id, latitude=latitude, longitude=longitude)
    elif kind == "video_note":
        await bot.send_video_note(chat_id, value)
    else:
        await SENDERS.get(kind, SENDERS["document"])(bot)(chat_id, value, caption=caption)


async def _resolve(context: BotContext, report: Report, staff_id: int, chat_id: int, arg: str,
                   update: Update) -> None:
    outcomes = list(queue_of(context.application).routing.outcomes)
    await post(context.bot, chat_id, staff_text(context.services, "staff_choose_outcome",
                                                reference=report.reference),
               _choices("outcome", report.id, outcomes))


async def _outcome(context: BotContext, report: Report, staff_id: int, chat_id: int,
                   arg: str, update: Update) -> None:
    report = queue_of(context.application).resolve(report.id, staff_id, arg)
    await _drop_keyboard(update)
    await end_handoff(context, report, staff_id)
    await post(context.bot, chat_id, staff_text(context.services, "staff_resolved",
                                                reference=report.reference, outcome=arg))


async def _reassign(context: BotContext, report: Report, staff_id: int, chat_id: int,
                    arg: str, update: Update) -> None:
    teams = [t for t in queue_of(context.application).routing.teams if t != report.team]
    await post(context.bot, chat_id, staff_text(context.services, "staff_choose_team",
                                                reference=report.reference),
               _choices("team", report.id, teams))


async def _team(context: BotContext, report: Report, staff_id: int, chat_id: int, arg: str,
                update: Update) -> None:
    report = queue_of(context.application).reassign(report.id, staff_id, arg)
    await _drop_keyboard(update)
    await end_handoff(context, report, staff_id)  # the new team claims it afresh
    await post(context.bot, chat_id, staff_text(context.services, "staff_reassigned",
                                                reference=report.reference, team=arg))


async def _drop_keyboard(update: Update) -> None:
    query = update.callback_query
    if query is None:
        return
    try:
        await query.edit_message_reply_markup(None)
    except TelegramError as exc:
        log.info("update %s: keyboard not removed (%s)", update.update_id, type(exc).__name__)


ButtonAction = Callable[[BotContext, Report, int, int, str, Update], Awaitable[None]]
BUTTONS: dict[str, ButtonAction] = {"claim": _claim, "open": _open, "resolve": _resolve,
                                    "outcome": _outcome, "reassign": _reassign, "team": _team}


# --- commands in the staff chat -------------------------------------------------------------


async def on_command(update: Update, context: BotContext) -> None:
    """/reply REF text, /end REF, /note REF text (staff only; others get no answer)."""
    user, chat, message = update.effective_user, update.effective_chat, update.effective_message
    if user is None or chat is None or message is None or not message.text:
        return
    parts = message.text.split(None, 2)
    command = parts[0].lstrip("/").split("@")[0].lower()
    reference = parts[1].strip().upper() if len(parts) > 1 else ""
    text = parts[2].strip() if len(parts) > 2 else ""
    queue = queue_of(context.application)
    report = queue.by_reference(reference) if reference else None
    if not is_staff(queue, user.id, f"telegram:{command}", report.id if report else None):
        return
    services = context.services
    if command not in COMMANDS or not reference or (command != "end" and not text):
        await post(context.bot, chat.id, staff_text(services, "staff_usage"))
        return
    if report is None or report.purged_at:
        await post(context.bot, chat.id, staff_text(services, "staff_unknown_reference",
                                                    reference=reference))
        return
    try:
        reply = await COMMAND_ACTIONS[command](context, report, user.id, text)
    except QueueError as exc:
        reply = staff_text(services, "staff_refused", reference=report.reference,
                           reason=str(exc))
    await post(context.bot, chat.id, reply)


async def _reply(context: BotContext, report: Report, staff_id: int, text: str) -> str:
    """Send staff's text to the reporter under the team's name, and keep it with the report."""
    services = context.services
    chat_id = reporter_chat(report)
    if not report.contact_ok or chat_id is None:
        return staff_text(services, "staff_no_contact", reference=report.reference)
    queue = queue_of(context.application)
    queue.add_message(report.id, "to_reporter", text, staff_id=staff_id)
    await start_handoff(context, report, staff_id)  # their answer should come back here
    lang = reporter_language(services, report, chat_id)
    prefix = services.text("fe_staff_prefix", lang, team=report.team)
    try:
        await post(context.bot, chat_id, f"{prefix}\n{text}")
    except TelegramError as exc:
        log.warning("report %s: staff reply not delivered (%s)", report.reference,
                    type(exc).__name__)
        return staff_text(services, "staff_send_failed", reference=report.reference)
    return staff_text(services, "staff_reply_sent", reference=report.reference)


async def _end(context: BotContext, report: Report, staff_id: int, text: str) -> str:
    ended = await end_handoff(context, report, staff_id)
    name = "staff_handoff_ended" if ended is not None else "staff_no_handoff"
    return staff_text(context.services, name, reference=report.reference)


async def _note(context: BotContext, report: Report, staff_id: int, text: str) -> str:
    queue_of(context.application).note(report.id, staff_id, text)
    return staff_text(context.services, "staff_note_saved", reference=report.reference)


COMMAND_ACTIONS: dict[str, Callable[[BotContext, Report, int, str], Awaitable[str]]] = {
    "reply": _reply, "end": _end, "note": _note}


def register(app: Application) -> None:
    """Staff buttons (any chat: the press is checked) and staff commands (staff chats only).

    Call before the general button handler, which would otherwise take staff presses.
    """
    app.add_handler(CallbackQueryHandler(on_button, pattern=f"^{PREFIX}"))
    chats = staff_chat_ids(services_of(app))
    if chats:
        app.add_handler(CommandHandler(list(COMMANDS), on_command,
                                       filters=filters.Chat(chat_id=chats)
                                       & filters.UpdateType.MESSAGE))
