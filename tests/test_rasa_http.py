"""HTTP clients of our Sanic servers (Rasa's, the action server's): kept open, closed in time."""

from __future__ import annotations

import asyncio

from rasa.utils.endpoints import EndpointConfig
from sanic.config import DEFAULT_CONFIG

from safemig import rasa_http
from safemig.rasa_client import LIMITS


async def test_one_session_per_endpoint_whose_idle_connections_close_first() -> None:
    """A call sent on a connection the action server is just closing fails the user's turn."""
    rasa_http.install()
    endpoint = EndpointConfig("http://127.0.0.1:1/webhook", basic_auth={
        "username": "u", "password": "p"})
    async with endpoint.session() as first:
        pass
    async with endpoint.session() as second:
        assert second is first and not first.closed  # kept open for the next call
    assert first.connector is not None
    # rasa_sdk serves with Sanic's default keep-alive; ours must be shorter.
    assert first.connector._keepalive_timeout < DEFAULT_CONFIG["KEEP_ALIVE_TIMEOUT"]
    assert first.auth is not None and first.auth.login == "u"
    await first.close()
    await asyncio.sleep(0)


def test_the_front_end_drops_idle_connections_to_rasa_before_rasa_does() -> None:
    assert LIMITS.keepalive_expiry is not None
    assert LIMITS.keepalive_expiry < DEFAULT_CONFIG["KEEP_ALIVE_TIMEOUT"]
