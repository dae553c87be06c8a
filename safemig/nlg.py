"""Rasa NLG that renders domain responses from the gettext catalogs, in the user's language.

Configured in endpoints.yml (`nlg: type: safemig.nlg.CatalogNLG`): it runs inside the Rasa
server, so `rasa shell`, the console chat and Telegram all get the same localized text
without an extra HTTP hop.
"""

from __future__ import annotations

from typing import Any

from rasa.core.nlg.generator import NaturalLanguageGenerator
from rasa.shared.core.trackers import DialogueStateTracker

from safemig.config import load_settings
from safemig.conversation import HOME_BY_LANGUAGE, corridor, turns_from_rasa_events
from safemig.i18n import Catalogs
from safemig.language import conversation_language
from safemig.render import Renderer


class CatalogNLG(NaturalLanguageGenerator):
    """Looks up each response in the catalogs of the conversation's language."""

    def __init__(self, endpoint_config: Any = None, domain: Any = None) -> None:
        from safemig import graph_runner, rasa_http, tracker_copy

        graph_runner.install()  # Rasa creates the NLG before it loads the model
        rasa_http.install()
        rasa_http.cache_action_schema()
        tracker_copy.install()
        settings = load_settings()
        self.renderer = Renderer(settings.project_root, Catalogs(settings.locales_dir))

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        lang = conversation_language(turns_from_rasa_events(tracker.events))
        slots = {name: tracker.get_slot(name) for name in ("origin", "destination", "country")}
        where = corridor(slots, HOME_BY_LANGUAGE.get(lang))
        variables = {k: v for k, v in kwargs.items() if isinstance(v, str | int | float)}
        latest = tracker.latest_message.intent.get("name") if tracker.latest_message else None
        variables.setdefault("topic", str(tracker.get_slot("topic") or latest or "help"))
        rendered = self.renderer.render(
            utter_action, lang, variables, where.origin, where.destination
        )
        return {k: v for k, v in rendered.items() if v}
