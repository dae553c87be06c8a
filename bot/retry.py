"""Retry Bot API calls on flood limits (429, honouring retry_after) and network errors.

PTB's AIORateLimiter needs the optional `aiolimiter` package; this small limiter only
retries, which is what a bot of this size needs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]

# Polling has its own retry loop; retrying here would only delay shutdown.
_NO_RETRY = frozenset({"getUpdates"})


class RetryLimiter(BaseRateLimiter[int]):
    """Call through; on RetryAfter wait as told, on network errors back off, then retry."""

    def __init__(self, max_retries: int = 3, backoff: float = 1.0,
                 max_wait: float = 60.0) -> None:
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_wait = max_wait

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        retries = self.max_retries if rate_limit_args is None else rate_limit_args
        attempt = 0
        while True:
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = exc.retry_after
                seconds = wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)
                if attempt >= retries or endpoint in _NO_RETRY or seconds > self.max_wait:
                    raise
                log.warning("%s: flood limit, retrying in %.1fs", endpoint, seconds)
            except BadRequest:
                raise
            except NetworkError:
                if attempt >= retries or endpoint in _NO_RETRY:
                    raise
                seconds = self.backoff * 2**attempt
                log.warning("%s: network error, retrying in %.1fs", endpoint, seconds)
            attempt += 1
            await asyncio.sleep(seconds)
