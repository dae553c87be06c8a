"""Telegram round trip through the telemelya Bot API emulator: latency and throughput.

    .venv/bin/python -m bench.telegram_e2e [--messages 200] [--users 20,100]

Starts the same rig as tests/e2e (Redis, moto, telemelya, `safemig run --no-train` in webhook
mode; needs `bash scripts/e2e_setup.sh` and a trained model). All traffic stays on 127.0.0.1.

One turn = the control API's send_update (emulator -> bot webhook) until the bot's last
sendMessage for that message reached the emulator (read with its long-poll). Users first
write once in Khmer so their language is set; the measured message is a Khmer question
answered by the real model. Writes docs/bench/telegram.json and prints a markdown table.

The anchor (`stock_anchor`, run by `make bench` while bench/turns.py has stock Rasa up): the
same front end and runs with stock Rasa behind it instead of our Rasa.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
from e2e.e2e_harness import (
    E2E_VENV,
    Chat,
    Emulator,
    Rig,
    missing_requirements,
    running_rig,
    text_of,
    update_body,
)

from safemig.config import PROJECT_ROOT, load_settings
from safemig.nlu.evaluate import percentile

MESSAGE = "ខ្ញុំចង់ទៅធ្វើការនៅថៃដោយស្របច្បាប់"  # legal channels to Thailand (Khmer)
TURN_TIMEOUT = 30.0
DEFAULT_MESSAGES = 200
DEFAULT_USERS = [20, 100]
OUT = PROJECT_ROOT / "docs" / "bench" / "telegram.json"


class Unavailable(Exception):
    """The bot apologised instead of answering: Rasa took longer than SAFEMIG_RASA_TIMEOUT."""


def unavailable_prefix() -> str:
    """The first line of the bot's Khmer 'cannot answer now' text, as sent (HTML-escaped)."""
    from safemig.i18n import Catalogs
    from safemig.render import Renderer

    settings = load_settings()
    text = Renderer(settings.project_root, Catalogs(settings.locales_dir)).render(
        "fe_unavailable", "km", {})["text"]
    return html.escape(str(text), quote=False).split("\n")[0]


UNAVAILABLE = unavailable_prefix()


async def wait_replies(client: httpx.AsyncClient, session: str, count: int,
                       deadline: float) -> list[float]:
    """Arrival times (perf_counter) of the next `count` sendMessage calls in `session`."""
    times: list[float] = []
    while len(times) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"{len(times)}/{count} replies")
        wait = min(left, 10.0)
        answer = await client.get("/api/v1/test/responses/wait",
                                  params={"session_id": session, "timeout": wait},
                                  timeout=wait + 5)
        answer.raise_for_status()
        record = answer.json().get("response")
        if record and record.get("method") == "sendMessage":
            if str(record.get("text", "")).startswith(UNAVAILABLE):
                raise Unavailable
            times.append(time.perf_counter())
    return times


async def turn(client: httpx.AsyncClient, emulator: Emulator, chat: Chat,
               replies: int) -> tuple[float, float]:
    """Send MESSAGE as `chat`; seconds to the first and to the last reply."""
    deadline = time.monotonic() + TURN_TIMEOUT
    waiter = asyncio.create_task(wait_replies(client, chat.session, replies, deadline))
    try:
        await asyncio.sleep(0)  # the long-poll is issued before the update goes out
        started = time.perf_counter()
        sent = await client.post("/api/v1/test/send_update",
                                 params={"bot_token": emulator.token, "session_id": chat.session},
                                 json=update_body(chat.chat_id, text=MESSAGE))
        if sent.status_code != 200 or sent.json().get("delivery", {}).get("status_code") != 200:
            raise RuntimeError(f"delivery failed: {sent.status_code} {sent.text[:300]}")
        times = await waiter
    finally:
        if not waiter.done():
            waiter.cancel()
        elif not waiter.cancelled():
            waiter.exception()  # retrieved: reported through the turn's own outcome
    return times[0] - started, times[-1] - started


