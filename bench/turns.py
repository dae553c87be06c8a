"""Conversation-turn figures through the real stack, the queue's throughput, cold start, memory.

Starts `safemig serve` (Rasa + action server, as in production), measures after a warm-up:
- a plain answer turn (rendered by the catalog NLG, no action server call),
- a turn that runs a custom action (action_answer_topic),
- a full report turn (message -> stored in SQLite -> acknowledged),
each as p50/p95 over repeated runs; the queue's sustained reports per second on its own;
cold start until the first answer; resident memory of each process.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from safemig.config import PROJECT_ROOT, Settings

RUNS = 200
WARMUP = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]  # noqa: E731
    return {"p50_ms": round(statistics.median(ordered), 1), "p95_ms": round(pick(0.95), 1),
            "n": len(ordered)}


def own_rss_mb(pid: int) -> float:
    """Resident memory of one process, from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Stack:
    def __init__(self, data_dir: Path) -> None:
        self.rasa_port, self.action_port = free_port(), free_port()
        self.env = {**os.environ, "SAFEMIG_RASA_PORT": str(self.rasa_port),
                    "SAFEMIG_ACTION_PORT": str(self.action_port), "SAFEMIG_DATA_DIR": str(data_dir),
                    "TELEGRAM_BOT_TOKEN": ""}
        self.url = f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook"
        self.started = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "-m", "safemig.cli", "serve"],
                                     cwd=PROJECT_ROOT, env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        self.client = httpx.Client(timeout=60)

    def first_answer_seconds(self) -> float:
        while True:
            try:
                if self.client.post(self.url, json={"sender": "cold", "message": "hi"}).json():
                    return round(time.perf_counter() - self.started, 1)
            except (httpx.HTTPError, ValueError):
                time.sleep(0.1)
            if self.proc.poll() is not None:
                raise RuntimeError("stack exited")

    def turn(self, sender: str, text: str) -> tuple[float, list]:
        start = time.perf_counter()
        replies = self.client.post(self.url, json={"sender": sender, "message": text}).json()
        return (time.perf_counter() - start) * 1000, replies

    def memory(self) -> dict[str, float]:
        """Resident memory per process of the stack (the supervisor's children and theirs)."""
        figures: dict[str, float] = {}
        todo = [self.proc.pid]
        while todo:
            pid = todo.pop()
            kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
            todo += [int(p) for p in kids.stdout.split()]
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            name = ("rasa" if "bin/rasa" in cmd else "actions" if "rasa_sdk" in cmd
                    else "supervisor")
            figures[name] = round(figures.get(name, 0) + own_rss_mb(pid), 1)
        figures["total"] = round(sum(figures.values()), 1)
        return figures

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)


def measure_turns(stack: Stack) -> dict[str, dict[str, float]]:
    plain, action, report = [], [], []
    for i in range(WARMUP + RUNS):
        sender = f"bench-{uuid.uuid4().hex[:8]}"
        ms, _ = stack.turn(sender, "/greet")
        if i >= WARMUP:
            plain.append(ms)
        ms, _ = stack.turn(sender, '/ask_costs{"country": "TH"}')
        if i >= WARMUP:
            action.append(ms)
    for i in range(WARMUP + RUNS // 2):
        sender = f"bench-{uuid.uuid4().hex[:8]}"
        stack.turn(sender, "/report_abuse")
        for answer in ["broker", "skip", "took money", "skip", "skip", "no", "no"]:
            stack.turn(sender, answer)
        ms, replies = stack.turn(sender, "send")
        assert any("SM-" in r.get("text", "") for r in replies), replies
        if i >= WARMUP:
            report.append(ms)
    return {"plain answer": percentiles(plain), "custom action": percentiles(action),
            "report filed (stored + acknowledged)": percentiles(report)}


def queue_throughput(data_dir: Path, n: int = 500) -> dict[str, float]:
    from safemig.queue.store import Queue

    queue = Queue.open(Settings(data_dir=data_dir / "queue-bench"))
    start = time.perf_counter()
    for i in range(n):
        queue.file_report(kind="abuse", answers={"ab_what": "bench"}, reporter_id=f"u{i}",
                          language="en", origin="KH", destination="TH",
                          source_key=f"bench:{i}")
    seconds = time.perf_counter() - start
    return {"reports": n, "reports_per_second": round(n / seconds, 1)}


def main() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        stack = Stack(data)
        try:
            cold = stack.first_answer_seconds()
            turns = measure_turns(stack)
            memory = stack.memory()
        finally:
            stack.stop()
        queue = queue_throughput(data)
    return {"cold_start_s": cold, "turns": turns, "memory_mb": memory, "queue": queue,
            "runs": RUNS, "warmup": WARMUP}


if __name__ == "__main__":
    print(json.dumps(main(), indent=1))
