"""Talk to the Rasa server's REST channel: one persistent HTTP client, bounded time."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

# Idle connections are dropped before Rasa's server drops them (Sanic: 5 s keep-alive, the same
# as httpx's default): a message sent on a connection the server is just closing fails. The
# other limits are httpx's defaults.
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=2.0)


class RasaUnavailable(Exception):
    """Rasa (or the action server behind it) is down, failing, or slower than allowed."""


class RasaClient:
    """Send a user's message, get the bot's replies (text, buttons, custom payloads)."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=LIMITS)

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

    async def wait_until_up(self, seconds: float) -> bool:
        """True once Rasa answers (its model loaded), False if it did not within `seconds`."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                if (await self._client.get("/", timeout=2.0)).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.1)

    async def close(self) -> None:
        await self._client.aclose()
