"""Rasa's conversation locks in SQLite: one conversation at a time across worker processes."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from pathlib import Path

import pytest
from rasa.core.lock_store import LockError, LockStore
from rasa.core.utils import number_of_sanic_workers
from rasa.utils.endpoints import EndpointConfig

from safemig.conversation_log import clear_locks
from safemig.lock_store import SQLiteLockStore

TURNS = 40


def _turns(db: str, counter: str, start: multiprocessing.synchronize.Event) -> None:
    """One worker: TURNS times, read-increment-write a counter while holding the lock."""
    store = SQLiteLockStore(db=db)
    start.wait()

    async def run() -> None:
        for _ in range(TURNS):
            async with store.lock("same-user", wait_time_in_seconds=0.001):
                value = int(Path(counter).read_text())
                await asyncio.sleep(0.001)  # the other worker gets every chance to interleave
                Path(counter).write_text(str(value + 1))

    asyncio.run(run())


def test_two_processes_never_hold_one_conversation_at_once(tmp_path: Path) -> None:
    db, counter = str(tmp_path / "locks.db"), tmp_path / "counter"
    counter.write_text("0")
    SQLiteLockStore(db=db)  # create the file before the race
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [context.Process(target=_turns, args=(db, str(counter), start)) for _ in range(2)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    assert int(counter.read_text()) == 2 * TURNS  # no increment lost to an overlapping turn
    assert SQLiteLockStore(db=db).get_lock("same-user") is None  # nothing left behind


async def test_a_dead_workers_ticket_expires_and_clear_forgets_all(tmp_path: Path) -> None:
    db = tmp_path / "locks.db"
    store = SQLiteLockStore(db=db)
    store.issue_ticket("u1", lock_lifetime=0.05)  # taken, never given back: the worker died
    async with store.lock("u1", wait_time_in_seconds=0.02) as lock:
        assert lock.conversation_id == "u1"
    store.issue_ticket("u2", lock_lifetime=600)
    clear_locks(db)
    assert SQLiteLockStore(db=db).get_lock("u2") is None


async def test_a_lock_that_cannot_be_had_is_a_lock_error(tmp_path: Path) -> None:
    store = SQLiteLockStore(db=tmp_path / "locks.db")
    with pytest.raises(LockError):
        store.issue_ticket("u1", lock_lifetime="not a number")  # type: ignore[arg-type]


def test_rasa_builds_it_from_endpoints_and_allows_several_workers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = EndpointConfig(type="safemig.lock_store.SQLiteLockStore",
                            db=str(tmp_path / "locks.db"))
    assert isinstance(LockStore.create(config), SQLiteLockStore)
    monkeypatch.setitem(os.environ, "SANIC_WORKERS", "2")
    assert number_of_sanic_workers(config) == 2
