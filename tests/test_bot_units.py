"""The front end's small parts: text splitting, flood control, storage, retries."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter

from bot.flood import FloodGate
from bot.keyboards import MAX_CALLBACK_BYTES, decode_payload, encode_payload
from bot.retry import RetryLimiter
from bot.store import Store
from bot.textsplit import split_text


def test_short_text_is_one_piece() -> None:
    assert split_text("hello") == ["hello"]
    assert split_text("") == [""]


def test_split_prefers_line_breaks_then_spaces_then_hard_cut() -> None:
    assert split_text("aaaa\nbbbb cc", limit=8) == ["aaaa", "bbbb cc"]
    assert split_text("aaa bbb ccc", limit=8) == ["aaa bbb", "ccc"]
    assert split_text("a" * 10, limit=4) == ["aaaa", "aaaa", "aa"]


def test_split_counts_utf16_units() -> None:
    pieces = split_text("😀" * 3000)  # each emoji is 2 UTF-16 units
    assert all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in pieces)
    assert "".join(pieces) == "😀" * 3000


def test_split_keeps_khmer_text_whole() -> None:
    text = ("សួស្តី " * 1000).strip()
    pieces = split_text(text)
    assert len(pieces) == 2
    assert " ".join(pieces) == text


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_flood_gate_delays_past_the_limit_and_notifies_once() -> None:
    clock = Clock()
    gate = FloodGate(limit=3, window=10.0, clock=clock)
    slots = [gate.reserve(1) for _ in range(6)]
    assert [s.delay for s in slots] == [0, 0, 0, 10, 10, 10]
    assert [s.notify for s in slots] == [False, False, False, True, False, False]
    assert gate.reserve(2).delay == 0  # other users are not affected


def test_flood_gate_new_episode_after_a_quiet_window() -> None:
    clock = Clock()
    gate = FloodGate(limit=1, window=1.0, clock=clock)
    assert [gate.reserve(1).notify for _ in range(3)] == [False, True, False]
    clock.now += 10
    assert [gate.reserve(1).notify for _ in range(2)] == [False, True]


def test_store_persists_and_deletes(tmp_path: Path) -> None:
    path = tmp_path / "data" / "safemig.db"
    store = Store(path)
    store.set_language(7, "km")
    store.set_language(7, "lo")
    store.close()

    again = Store(path)
    assert again.language(7) == "lo"
    assert again.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert again.delete_user(7) is True
    assert again.language(7) is None
    assert again.delete_user(7) is False
    again.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 0


def test_payload_keys_fit_and_round_trip() -> None:
    store = Store()
    short, long = "/help", "/inform" + '{"x": "' + "é" * 60 + '"}'
    for payload in (short, long):
        data = encode_payload(payload, store)
        assert len(data.encode()) <= MAX_CALLBACK_BYTES
        assert decode_payload(data, store) == payload
    assert encode_payload(long, store) == encode_payload(long, store)
    assert decode_payload("k:missing", store) is None
    assert decode_payload("garbage", store) is None


class Flaky:
    """A Bot API call failing with the given errors, then answering True."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> bool:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return True


async def _call(limiter: RetryLimiter, flaky: Flaky, endpoint: str = "sendMessage") -> Any:
    return await limiter.process_request(flaky, (), {}, endpoint, {}, None)


async def test_retry_on_network_error_and_retry_after() -> None:
    limiter = RetryLimiter(backoff=0.0)
    flaky = Flaky(NetworkError("reset"), RetryAfter(1))
    limiter.max_wait = 5
    assert await _call(limiter, flaky) is True
    assert flaky.calls == 3


async def test_no_retry_on_bad_request_or_polling() -> None:
    limiter = RetryLimiter(backoff=0.0)
    with pytest.raises(BadRequest):
        await _call(limiter, Flaky(BadRequest("bad")))
    flaky = Flaky(NetworkError("down"))
    with pytest.raises(NetworkError):
        await _call(limiter, flaky, endpoint="getUpdates")
    assert flaky.calls == 1


async def test_gives_up_after_max_retries() -> None:
    limiter = RetryLimiter(max_retries=2, backoff=0.0)
    flaky = Flaky(*(NetworkError("down") for _ in range(5)))
    with pytest.raises(NetworkError):
        await _call(limiter, flaky)
    assert flaky.calls == 3
