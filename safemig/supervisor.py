"""Start the bot's processes in order, wait until each is healthy, restart any that crash.

Why our own (about 150 lines) rather than a library: honcho does not restart or health-check,
supervisord and circus run as daemons with their own config files and (circus) pull in
ZeroMQ; we need ordered, health-gated start-up inside one foreground command with one clean
log, which asyncio's subprocess support gives directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

log = logging.getLogger("safemig.supervisor")

# Lines from Rasa, TensorFlow and friends that say nothing to an operator.
NOISE = re.compile(
    r"DeprecationWarning|FutureWarning|UserWarning|warnings\.warn|tensorflow|TensorFlow|"
    r"oneDNN|cuda|CUDA|tf\.|np\.|SQLAlchemy|MovedIn20Warning|pkg_resources|declare_namespace|"
    r"^\s*$|^\s+(from|import|return|self\.|_|warnings)|sanic\.root|Sanic|Goin' Fast|"
    r"rasa\.core\.processor.*Tracker|Starting worker|^\s*\^|/site-packages/|LooseVersion|^\s+\)\.|"
    r"Registered function for"
)

QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "PYTHONWARNINGS": "ignore",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "LOG_LEVEL_LIBRARIES": "ERROR",
    "LOG_LEVEL_MATPLOTLIB": "ERROR",
    "RASA_TELEMETRY_ENABLED": "false",
    "SANIC_HOST": "127.0.0.1",
}


@dataclass
class Service:
    """One supervised process and how to tell it is ready."""

    name: str
    argv: Sequence[str]
    health_url: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    ready_timeout: float = 180.0
    settle_seconds: float = 1.0
    # Start the next service right away instead of after this one is healthy (it only needs
    # this one later); start() still returns only when both are healthy.
    start_with_next: bool = False
    # Run before every start, restarts included (e.g. forget state the last run left behind).
    before_start: Callable[[], None] | None = None
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0


class Supervisor:
    """Runs services in order; restarts crashed ones with backoff; stops all on request."""

    def __init__(self, services: Sequence[Service], max_backoff: float = 30.0,
                 show_noise: bool = False) -> None:
        self.services = list(services)
        self.max_backoff = max_backoff
        self.show_noise = show_noise
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def _spawn(self, svc: Service) -> None:
        env = {**os.environ, **QUIET_ENV, **svc.env}
        if svc.before_start is not None:
            svc.before_start()
        svc.process = await asyncio.create_subprocess_exec(
            *svc.argv,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        log.info("%s started (pid %s)", svc.name, svc.process.pid)
        self._tasks.append(asyncio.create_task(self._pipe(svc, svc.process)))

    async def _pipe(self, svc: Service, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            line = raw.decode("utf-8", "replace").rstrip()
            if self.show_noise or not NOISE.search(line):
                print(f"[{svc.name}] {line}", flush=True)

    async def _healthy(self, svc: Service) -> bool:
        deadline = time.monotonic() + svc.ready_timeout
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if svc.process is None or svc.process.returncode is not None:
                    return False
                if svc.health_url is None:
                    await asyncio.sleep(svc.settle_seconds)
                    return svc.process.returncode is None
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(svc.health_url)).status_code == 200:
                        return True
                await asyncio.sleep(0.25)
        return False

    async def start(self) -> bool:
        """Start every service in order; each must be healthy before the next starts, except
        that a `start_with_next` service starts together with the one after it.

        False when asked to stop (a signal, see `catch_signals`) before all were healthy:
        everything started so far is stopped then, never left running without us.
        """
        group: list[Service] = []
        for svc in self.services:
            if self._stopping.is_set():
                break
            await self._spawn(svc)
            group.append(svc)
            if svc.start_with_next and svc is not self.services[-1]:
                continue
            started = time.monotonic()
            healthy = await self._unless_stopped(
                asyncio.gather(*(self._healthy(member) for member in group)))
            if healthy is None:
                break
            for member, ok in zip(group, healthy):
                if not ok:
                    await self.stop()
                    raise RuntimeError(f"{member.name} did not become healthy")
                log.info("%s healthy after %.1f s", member.name, time.monotonic() - started)
            group = []
        if self._stopping.is_set():
            log.info("stop requested during start-up")
            await self.stop()
            return False
        self._tasks.append(asyncio.create_task(self._watch()))
        return True

    async def _unless_stopped(self, waiting: asyncio.Future[list[bool]]) -> list[bool] | None:
        """The result of `waiting`, or None (and `waiting` cancelled) if a stop comes first."""
        stop = asyncio.ensure_future(self._stopping.wait())
        done, _ = await asyncio.wait({waiting, stop}, return_when=asyncio.FIRST_COMPLETED)
        if waiting in done:
            stop.cancel()
            return waiting.result()
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        return None

    async def _watch(self) -> None:
        while not self._stopping.is_set():
            for svc in self.services:
                proc = svc.process
                if proc is not None and proc.returncode is not None and not self._stopping.is_set():
                    await self._restart(svc)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=0.5)

    async def _restart(self, svc: Service) -> None:
        code = svc.process.returncode if svc.process else None
        delay = min(self.max_backoff, 2.0 ** min(svc.restarts, 5))
        svc.restarts += 1
        log.warning("%s exited (code %s); restart %d in %.0f s", svc.name, code,
                    svc.restarts, delay)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=delay)
        if self._stopping.is_set():
            return
        await self._spawn(svc)
        if await self._healthy(svc):
            log.info("%s healthy again", svc.name)

    async def stop(self, grace: float = 10.0) -> None:
        """Stop all services, newest first: SIGTERM, then SIGKILL after `grace` seconds."""
        self._stopping.set()
        for svc in reversed(self.services):
            proc = svc.process
            if proc is None or proc.returncode is not None:
                continue
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), timeout=grace)
            except asyncio.TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
            log.info("%s stopped", svc.name)
        for task in self._tasks:
            task.cancel()

    def catch_signals(self) -> None:
        """From now on Ctrl-C and SIGTERM stop every service (start-up included) instead of
        killing only this process, which would leave its children running."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stopping.set)

    def release_signals(self) -> None:
        """Back to Python's own handling (the console chat reads Ctrl-C itself)."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)

    async def wait_for_signal(self) -> None:
        """Block until Ctrl-C or SIGTERM, then stop everything."""
        self.catch_signals()
        await self._stopping.wait()
        await self.stop()
