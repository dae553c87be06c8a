"""Several Rasa workers (SAFEMIG_RASA_WORKERS) answer one set of conversations correctly.

Each message of a conversation may reach either worker; the shared lock store and tracker
database must make the conversation continue as if one process had answered it all.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import Stack, running_stack
from test_reports import abuse_report, queue_of


@pytest.fixture(scope="module")
def two_workers(trained_model: Path, tmp_path_factory: pytest.TempPathFactory,
                ) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("two-workers"),
                       SAFEMIG_RASA_WORKERS="2") as running:
        yield running


def rasa_workers(stack: Stack) -> int:
    """Rasa processes serving this stack's port (Sanic's main process plus its workers)."""
    port = stack.rasa_url.rsplit(":", 1)[1]
    found = subprocess.run(["pgrep", "-f", f"bin/rasa run .*-p {port} "],
                           capture_output=True, text=True).stdout.split()
    return len(found)


def test_reports_filed_at_once_through_two_workers_are_all_complete(two_workers: Stack) -> None:
    # the main process and two workers; the stack answers as soon as one worker does, so give
    # the process list a moment. A worker that dies at start-up shows as 2, with the log: that
    # is how two workers creating a new file's tables at once were found (test_tracker_store)
    deadline = time.monotonic() + 20
    while rasa_workers(two_workers) != 3 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert rasa_workers(two_workers) == 3, (two_workers.data_dir / "stack.log").read_text()[-4000:]
    senders = [f"w2-{uuid.uuid4().hex[:8]}" for _ in range(8)]
    with ThreadPoolExecutor(max_workers=len(senders)) as pool:
        filed = list(pool.map(lambda sender: abuse_report(two_workers, sender, "en"), senders))
    queue = queue_of(two_workers)
    for sender, (_, reference) in zip(senders, filed):
        report = queue.by_reference(reference)
        assert report is not None and report.reporter_id == sender
        assert report.details and report.details["ab_money"] == "15000 baht"
    assert len({reference for _, reference in filed}) == len(senders)
