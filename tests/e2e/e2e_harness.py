"""The end-to-end rig: Redis, moto (S3), the telemelya Bot API emulator, and our whole stack.

Used by tests/e2e/conftest.py and bench/telegram_e2e.py. Everything binds 127.0.0.1 on free
ports; every process is started in its own session and stopped by its own pid.

telemelya (https://pypi.org/project/telemelya/) needs Python >= 3.11, so it runs from its own
virtualenv, `.e2e-venv` (made by scripts/e2e_setup.sh); this module only talks to it over HTTP.

One gap in the emulator: it stores only the `url` of setWebhook and posts updates without the
`X-Telegram-Bot-Api-Secret-Token` header that real Telegram sends. Our bot (correctly) answers
403 to such calls. `SecretHeaderShim` fills the gap: the webhook URL the bot registers points
at the shim, which adds the header and forwards to the bot's webhook port, as Telegram would.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import multiprocessing
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
E2E_VENV = Path(os.environ.get("SAFEMIG_E2E_VENV", ROOT / ".e2e-venv"))
LOCAL = "127.0.0.1"
# Our child processes must never reach a proxy (or anything) outside this machine.
NO_PROXY_ENV = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOCAL, 0))
        return int(s.getsockname()[1])


def missing_requirements() -> str | None:
    """Why the e2e rig cannot run here (None when it can)."""
    problems = []
    if shutil.which("redis-server") is None:
        problems.append("redis-server is not installed")
    for tool in ("telemelya-server", "moto_server"):
        if not (E2E_VENV / "bin" / tool).exists():
            problems.append(f"{E2E_VENV}/bin/{tool} is missing")
    if problems:
        return "; ".join(problems) + " (run `bash scripts/e2e_setup.sh`)"
    return None


@dataclass
class Proc:
    """A child process with its log file."""

    name: str
    popen: subprocess.Popen
    log_path: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, grace: float = 20.0) -> None:
        if not self.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)


def spawn(name: str, argv: list[str], workdir: Path, env: dict[str, str] | None = None,
          cwd: Path | None = None) -> Proc:
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        popen = subprocess.Popen(argv, cwd=cwd or workdir, env={**os.environ, **NO_PROXY_ENV,
                                                               **(env or {})},
                                 stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 start_new_session=True)
    return Proc(name, popen, log_path)


def wait_until(proc: Proc, ready: Any, timeout: float, what: str) -> None:
    """Poll `ready()` until true; raise with the process log if it dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{what} exited (code {proc.popen.returncode}):\n{proc.tail()}")
        with contextlib.suppress(httpx.HTTPError, OSError):
            if ready():
                return
        time.sleep(0.2)
    raise RuntimeError(f"{what} not ready after {timeout:.0f}s:\n{proc.tail()}")


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((LOCAL, port)) == 0


def _serve_shim(port: int, target: str, secret: str) -> None:
    """The shim's server loop (in its own process: see SecretHeaderShim)."""
    # One client for every request (httpx clients are thread-safe): building one per request
    # cost more CPU than the bot spent on the message.
    client = httpx.Client(trust_env=False, timeout=10,
                          limits=httpx.Limits(max_keepalive_connections=200))

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                answer = client.post(target + self.path, content=body, headers={
                    "Content-Type": self.headers.get("Content-Type", "application/json"),
                    "X-Telegram-Bot-Api-Secret-Token": secret})
                status, payload = answer.status_code, answer.content
            except httpx.HTTPError:
                status, payload = 502, b"bot unreachable"
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    class Server(http.server.ThreadingHTTPServer):
        # socketserver's listen backlog is 5: with 100 users posting at once the rest of the
        # connections were dropped and retried by the kernel until the emulator gave up (10 s).
        request_queue_size = 1024
        daemon_threads = True

    Server((LOCAL, port), Handler).serve_forever()


class SecretHeaderShim:
    """Forward webhook POSTs to the bot, adding the secret header Telegram would send.

    It runs in its own process: inside the test or bench process its threads competed for the
    GIL with the load generator, and under 100 simulated users the emulator's deliveries timed
    out in the shim, not in the bot.
    """

    def __init__(self, target: str, secret: str) -> None:
        self.port = free_port()
        self.url_base = f"http://{LOCAL}:{self.port}"
        self.process = multiprocessing.get_context("fork").Process(
            target=_serve_shim, args=(self.port, target, secret), daemon=True)

    def start(self) -> None:
        self.process.start()
        deadline = time.monotonic() + 10
        while not _port_open(self.port):
            if time.monotonic() > deadline or not self.process.is_alive():
                raise RuntimeError("the secret-header shim did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(timeout=5)


@dataclass
class Emulator:
    """The telemelya server: its Bot API base URL and its control API."""

    url: str
    api_key: str
    token: str

    @property
    def bot_api_base(self) -> str:
        """What TELEGRAM_BASE_URL should be (PTB appends the token)."""
        return f"{self.url}/bot"

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, trust_env=False, timeout=30,
                            headers={"Authorization": f"Bearer {self.api_key}"})

    def async_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, trust_env=False, timeout=30,
                                 headers={"Authorization": f"Bearer {self.api_key}"})

    def webhook_url(self) -> str:
        with self.client() as c:
            info = c.post(f"/bot{self.token}/getWebhookInfo").json()
        return str(info.get("result", {}).get("url") or "")


