"""Per-user flood control: past the limit, messages wait their turn; none is dropped."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Slot:
    """When a message may be handled, and whether to tell the user to slow down first."""

    delay: float
    notify: bool


class FloodGate:
    """At most `limit` messages per user in any `window` seconds; the rest are delayed.

    The first delayed message of an episode asks for a notice; an episode ends when the user
    has had nothing booked for a whole window. Each user's messages are also handled one at
    a time, in the order they arrived.
    """

    def __init__(self, limit: int, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = max(1, limit)
        self.window = window
        self._clock = clock
        self._slots: dict[int, deque[float]] = {}
        self._warned: set[int] = set()
        self._locks: dict[int, asyncio.Lock] = {}

    def reserve(self, user_id: int) -> Slot:
        """Book the user's next processing time (call on arrival, before any await)."""
        now = self._clock()
        slots = self._slots.setdefault(user_id, deque(maxlen=self.limit))
        if not slots or slots[-1] <= now - self.window:
            self._warned.discard(user_id)  # quiet for a whole window: a new episode
        at = now
        if len(slots) == self.limit:
            at = max(now, slots[0] + self.window)
        slots.append(at)
        delay = at - now
        notify = delay > 0 and user_id not in self._warned
        if notify:
            self._warned.add(user_id)
        self._forget_idle(now)
        return Slot(delay, notify)

    def _forget_idle(self, now: float) -> None:
        if len(self._slots) < 1000:
            return
        for user_id in [u for u, s in self._slots.items() if s[-1] < now - self.window]:
            self._slots.pop(user_id, None)
            self._warned.discard(user_id)
            lock = self._locks.get(user_id)
            if lock is not None and not lock.locked():
                self._locks.pop(user_id, None)

    @asynccontextmanager
    async def turn(self, user_id: int, slot: Slot) -> AsyncIterator[None]:
        """Hold the user's turn: one message at a time, not before its booked time."""
        lock = self._locks.setdefault(user_id, asyncio.Lock())
        due = self._clock() + slot.delay
        async with lock:
            wait = due - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
            yield
