"""Conversation turns through the real stack, beside stock Rasa 3.6 on the same data.

Two stacks, one after the other, each measured the same way through Rasa's REST channel:
- ours: `safemig serve` (Rasa + action server as in production);
- the anchor: stock Rasa as its users set it up: WhitespaceTokenizer, CountVectors, DIET,
  RulePolicy, SQL tracker store (SQLite), domain responses, the same action server and the
  standard action-server round trip.
For each: cold start until the first answer; p50/p95 of a plain answer, of a turn that runs a
custom action and of a report turn that writes to the queue; sustained turns per second with 20
and 100 users at once; resident memory. How many of each: OURS and STOCK (stock Rasa answers
three to six times slower, so it gets half the turns: the bench has a 10-minute budget; the
throughput runs, LOADS, are the same for both).
Ours once more with two Rasa workers (SAFEMIG_RASA_WORKERS=2): 20-user
throughput and memory. The queue's own reports per second are measured on their own.

The anchor's DIET is built but not trained (0 epochs): what a message costs it depends on its
architecture and on the vocabulary its featurizers learn from our data, not on the values of
its weights; 100 epochs would take most of an hour here, and even one epoch costs 2 minutes of
TensorFlow tracing DIET's training step (its accuracy after 40 epochs is in docs/nlu.md). So
its DIET sends typed messages to its fallback, which the typed-messages row says. The model is
kept in models/bench by input hash, and `make bench` trains it (`python -m bench.turns
--train-anchor`, about a minute) beside our own model's training.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import aiohttp
import httpx
import yaml
from e2e.e2e_harness import free_port

from safemig.config import PROJECT_ROOT, Settings
from safemig.nlu.evaluate import percentile
from safemig.queue.store import Queue
from safemig.supervisor import QUIET_ENV

ROUNDS = 3  # the turns are measured as ROUNDS rounds; figures are medians over the rounds
# users at once -> turns each, in each of ROUNDS runs; the same for both stacks, as a different
# mix of first turns (session start) and custom actions would make the rates incomparable
LOADS = {20: 7, 100: 2}


@dataclass(frozen=True)
class Sampling:
    """How many turns one stack is measured with."""

    runs: int  # plain and custom-action turns, each
    warmup: int
    report_runs: int  # reports of 9 turns each
    report_warmup: int


OURS = Sampling(runs=200, warmup=20, report_runs=60, report_warmup=10)
STOCK = Sampling(runs=100, warmup=10, report_runs=30, report_warmup=5)  # ~1 s per report
# What the bot's buttons send (intent shortcuts): the turns measure the dialogue, not the NLU
PLAIN, ACTION = "/greet", '/ask_costs{"country": "TH"}'
# The same two turns typed (greet; ask_costs with TH, in Khmer): both stacks once more under
# load (stock Rasa's whitespace tokens cannot read the Khmer one; it answers what it makes of it)
TYPED = ("hello", "តើទៅធ្វើការនៅថៃត្រូវចំណាយប៉ុន្មាន")
STARTED = time.perf_counter()  # the bench's clock: `make bench` imports this module first


def percentiles(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(samples), 1),
            "p95_ms": round(percentile(samples, 0.95), 1), "n": len(samples)}


def rounds_median(samples: list[float]) -> dict[str, float]:
    """p50/p95 of each of ROUNDS consecutive rounds, and the median of each over the rounds.

    The machine's speed drifts (the same NLU parse moved by a third between two runs an hour
    apart); a few seconds of slowness move one round's p95, not the median of three."""
    n = len(samples)
    rounds = [percentiles(samples[i * n // ROUNDS:(i + 1) * n // ROUNDS]) for i in range(ROUNDS)]
    return {"p50_ms": statistics.median(r["p50_ms"] for r in rounds),
            "p95_ms": statistics.median(r["p95_ms"] for r in rounds),
            "n": len(samples), "rounds": [[r["p50_ms"], r["p95_ms"]] for r in rounds]}


def _proc_kb(path: str, field: str) -> float:
    try:
        return sum(int(line.split()[1]) for line in Path(path).read_text().splitlines()
                   if line.startswith(field))
    except OSError:
        return 0.0


def own_rss_mb(pid: int) -> float:
    """Resident memory of one process, from /proc."""
    return _proc_kb(f"/proc/{pid}/status", "VmRSS:") / 1024


def own_pss_mb(pid: int) -> float:
    """Its share of resident memory: pages shared with forked workers counted once overall."""
    return _proc_kb(f"/proc/{pid}/smaps_rollup", "Pss:") / 1024


class Stack:
    """Running processes answering on a REST webhook; started in their own sessions."""

    def __init__(self, commands: list[list[str]], env: dict[str, str], rasa_port: int) -> None:
        self.rasa_port = rasa_port
        data_dir = Path(env["SAFEMIG_DATA_DIR"])
        data_dir.mkdir(parents=True, exist_ok=True)
        self.queue = Queue.open(Settings(data_dir=data_dir))  # where the action server files
        self.url = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
        self.started = time.perf_counter()
        self.procs = [subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       start_new_session=True) for argv in commands]
        self.client = httpx.Client(timeout=60)

    def first_answer_seconds(self) -> float:
        while True:
            try:
                if self.client.post(self.url, json={"sender": "cold", "message": PLAIN}).json():
                    return round(time.perf_counter() - self.started, 1)
            except (httpx.HTTPError, ValueError):
                time.sleep(0.1)
            if any(p.poll() is not None for p in self.procs):
                raise RuntimeError("stack exited")

    def turn(self, sender: str, text: str) -> tuple[float, list]:
        start = time.perf_counter()
        replies = self.client.post(self.url, json={"sender": sender, "message": text}).json()
        return (time.perf_counter() - start) * 1000, replies

    def memory(self) -> dict[str, float]:
        """Resident memory per process of the stack (and of their children), and the total
        of their proportional shares (PSS), which counts pages shared after a fork once."""
        figures: dict[str, float] = {}
        pss = 0.0
        todo = [p.pid for p in self.procs]
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
            pss += own_pss_mb(pid)
        figures["total"] = round(sum(figures.values()), 1)
        figures["total_pss"] = round(pss, 1)
        return figures

    def stop(self) -> None:
        for proc in self.procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            proc.wait(timeout=30)


def project_stack(data_dir: Path, rasa_workers: int = 1) -> Stack:
    rasa_port = free_port()
    env = {**os.environ, "SAFEMIG_RASA_PORT": str(rasa_port),
           "SAFEMIG_ACTION_PORT": str(free_port()), "SAFEMIG_DATA_DIR": str(data_dir),
           "TELEGRAM_BOT_TOKEN": "", "SAFEMIG_RASA_WORKERS": str(rasa_workers)}
    return Stack([[sys.executable, "-m", "safemig.cli", "serve"]], env, rasa_port)


def stock_model() -> Path:
    """A full stock-Rasa model of our domain, rules and NLU data (cached by input hash)."""
    from bench.nlu_report import BENCH_MODELS, STOCK_PIPELINE, _hash, write_config

    # 0 epochs: the same network and vocabulary, its weights as initialized (module docstring)
    pipeline = [{**c, "epochs": 0} if c["name"] == "DIETClassifier" else c
                for c in STOCK_PIPELINE]
    # our policy settings on Rasa's own RulePolicy (ours only shares work between searches)
    policies = [{**p, "name": "RulePolicy"} if p["name"].endswith("RulePolicy") else p
                for p in yaml.safe_load((PROJECT_ROOT / "config.yml").read_text())["policies"]]
    inputs = [PROJECT_ROOT / d for d in ("domain", "nlu_data", "dialogue")]
    model = BENCH_MODELS / f"stock-turns-{_hash([*pipeline, *policies], *inputs)}.tar.gz"
    if model.exists():
        return model
    BENCH_MODELS.mkdir(parents=True, exist_ok=True)
    config = write_config(model.with_suffix("").with_suffix(".yml"), pipeline, policies)
    print("training the stock-Rasa anchor model (DIET built, 0 epochs)...", flush=True)
    started = time.perf_counter()
    # Stock `rasa train --force`, minus its bookkeeping overheads (safemig/rasa_train.py)
    subprocess.run([sys.executable, "-m", "safemig.rasa_train", "train", "--force", "--config",
                    str(config), "--domain", "domain", "--data", "nlu_data", "dialogue",
                    "--out", str(BENCH_MODELS),
                    "--fixed-model-name", model.name.removesuffix(".tar.gz"),
                    "--skip-validation"],  # its warnings say nothing about speed
                   check=True, cwd=PROJECT_ROOT,
                   env={**os.environ, **QUIET_ENV},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    progress(f"training the stock-Rasa anchor model ({time.perf_counter() - started:.0f} s)")
    return model


def stock_stack(data_dir: Path, model: Path) -> Stack:
    rasa_port, action_port = free_port(), free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    endpoints = data_dir / "stock-endpoints.yml"
    endpoints.write_text(yaml.safe_dump({
        "action_endpoint": {"url": f"http://127.0.0.1:{action_port}/webhook"},
        "tracker_store": {"type": "SQL", "dialect": "sqlite",
                          "db": str(data_dir / "stock-tracker.db")}}))
    env = {**os.environ, **QUIET_ENV, "SAFEMIG_DATA_DIR": str(data_dir),
           "SAFEMIG_ACTION_PORT": str(action_port), "TELEGRAM_BOT_TOKEN": ""}
    rasa = str(Path(sys.executable).with_name("rasa"))
    return Stack([
        [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port)],
        [rasa, "run", "-i", "127.0.0.1", "-p", str(rasa_port), "--model", str(model),
         "--endpoints", str(endpoints), "--credentials", "credentials.yml"],
    ], env, rasa_port)


def measure_turns(stack: Stack, sampling: Sampling) -> dict[str, dict[str, float]]:
    plain, action = [], []
    warmup = sampling.warmup
    for i in range(warmup + sampling.runs):
        sender = f"bench-{uuid.uuid4().hex[:8]}"
        stack.turn(sender, PLAIN)  # opens the conversation (session start)
        ms, _ = stack.turn(sender, PLAIN)
        if i >= warmup:
            plain.append(ms)
        ms, _ = stack.turn(sender, ACTION)
        if i >= warmup:
            action.append(ms)
    return {"plain answer": rounds_median(plain), "custom action": rounds_median(action),
            "report filed (stored + acknowledged)": report_turns(stack, sampling)}


def report_turns(stack: Stack, sampling: Sampling) -> dict[str, float]:
    """The last turn of an abuse report (Send) until its acknowledgement comes back.

    Both stacks run the same forms and the same action server, which stores the report in the
    queue; each report is checked there. (Stock Rasa's templated NLG cannot fill the
    acknowledgement's hotline list, so it sends the text with its placeholders unfilled.)"""
    report = []
    for i in range(sampling.report_warmup + sampling.report_runs):
        sender = f"bench-{uuid.uuid4().hex[:8]}"
        stack.turn(sender, "/report_abuse")
        for answer in ["broker", "skip", "took money", "skip", "skip", "no", "no"]:
            stack.turn(sender, answer)
        ms, replies = stack.turn(sender, "send")
        if not replies or stack.queue.open_report_for(sender) is None:
            raise AssertionError(f"report not filed: {replies}")
        if i >= sampling.report_warmup:
            report.append(ms)
    return rounds_median(report)


async def _throughput(url: str, users: int, turns_each: int,
                      messages: tuple[str, str]) -> dict[str, float]:
    """`users` conversations at once, each sending its turns back to back.

    aiohttp, not httpx: httpcore's pool checks every connection for every request it places,
    which with 100 connections made the load generator, not Rasa, the bottleneck (py-spy of
    the generator: 80% of its time there, and 4-5 s stalls in the 100-user runs)."""
    latencies: list[float] = []
    failed = 0

    async def user(session: aiohttp.ClientSession) -> None:
        nonlocal failed
        sender = f"load-{uuid.uuid4().hex[:8]}"
        for i in range(turns_each):
            start = time.perf_counter()
            try:
                async with session.post(url, json={
                        "sender": sender, "message": messages[i % 2]}) as response:
                    ok = response.status == 200 and bool(await response.json())
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                ok = False
            if ok:
                latencies.append((time.perf_counter() - start) * 1000)
            else:
                failed += 1

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=users + 5),
                                     timeout=aiohttp.ClientTimeout(total=120)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(user(session) for _ in range(users)))
        wall = time.perf_counter() - started
    return {"users": users, "turns": users * turns_each, "answered": len(latencies),
            "failed": failed, "turns_per_s": round(len(latencies) / wall, 1),
            **percentiles(latencies)}