async def prepare(rig: Rig, users: int) -> tuple[list[Chat], list[str]]:
    """Make the users, set their language by writing Khmer, learn the answer (its messages)."""
    chats = [rig.new_chat() for _ in range(users)]
    for chat in chats:
        chat.send(MESSAGE)  # the first Khmer message also switches the language
    for chat in chats:  # a first reply each (the others land during the check below)
        chat.replies(quiet=0.0)
    chats[0].replies(at_least=0, quiet=1.0)  # the checking user's late replies are not counted
    answers = set()
    for _ in range(3):
        chats[0].send(MESSAGE)
        answers.add(tuple(text_of(m)[:60] for m in chats[0].replies(quiet=1.0)))
    if len(answers) != 1:
        raise RuntimeError(f"the answer varies during warm-up: {sorted(answers)}")
    async with rig.emulator.async_client() as client:
        for chat in chats:  # empty the sessions: the long-poll pops from the front
            (await client.post("/api/v1/test/reset",
                               params={"session_id": chat.session})).raise_for_status()
    return chats, list(answers.pop())


@dataclass
class Tally:
    """Reply latencies and failures of many turns, and the figures they give."""

    first: list[float] = field(default_factory=list)
    last: list[float] = field(default_factory=list)
    failed: dict[str, int] = field(default_factory=lambda: {
        "unavailable": 0, "timeout": 0, "not_delivered": 0, "emulator_error": 0})
    reasons: Counter[str] = field(default_factory=Counter)

    async def turn(self, client: httpx.AsyncClient, rig: Rig, chat: Chat, replies: int) -> None:
        try:
            a, b = await turn(client, rig.emulator, chat, replies)
        except Unavailable:
            self.failed["unavailable"] += 1
            return
        except TimeoutError:
            self.failed["timeout"] += 1  # no full answer within TURN_TIMEOUT
            return
        except RuntimeError as exc:
            self.failed["not_delivered"] += 1  # the emulator could not hand it to the bot
            self.reasons[str(exc)[:120]] += 1
            return
        except httpx.HTTPError:
            self.failed["emulator_error"] += 1  # the emulator dropped our own connection
            return
        self.first.append(a)
        self.last.append(b)

    def result(self, total: int, wall: float) -> dict[str, Any]:
        figures = summary(self.first, self.last, self.failed, total)
        figures.update(wall_s=round(wall, 3), messages_per_s=round(len(self.last) / wall, 2),
                       delivery_failures=dict(self.reasons.most_common(3)))
        return figures


async def sequential(rig: Rig, chats: list[Chat], replies: int, total: int) -> dict[str, Any]:
    """`total` turns one after another, rotating through the users (no flood limit hit)."""
    tally = Tally()
    async with rig.emulator.async_client() as client:
        started = time.perf_counter()
        for i in range(total):
            await tally.turn(client, rig, chats[i % len(chats)], replies)
        wall = time.perf_counter() - started
    return tally.result(total, wall)


async def concurrent(rig: Rig, chats: list[Chat], replies: int, per_user: int) -> dict[str, Any]:
    """Every user at once, each sending `per_user` messages back to back (waiting for answers)."""
    tally = Tally()

    async def user(chat: Chat, client: httpx.AsyncClient) -> None:
        for _ in range(per_user):
            await tally.turn(client, rig, chat, replies)

    # one long-poll and one send per user at most; waiting for a free connection is not an error
    limits = httpx.Limits(max_connections=2 * len(chats) + 10)
    async with httpx.AsyncClient(base_url=rig.emulator.url, trust_env=False,
                                 timeout=httpx.Timeout(30, pool=None),
                                 limits=limits, headers={
                                     "Authorization": f"Bearer {rig.emulator.api_key}"}) as c:
        started = time.perf_counter()
        await asyncio.gather(*(user(chat, c) for chat in chats))
        wall = time.perf_counter() - started
    return tally.result(per_user * len(chats), wall)


def summary(first: list[float], last: list[float], failed: dict[str, int],
            total: int) -> dict[str, Any]:
    """Nearest-rank percentiles, as in the other benches; None where nothing was answered."""
    def ms(values: list[float], q: float) -> float | None:
        return round(percentile(values, q) * 1000, 1) if values else None

    return {
        "messages": total, "answered": len(last), **failed,
        "first_reply_p50_ms": ms(first, 0.5), "first_reply_p95_ms": ms(first, 0.95),
        "last_reply_p50_ms": ms(last, 0.5), "last_reply_p95_ms": ms(last, 0.95),
        "last_reply_mean_ms": round(statistics.fmean(last) * 1000, 1) if last else None,
        "last_reply_max_ms": ms(last, 1.0),
    }


