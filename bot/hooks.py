"""Extension points for features built elsewhere (reports, staff chat). No-ops for now."""

from __future__ import annotations

from telegram import Update

from bot.services import BotContext


async def attach_to_open_report(update: Update, context: BotContext) -> bool:
    """Add the message's photo or file to the user's open report, if there is one.

    Return True when it was added (the caller then answers with fe_attachment_saved).
    The reports module will replace this; until then attachments are not kept.
    """
    return False


async def handle_staff_chat(update: Update, context: BotContext) -> None:
    """A message in the staff chat (settings.staff_chat_id). The staff module will fill this."""


async def user_has_open_report(user_id: int, context: BotContext) -> bool:
    """True when an open report stops the user's data being deleted (fe_delete_blocked)."""
    return False
