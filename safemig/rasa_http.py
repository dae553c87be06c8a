"""Speed-ups installed inside the Rasa server: one HTTP session per endpoint and a compiled
schema for action responses (each measured with py-spy, see docs/benchmarks.md).

Rasa 3.6 opens (and closes) a new aiohttp session, with a new TCP connection, for every call
to the action server; on this machine that was most of a custom-action turn's time. Installed
once by the catalog NLG (which Rasa loads at start-up), so no Rasa code is copied.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import ujson
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

_SESSIONS: dict[tuple[int, int], aiohttp.ClientSession] = {}
_INSTALLED = False


class _KeepOpen:
    """`async with` that hands out the shared session without closing it afterwards."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self._session

    async def __aexit__(self, *exc: Any) -> bool:
        return False


# Idle connections are dropped before the action server drops them (Sanic's keep-alive is
# 5 s): a call sent on a connection the server is closing fails ("Cannot write to closing
# transport"; 10 of 1,300 action turns under load with aiohttp's default of 15 s).
KEEPALIVE_SECONDS = 2.0


def _session(endpoint: EndpointConfig) -> aiohttp.ClientSession:
    """Rasa's session for this endpoint (headers, basic auth, timeout), kept-alive safely."""
    auth = endpoint.basic_auth
    return aiohttp.ClientSession(
        headers=endpoint.headers,
        auth=aiohttp.BasicAuth(auth["username"], auth["password"]) if auth else None,
        timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
        connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
        # The body is the whole conversation (and the domain): json.dumps of it was 8% of
        # Rasa's CPU under load; ujson (a Rasa dependency) writes the same JSON in about half
        json_serialize=ujson.dumps,
    )


def install() -> None:
    """Make every EndpointConfig reuse one session per event loop (idempotent)."""
    global _INSTALLED
    if _INSTALLED:
        return
    original = EndpointConfig.session

    def shared_session(self: EndpointConfig) -> Any:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return original(self)
        key = (id(loop), id(self))
        session = _SESSIONS.get(key)
        if session is None or session.closed:
            session = _session(self)
            _SESSIONS[key] = session
        return _KeepOpen(session)

    EndpointConfig.session = shared_session  # type: ignore[method-assign]
    _INSTALLED = True


def cache_action_schema() -> None:
    """Validate action-server responses with one compiled validator.

    Rasa 3.6 calls `jsonschema.validate(result, schema)` for every action call, which checks
    the schema itself each time: 60% of a custom-action turn here. Same schema, same errors.
    """
    from jsonschema import ValidationError, validators
    from rasa.core.actions.action import RemoteAction

    if getattr(cache_action_schema, "done", False):
        return
    schema = RemoteAction.action_response_format_spec()
    validator = validators.validator_for(schema)(schema)
    original = RemoteAction._validate_action_result

    def validate(self: RemoteAction, result: dict[str, Any]) -> bool:
        try:
            validator.validate(result)
        except ValidationError:
            return bool(original(self, result))  # Rasa's own message for the error
        return True

    RemoteAction._validate_action_result = validate  # type: ignore[method-assign]
    cache_action_schema.done = True  # type: ignore[attr-defined]
