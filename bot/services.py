"""The shared services every handler uses, kept in `bot_data` and reached via the context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.flood import FloodGate
from bot.store import Store
from safemig.config import Settings
from safemig.rasa_client import RasaClient
from safemig.render import Renderer

SERVICES_KEY = "services"


@dataclass
class Services:
    """Settings, storage, the Rasa client, the text renderer and flood control."""

    settings: Settings
    store: Store
    rasa: RasaClient
    renderer: Renderer
    flood: FloodGate

    def text(self, name: str, lang: str, **variables: Any) -> str:
        """The front-end text `name` (content/frontend.yml) in `lang`."""
        return str(self.renderer.render(name, lang, variables)["text"])


class BotContext(CallbackContext[ExtBot, dict, dict, dict]):
    """The handlers' context, with typed access to the shared services."""

    def __init__(self, application: Application, chat_id: int | None = None,
                 user_id: int | None = None) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)

    @property
    def services(self) -> Services:
        return self.bot_data[SERVICES_KEY]
