"""Post new reports to their team's staff chat, from the queue, in the background.

The queue is the outbox: a report stays pending (notified_at NULL) until its team's chat has
accepted the post, so nothing is lost while Telegram is down or no chat is configured; the
next round tries again. A background asyncio task (PTB's JobQueue is not installed) runs a
round every `INTERVAL` seconds from start-up (post_init) until shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram.error import NetworkError, TelegramError
from telegram.ext import Application

from bot.staff import post, queue_of, report_keyboard, services_of, summary, team_chat

log = logging.getLogger(__name__)

OUTBOX_KEY = "staff_outbox"
INTERVAL = 2.0
STOP_TIMEOUT = 10.0


async def flush(app: Application) -> int:
    """One round: post every pending report to its team's chat; returns how many were posted.

    A report whose team has no chat, or whose post Telegram refused, stays pending.
    """
    services = services_of(app)
    queue = queue_of(app)
    posted = 0
    for report in queue.pending_notifications():
        chat_id = team_chat(services, queue, report.team)
        if chat_id is None:
            log.warning("report %s: team %s has no staff chat; it stays in the queue",
                        report.reference, report.team)
            continue
        try:
            await post(app.bot, chat_id, summary(services, report),
                       report_keyboard(services, report.id))
        except NetworkError as exc:  # Telegram unreachable: try everything again later
            log.warning("outbox: Telegram unreachable (%s); %s stays pending",
                        type(exc).__name__, report.reference)
            break
        except TelegramError as exc:  # this chat refused (bot removed, bad id): others go on
            log.warning("outbox: staff chat refused %s (%s); it stays pending",
                        report.reference, type(exc).__name__)
            continue
        queue.mark_notified(report.id)
        posted += 1
        log.info("report %s posted to team %s", report.reference, report.team)
    return posted


async def _run(app: Application, stop: asyncio.Event, interval: float) -> None:
    while not stop.is_set():
        try:
            await flush(app)
        except Exception as exc:  # a locked database or a bug must not end the outbox
            log.error("outbox round failed: %s", type(exc).__name__, exc_info=True)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


def start(app: Application, interval: float | None = None) -> None:
    """Start the outbox task (call from post_init, inside the running loop)."""
    if OUTBOX_KEY in app.bot_data:
        return
    stop_event = asyncio.Event()
    task = asyncio.get_running_loop().create_task(
        _run(app, stop_event, INTERVAL if interval is None else interval), name="staff-outbox")
    app.bot_data[OUTBOX_KEY] = (stop_event, task)
    log.info("staff outbox started")


async def stop(app: Application) -> None:
    """Stop the outbox task (call from post_shutdown); waits for a round in progress."""
    entry = app.bot_data.pop(OUTBOX_KEY, None)
    if entry is None:
        return
    stop_event, task = entry
    stop_event.set()
    try:
        await asyncio.wait_for(task, timeout=STOP_TIMEOUT)
    except asyncio.TimeoutError:
        log.warning("staff outbox did not stop in time; cancelled")
    log.info("staff outbox stopped")
