"""Where the user-facing handlers meet the escalation queue and the staff side (bot.staff)."""

from __future__ import annotations

from telegram import Update

from bot import staff
from bot.services import BotContext


async def attach_to_open_report(update: Update, context: BotContext) -> bool:
    """Add the message's photo, file, voice, video or location to the user's open report.

    Return True when it was added (the caller then answers with fe_attachment_saved).
    """
    return await staff.attach_to_open_report(update, context)


async def forward_to_staff(update: Update, context: BotContext) -> bool:
    """While staff talk with the user (a handoff), their text goes to staff, not to Rasa.

    Return True when it was taken (the caller then does not ask Rasa).
    """
    return await staff.forward_to_staff(update, context)


async def handle_staff_chat(update: Update, context: BotContext) -> None:
    """Other messages in the staff chat: staff talk among themselves; the bot stays quiet."""


async def user_has_open_report(user_id: int, context: BotContext) -> bool:
    """True when an open report stops the user's data being deleted (fe_delete_blocked)."""
    return staff.queue_of(context.application).open_report_for(user_id) is not None


async def delete_report_data(user_id: int, context: BotContext) -> bool:
    """Delete the user's reports and handoffs; True when an open report blocked it.

    While a report is open staff still need it, so the queue keeps it (and its handoffs).
    """
    _, blocked = staff.queue_of(context.application).delete_user_data(user_id)
    if not blocked:
        context.services.store.delete_handoffs(user_id)
    return blocked