def table(result: dict[str, Any]) -> str:
    def row(label: str, run: dict[str, Any]) -> str:
        return (f"| {label} | {run['messages']} | {run['answered']} "
                f"| {run['unavailable']} / {run['timeout']} / "
                f"{run['not_delivered'] + run['emulator_error']} "
                f"| {run['first_reply_p50_ms']} / {run['first_reply_p95_ms']} "
                f"| {run['last_reply_p50_ms']} / {run['last_reply_p95_ms']} "
                f"| {run['messages_per_s']} msg/s ({run['wall_s']} s) |")

    rows = [
        "| behind the front end | run | messages | answered "
        "| 'try later' / no answer in 30 s / emulator failed "
        "| first reply p50 / p95 (ms) "
        "| full answer p50 / p95 (ms) | throughput |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, runs in (("ours", result), ("stock Rasa", result.get("stock"))):
        if runs:
            rows.append(row(f"{name} | one message at a time", runs["sequential"]))
            rows += [row(f"{name} | {run['users']} users at once", run)
                     for run in runs["concurrent"]]
    return "\n".join(rows)


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in ("python-telegram-bot", "rasa", "tornado"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "?"
    dist = next((E2E_VENV / "lib").glob("python3*/site-packages/telemelya-*.dist-info"), None)
    found["telemelya"] = dist.name.removesuffix(".dist-info").split("-")[1] if dist else "?"
    return found


def first_answer_seconds(rig: Rig) -> float:
    """From launching the stack until the first message's answer is back (the rig sends it as
    soon as the bot has registered its webhook)."""
    chat = rig.new_chat()
    chat.send(MESSAGE)
    chat.replies(quiet=0.0)
    return round(time.monotonic() - rig.launched, 1)


async def measure(rig: Rig, messages: int, loads: list[int]) -> dict[str, Any]:
    cold = first_answer_seconds(rig)
    started = time.perf_counter()
    chats, answer = await prepare(rig, max(loads))
    replies = len(answer)
    print(f"warm-up done in {time.perf_counter() - started:.1f}s; {replies} replies per turn",
          flush=True)
    seq = await sequential(rig, chats, replies, messages)
    con = [{"users": users, **await concurrent(rig, chats[:users], replies,
                                               max(1, messages // users))}
           for users in loads]
    return {"first_answer_s": cold, "replies_per_turn": replies, "answer_starts": answer,
            "sequential": seq, "concurrent": con}


def measure_front_end(messages: int, loads: list[int],
                      rasa_port: int | None = None) -> dict[str, Any]:
    """The rig with our whole stack, or only our front end before the Rasa at `rasa_port`."""
    with tempfile.TemporaryDirectory(prefix="safemig-bench-") as tmp, \
            running_rig(Path(tmp), rasa_port=rasa_port) as rig:
        return asyncio.run(measure(rig, messages, loads))


def stock_anchor(rasa_port: int) -> dict[str, Any]:
    """The same runs with stock Rasa behind our front end (bench/turns.py starts that Rasa);
    half the messages per run, as stock Rasa answers them at about half the rate (the bench's
    10-minute budget)."""
    return measure_front_end(DEFAULT_MESSAGES // 2, DEFAULT_USERS, rasa_port)


def main(argv: list[str] | None = None, anchor: dict[str, Any] | None = None) -> int:
    """Measure our stack; `anchor` (stock Rasa's figures from `stock_anchor`) is stored beside."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=DEFAULT_MESSAGES,
                        help="turns per run (max 1000)")
    parser.add_argument("--users", default=",".join(map(str, DEFAULT_USERS)),
                        help="simulated users at once, one run per number (max 100)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    messages = min(max(args.messages, 1), 1000)
    loads = [min(max(int(n), 1), 100) for n in args.users.split(",")]
    problem = missing_requirements()
    if problem:
        print(f"cannot run: {problem}", file=sys.stderr)
        return 2
    measured = measure_front_end(messages, loads)
    result = {
        "what": "Telegram message in -> bot reply out, through the telemelya Bot API emulator",
        "message": MESSAGE,
        "parameters": {"messages": messages, "users": loads,
                       "concurrent_messages_per_user": [max(1, messages // n) for n in loads],
                       "turn_timeout_s": TURN_TIMEOUT,
                       "rasa_timeout_s": load_settings().rasa_timeout},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "versions": versions(),
        "date": time.strftime("%Y-%m-%d"),
        **measured,
        "stock": anchor,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    print(table(result))
    print(f"\nwritten to {args.out}")
    # 'Try later' answers under load are a result, not a bench failure; lost turns are.
    lost = measured["sequential"]["timeout"] + sum(r["timeout"] for r in measured["concurrent"])
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
