"""A console chat against the running stack: try the bot with no Telegram account.

Buttons are shown numbered; typing the number presses the button. Reads standard input to
the end, so it also works with piped input (used by the tests).
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from typing import Any, TextIO

from safemig.config import Settings
from safemig.rasa_client import RasaClient, RasaUnavailable

PROMPT = "you> "


def show(replies: list[dict[str, Any]], out: TextIO) -> list[dict[str, Any]]:
    """Print the bot's replies; return the buttons of the last reply that had any."""
    buttons: list[dict[str, Any]] = []
    for reply in replies:
        if reply.get("text"):
            for line in str(reply["text"]).splitlines():
                out.write(f"bot> {line}\n")
        if reply.get("buttons"):
            buttons = list(reply["buttons"])
            for number, button in enumerate(buttons, start=1):
                out.write(f"     [{number}] {button.get('title')}\n")
    out.flush()
    return buttons


async def chat(settings: Settings, inp: TextIO = sys.stdin, out: TextIO = sys.stdout) -> None:
    """Read lines, send each to Rasa, print the answers, until end of input or /quit."""
    client = RasaClient(settings.rasa_url, timeout=max(settings.rasa_timeout, 30.0))
    sender = f"console-{uuid.uuid4().hex[:12]}"
    buttons: list[dict[str, Any]] = []
    out.write("Safe Migration Bot console. Write in Khmer, Lao, Burmese or English; "
              "/quit to leave.\n")
    loop = asyncio.get_running_loop()
    try:
        while True:
            if inp.isatty():
                out.write(PROMPT)
                out.flush()
            line = await loop.run_in_executor(None, inp.readline)
            if not line:
                break
            text = line.strip()
            if text in ("/quit", "/exit"):
                break
            if text.isdigit() and buttons and 1 <= int(text) <= len(buttons):
                text = str(buttons[int(text) - 1]["payload"])
            if not text:
                continue
            try:
                buttons = show(await client.send(sender, text), out)
            except RasaUnavailable:
                out.write("bot> (the assistant is not answering right now; please try again)\n")
    finally:
        await client.close()