def update_body(chat_id: int, *, text: str | None = None, callback_data: str | None = None,
                callback_message_id: int | None = None) -> dict[str, Any]:
    """The control API's send_update request: a private message, or a button press."""
    body: dict[str, Any] = {"chat_id": chat_id,
                            "from_user": {"id": chat_id, "first_name": "E2E"}}
    if callback_data is not None:
        body["callback_data"] = callback_data
        if callback_message_id is not None:
            body["callback_message_id"] = callback_message_id
    else:
        body["text"] = text
    return body


def check_delivery(answer: httpx.Response) -> dict[str, Any]:
    """The send_update answer, failing unless the bot's webhook took the update (HTTP 200)."""
    if answer.status_code != 200:
        raise AssertionError(f"send_update failed: {answer.status_code} {answer.text[:500]}")
    result = dict(answer.json())
    code = result.get("delivery", {}).get("status_code")
    if code != 200:
        raise AssertionError(f"webhook answered {code}: {result.get('delivery')}")
    return result


@dataclass
class Chat:
    """One simulated Telegram user in a private chat, isolated in its own emulator session."""

    emulator: Emulator
    chat_id: int
    session: str = field(default_factory=lambda: secrets.token_hex(8))
    seen: int = 0  # responses already handed out by `replies`

    def _post_update(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.emulator.client() as c:
            return check_delivery(c.post("/api/v1/test/send_update",
                                         params={"bot_token": self.emulator.token,
                                                 "session_id": self.session}, json=body))

    def send(self, text: str) -> dict[str, Any]:
        return self._post_update(update_body(self.chat_id, text=text))

    def press(self, callback_data: str, message_id: int | None = None) -> dict[str, Any]:
        return self._post_update(update_body(self.chat_id, callback_data=callback_data,
                                             callback_message_id=message_id))

    def responses(self) -> list[dict[str, Any]]:
        """Every Bot API call the bot made in this chat, oldest first (not consumed)."""
        with self.emulator.client() as c:
            answer = c.get("/api/v1/test/responses", params={"session_id": self.session})
        answer.raise_for_status()
        return list(answer.json()["responses"])

    def replies(self, *, at_least: int = 1, quiet: float = 1.5,
                timeout: float = 60.0) -> list[dict[str, Any]]:
        """The sendMessage calls since the last call: wait for `at_least`, then for quiet."""
        deadline = time.monotonic() + timeout
        count, changed = -1, time.monotonic()
        while time.monotonic() < deadline:
            calls = self.responses()[self.seen:]
            messages = [c for c in calls if c.get("method") == "sendMessage"]
            if len(calls) != count:
                count, changed = len(calls), time.monotonic()
            if len(messages) >= at_least and time.monotonic() - changed >= quiet:
                self.seen += len(calls)
                return messages
            time.sleep(0.1)
        calls = self.responses()[self.seen:]
        raise AssertionError(f"waited {timeout:.0f}s for {at_least} replies, got: {calls}")


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The inline buttons on a recorded sendMessage (title `text`, `callback_data`)."""
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def text_of(message: dict[str, Any]) -> str:
    # The emulator json-decodes form fields, so a text like "1288" comes back as an int.
    return str(message.get("text", ""))


@dataclass
class Rig:
    """Everything running: the emulator, the shim and our stack."""

    emulator: Emulator
    shim: SecretHeaderShim
    procs: list[Proc]
    workdir: Path
    webhook_port: int
    webhook_path: str
    secret: str
    launched: float = 0.0  # time.monotonic() when the stack (or the front end) was started
    _next_chat: int = 100_000

    def new_chat(self) -> Chat:
        self._next_chat += 1
        return Chat(self.emulator, self._next_chat)

    def stack_log(self) -> str:
        return self.procs[-1].tail(8000)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.shim.stop()


def start_rig(workdir: Path, *, ready_timeout: float = 300.0,
              rasa_port: int | None = None) -> Rig:
    """Start Redis, moto, telemelya, the shim and `safemig run`; return when the bot is up.

    With `rasa_port`, a Rasa server already answers there (the bench's stock-Rasa anchor):
    only the Telegram front end (`python -m bot`) is started, and it talks to that Rasa.
    On failure everything started so far is stopped and RuntimeError carries the logs.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    procs: list[Proc] = []
    shim: SecretHeaderShim | None = None
    try:
        bin_dir = E2E_VENV / "bin"

        redis_port = free_port()
        redis_dir = workdir / "redis"
        redis_dir.mkdir(exist_ok=True)
        redis = spawn("redis", [shutil.which("redis-server") or "redis-server",
                                "--bind", LOCAL, "--port", str(redis_port),
                                "--dir", str(redis_dir), "--save", "", "--appendonly", "no",
                                "--protected-mode", "yes"], workdir)
        procs.append(redis)
        wait_until(redis, lambda: _port_open(redis_port), 30, "redis-server")

        s3_port = free_port()
        moto = spawn("moto", [str(bin_dir / "moto_server"), "-H", LOCAL, "-p", str(s3_port)],
                     workdir)
        procs.append(moto)
        wait_until(moto, lambda: httpx.get(f"http://{LOCAL}:{s3_port}/", trust_env=False,
                                           timeout=2).status_code < 500, 60, "moto_server")

        api_key = secrets.token_urlsafe(16)
        emu_port = free_port()
        emu_dir = workdir / "telemelya"  # its settings also read ./.env: run it where none is
        emu_dir.mkdir(exist_ok=True)
        emulator_env = {
            "MOCK_SERVER_HOST": LOCAL, "MOCK_SERVER_PORT": str(emu_port),
            "MOCK_SERVER_URL": f"http://{LOCAL}:{emu_port}",
            # redis-py's asyncio pool holds 100 connections by default; every waiting
            # long-poll keeps one, so 100 users at once exhausted it (HTTP 500 on send_update).
            "REDIS_URL": f"redis://{LOCAL}:{redis_port}/0?max_connections=1000",
            "MINIO_ENDPOINT": f"{LOCAL}:{s3_port}", "MINIO_ACCESS_KEY": "e2e",
            "MINIO_SECRET_KEY": "e2e-secret", "MINIO_BUCKET": "e2e-media",
            "MINIO_USE_SSL": "false", "AUTH_KEYS": api_key,
        }
        telemelya = spawn("telemelya", [str(bin_dir / "telemelya-server")], emu_dir,
                          env=emulator_env)
        procs.append(telemelya)
        token = f"{secrets.randbelow(10**9) + 10**9}:{secrets.token_urlsafe(27)}"
        emulator = Emulator(f"http://{LOCAL}:{emu_port}", api_key, token)

        def emulator_healthy() -> bool:
            with emulator.client() as c:
                return bool(c.get("/api/v1/test/health", timeout=2).json().get("ok"))

        wait_until(telemelya, emulator_healthy, 60, "telemelya")

        webhook_port, secret = free_port(), secrets.token_urlsafe(24)
        webhook_path = "telegram-" + secrets.token_hex(6)
        shim = SecretHeaderShim(f"http://{LOCAL}:{webhook_port}", secret)
        shim.start()
        data_dir = workdir / "data"
        stack_env = {
            "TELEGRAM_BOT_TOKEN": token,
            "TELEGRAM_BASE_URL": emulator.bot_api_base,
            "TELEGRAM_MODE": "webhook",
            "TELEGRAM_WEBHOOK_URL": f"{shim.url_base}/{webhook_path}",
            "TELEGRAM_WEBHOOK_LISTEN": LOCAL,
            "TELEGRAM_WEBHOOK_PORT": str(webhook_port),
            "TELEGRAM_WEBHOOK_SECRET": secret,
            "SAFEMIG_RASA_PORT": str(rasa_port or free_port()),
            "SAFEMIG_ACTION_PORT": str(free_port()),
            "SAFEMIG_RASA_TOKEN": secrets.token_urlsafe(16),
            "SAFEMIG_DATA_DIR": str(data_dir),
            "SAFEMIG_STAFF_CHAT_ID": "",
            "SAFEMIG_STAFF_USER_IDS": "",
        }
        command = ["bot"] if rasa_port else ["safemig.cli", "run", "--no-train"]
        launched = time.monotonic()
        stack = spawn("stack", [sys.executable, "-m", *command], workdir, env=stack_env,
                      cwd=ROOT)
        procs.append(stack)
        expected = stack_env["TELEGRAM_WEBHOOK_URL"]
        # The bot registers its webhook once Rasa and the action server are healthy.
        wait_until(stack, lambda: emulator.webhook_url() == expected
                   and _port_open(webhook_port), ready_timeout, "safemig run")
        return Rig(emulator, shim, procs, workdir, webhook_port, webhook_path, secret, launched)
    except BaseException:
        for proc in reversed(procs):
            proc.stop()
        if shim is not None:
            shim.stop()
        raise


@contextlib.contextmanager
def running_rig(workdir: Path, rasa_port: int | None = None) -> Iterator[Rig]:
    rig = start_rig(workdir, rasa_port=rasa_port)
    try:
        yield rig
    finally:
        rig.stop()


async def first_replies(client: httpx.AsyncClient, emulator: Emulator, session: str,
                        count: int, timeout: float) -> list[float]:
    """Block on the emulator's long-poll until `count` replies arrived; their arrival times."""
    times: list[float] = []
    deadline = time.monotonic() + timeout
    while len(times) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"{len(times)}/{count} replies after {timeout:.0f}s")
        answer = await client.get("/api/v1/test/responses/wait",
                                  params={"session_id": session, "timeout": min(left, 10)},
                                  timeout=min(left, 10) + 5)
        answer.raise_for_status()
        record = answer.json().get("response")
        if record and record.get("method") == "sendMessage":
            times.append(time.perf_counter())
        await asyncio.sleep(0)
    return times
