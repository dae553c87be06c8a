"""The supervisor: ordered, health-gated start; a killed child comes back; all stop together."""

import asyncio
import os
import signal
import sys

import httpx
import pytest
from conftest import free_port

from safemig.supervisor import Service, Supervisor


def http_service(name: str, port: int) -> Service:
    return Service(
        name=name,
        argv=[sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        health_url=f"http://127.0.0.1:{port}/",
        ready_timeout=20,
    )


async def wait_until(predicate, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.1)
    return False


async def test_killed_child_is_restarted_and_healthy_again() -> None:
    port = free_port()
    starts: list[int] = []
    svc = http_service("web", port)
    svc.before_start = lambda: starts.append(svc.restarts)  # e.g. clearing Rasa's stale locks
    sup = Supervisor([svc], max_backoff=0.5)
    await sup.start()
    try:
        first = svc.process
        assert first is not None
        os.killpg(first.pid, signal.SIGKILL)
        assert await wait_until(lambda: svc.process is not first and svc.restarts == 1)
        assert starts == [0, 1]  # before the first start and before the restart
        async with httpx.AsyncClient() as client:
            for _ in range(100):
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
            else:
                pytest.fail("restarted service never answered")
    finally:
        await sup.stop()
    assert svc.process is not None and svc.process.returncode is not None


async def test_services_start_in_order_and_stop_together() -> None:
    a, b = http_service("a", free_port()), http_service("b", free_port())
    sup = Supervisor([a, b])
    await sup.start()
    assert a.process and b.process
    assert a.process.returncode is None and b.process.returncode is None
    await sup.stop()
    assert a.process.returncode is not None and b.process.returncode is not None


async def test_a_service_that_never_gets_healthy_fails_start_and_cleans_up() -> None:
    bad = Service(name="bad", argv=[sys.executable, "-c", "import time; time.sleep(30)"],
                  health_url=f"http://127.0.0.1:{free_port()}/", ready_timeout=1.5)
    sup = Supervisor([bad])
    with pytest.raises(RuntimeError, match="bad did not become healthy"):
        await sup.start()
    assert bad.process is not None and bad.process.returncode is not None


async def test_start_with_next_starts_both_at_once_and_still_requires_both_healthy() -> None:
    slow = Service(name="slow", argv=[sys.executable, "-c", "import time; time.sleep(30)"],
                   health_url=f"http://127.0.0.1:{free_port()}/", ready_timeout=1.5,
                   start_with_next=True)
    web = http_service("web", free_port())
    sup = Supervisor([slow, web])
    with pytest.raises(RuntimeError, match="slow did not become healthy"):
        await sup.start()
    # web was started without waiting for slow, and both were stopped when slow failed
    assert web.process is not None and web.process.returncode is not None
    assert slow.process is not None and slow.process.returncode is not None


STARTING = """
import asyncio, sys
from safemig.supervisor import Service, Supervisor

async def main() -> None:
    sup = Supervisor([
        Service("sleeper", [sys.executable, "-c", "import time; time.sleep(600)"],
                start_with_next=True),
        Service("slow", [sys.executable, "-c", "import time; time.sleep(600)"],
                health_url="http://127.0.0.1:{port}/", ready_timeout=600),
    ])
    sup.catch_signals()
    started = await sup.start()
    print("started" if started else "stopped while starting", flush=True)

asyncio.run(main())
"""


async def test_a_signal_during_start_up_stops_the_children_too() -> None:
    """SIGTERM while Rasa still loads (systemd stop, Ctrl-C) used to kill only the
    supervisor, leaving Rasa, the action server and the front end running on their ports."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", STARTING.format(port=free_port()),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    children: list[int] = []

    def both_started() -> bool:
        found = os.popen(f"pgrep -P {process.pid}").read().split()
        children[:] = [int(pid) for pid in found]
        return len(children) == 2

    assert await wait_until(both_started)
    process.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 0, output.decode()
    assert b"stopped while starting" in output
    for pid in children:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
