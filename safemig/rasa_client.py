"""Talk to the Rasa server's REST channel: one persistent HTTP client, bounded time."""

from __future__ import annotations

from typing import Any

import httpx


class RasaUnavailable(Exception):
    """Rasa (or the action server behind it) is down, failing, or slower than allowed."""


class RasaClient:
    """Send a user's message, get the bot's replies (text, buttons, custom payloads)."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout)

    async def send(self, sender: str, text: str,
                   metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        payload = {"sender": sender, "message": text, "metadata": metadata or {}}
        try:
            response = await self._client.post("/webhooks/rest/webhook", json=payload)
            response.raise_for_status()
            replies = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailable(type(exc).__name__) from exc
        if not isinstance(replies, list):
            raise RasaUnavailable("unexpected reply")
        return replies

    async def close(self) -> None:
        await self._client.aclose()
