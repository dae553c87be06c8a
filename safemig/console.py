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
from safemig.i18n import Catalogs
from safemig.language import script_language
from safemig.languages import default_language
from safemig.rasa_client import RasaClient, RasaUnavailable
from safemig.render import Renderer

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
    renderer = Renderer(settings.project_root, Catalogs(settings.locales_dir))
    sender = f"console-{uuid.uuid4().hex[:12]}"
    buttons: list[dict[str, Any]] = []
    lang = default_language()
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
            detected = script_language(text)
            if detected and detected != "en":
                lang = detected
            try:
                replies = await client.send(sender, text)
            except RasaUnavailable:
                replies = []
            if not replies:  # Rasa down, or an action failed: never a silent dead end
                replies = [renderer.render("fe_unavailable", lang)]
            buttons = show(replies, out)
    finally:
        await client.close()
