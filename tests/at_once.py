"""Run the same start-up or write in several threads at the same moment (SQLite races)."""

from __future__ import annotations

import threading
from collections.abc import Callable


def errors_at_once(action: Callable[[], object], threads: int) -> list[BaseException]:
    """`action` in `threads` threads released together by a barrier; what any of them raised."""
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            action()
        except BaseException as exc:  # returned to the test
            errors.append(exc)

    started = [threading.Thread(target=run) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(30)
    return errors