def throughput(url: str, users: int, turns_each: int,
               messages: tuple[str, str] = (PLAIN, ACTION)) -> dict:
    """ROUNDS runs one after another: the median run's rate and latencies, every run's rate,
    and the turns answered and failed over all runs (a lost turn in any run shows)."""
    runs = [asyncio.run(_throughput(url, users, turns_each, messages)) for _ in range(ROUNDS)]
    median = sorted(runs, key=lambda r: r["turns_per_s"])[len(runs) // 2]
    return {**median, **{key: sum(r[key] for r in runs) for key in ("turns", "answered", "failed")},
            "rounds": [r["turns_per_s"] for r in runs]}


def measure_stack(stack: Stack, sampling: Sampling, with_turns: bool = True,
                  loads: dict[int, int] = LOADS, typed: bool = False,
                  telegram: Callable[[int], dict] | None = None) -> dict:
    """Cold start, turn latencies (or only the warm-up turns), throughput per load (and with
    20 users typing, if `typed`), memory; then `telegram(rasa_port)` (the Telegram bench
    against this Rasa) while it still runs."""
    try:
        cold = stack.first_answer_seconds()
        progress(f"cold start {cold} s")
        if with_turns:
            turns = measure_turns(stack, sampling)
        else:
            turns = None
            for i in range(sampling.warmup):
                stack.turn("warm-up", PLAIN if i % 2 == 0 else ACTION)
        progress("turn latencies")
        load = [throughput(stack.url, users, each) for users, each in loads.items()]
        typed_load = throughput(stack.url, 20, LOADS[20], TYPED) if typed else None
        progress("throughput")
        memory = stack.memory()
        behind_telegram = telegram(stack.rasa_port) if telegram else None
        if telegram:
            progress("Telegram")
    finally:
        stack.stop()
    figures = {"cold_start_s": cold, "turns": turns, "throughput": load, "memory_mb": memory}
    if typed_load:
        figures["throughput_typed"] = typed_load
    if behind_telegram:
        figures["telegram"] = behind_telegram
    return figures


def progress(step: str) -> None:
    """Say on stderr what is done and how long the bench has run: it has a 10-minute budget."""
    print(f"[bench {time.perf_counter() - STARTED:4.0f} s] {step} done", file=sys.stderr,
          flush=True)


def reference_loop_ms(repeats: int = 5) -> float:
    """The machine's speed right now: a fixed pure-Python loop, median of `repeats` (ms).

    This shared 2-core machine drifts; the figure lets two runs of the bench be compared."""
    def once() -> float:
        start, total = time.perf_counter(), 0
        for i in range(1_000_000):
            total += i * i % 7
        return (time.perf_counter() - start) * 1000

    return round(statistics.median(once() for _ in range(repeats)), 1)


def queue_throughput(data_dir: Path, n: int = 500) -> dict[str, float]:
    queue = Queue.open(Settings(data_dir=data_dir / "queue-bench"))
    start = time.perf_counter()
    for i in range(n):
        queue.file_report(kind="abuse", answers={"ab_what": "bench"}, reporter_id=f"u{i}",
                          language="en", origin="KH", destination="TH",
                          source_key=f"bench:{i}")
    seconds = time.perf_counter() - start
    return {"reports": n, "reports_per_second": round(n / seconds, 1)}


def main(with_anchor: bool = True, telegram_anchor: Callable[[int], dict] | None = None) -> dict:
    """Both stacks; `telegram_anchor(rasa_port)` also runs against stock Rasa before it stops."""
    reference = [reference_loop_ms()]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        ours = measure_stack(project_stack(data / "ours"), OURS, typed=True)
        two = measure_stack(project_stack(data / "two-workers", rasa_workers=2),
                            OURS, with_turns=False, loads={20: LOADS[20]})
        anchor = None
        if with_anchor:
            model = stock_model()
            anchor = measure_stack(stock_stack(data / "stock", model), STOCK, typed=True,
                                   telegram=telegram_anchor)
        queue = queue_throughput(data)
    reference.append(reference_loop_ms())
    # the stock anchor's archive is not its trained size: its untrained DIET saves no weights
    models = {"ours": round((PROJECT_ROOT / "models" / "safemig.tar.gz").stat().st_size / 1e6, 1)}
    return {"ours": ours, "ours_2_workers": two, "stock": anchor, "queue": queue,
            "model_mb": models, "rounds": ROUNDS, "reference_loop_ms": reference,
            "sampling": {"ours": asdict(OURS), "stock": asdict(STOCK)}, "loads": LOADS}


if __name__ == "__main__":
    if "--train-anchor" in sys.argv:
        print(stock_model())
    else:
        print(json.dumps(main(with_anchor="--no-anchor" not in sys.argv), indent=1))
