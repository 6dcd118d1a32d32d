"""Real ``biomock serve`` processes on one Redis: a leader killed mid-stream, and workers.

Process death and signals cannot run on a virtual clock: real time, bounded to seconds,
with a one-second lease.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import trio
from httpx_sse import aconnect_sse

from tests.bus.helpers import is_leader, stats, wait_for

LEASE_S = 1.0


@asynccontextmanager
async def biomock_process(
    tmp_path: Path, name: str, settings: dict[str, str]
) -> AsyncIterator[tuple[trio.Process, str]]:
    """``python -m biomock serve`` on 127.0.0.1, port 0; yields it and its URL, then kills it."""
    env = {
        **os.environ,
        "BIOMOCK_PORT": "0",
        "BIOMOCK_SEED": "7",
        "BIOMOCK_SPEED": "10",
        "BIOMOCK_BUS_LEASE_S": str(LEASE_S),
        **settings,
    }
    log_path = tmp_path / f"{name}.log"
    with log_path.open("wb") as log:
        process = await trio.lowlevel.open_process(
            [sys.executable, "-m", "biomock", "serve", "--host", "127.0.0.1"],
            env=env,
            stderr=log,
            stdout=subprocess.DEVNULL,
        )
    try:
        with trio.fail_after(15):
            while (match := re.search(rb"Running on (http://\S+)", log_path.read_bytes())) is None:
                assert process.poll() is None, log_path.read_text()
                await trio.sleep(0.05)
        yield process, match.group(1).decode()
    finally:
        if process.poll() is None:
            process.kill()
        with trio.move_on_after(5) as scope:
            scope.shield = True
            await process.wait()


async def test_a_killed_leader_is_replaced_within_the_lease_and_ids_go_on(
    bus_url: str, tmp_path: Path
) -> None:
    received: list[int] = []
    with trio.fail_after(40):
        async with biomock_process(tmp_path, "a", {"BIOMOCK_BUS": bus_url}) as (first, url_a):
            async with httpx.AsyncClient(base_url=url_a, timeout=5) as a:
                await wait_for(lambda: is_leader(a), within_s=10)
            async with biomock_process(tmp_path, "b", {"BIOMOCK_BUS": bus_url}) as (_, url_b):
                async with httpx.AsyncClient(base_url=url_b, timeout=None) as b:
                    await wait_for(lambda: _ready(b), within_s=10)
                    assert not await is_leader(b)
                    killed_at: list[float] = []
                    resumed_at: list[float] = []
                    mark = 0
                    async with aconnect_sse(b, "GET", "/api/stream") as es:
                        async for event in es.aiter_sse():
                            if not event.data:
                                continue
                            received.append(int(event.id))
                            if len(received) == 10:
                                first.send_signal(signal.SIGKILL)  # no goodbye, no release
                                await first.wait()
                                killed_at.append(trio.current_time())
                                mark = received[-1]
                            elif killed_at and received[-1] > mark + 5:  # a few ticks more
                                resumed_at.append(trio.current_time())
                                break
                    after = (await stats(b))["bus"]
    assert received == sorted(set(received)), "an id went backwards or came twice"
    assert after["leader"] is True
    assert after["failovers"] == 1
    # Taken over within the lease, plus the follower's retry period (a third of it),
    # five ticks of 0.1 s and slack for a busy machine.
    assert resumed_at[0] - killed_at[0] < LEASE_S + 2.0


async def _ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200


def test_more_than_one_worker_without_a_bus_refuses_to_start() -> None:
    env = {**os.environ, "BIOMOCK_WORKERS": "2", "BIOMOCK_BUS": ""}
    done = subprocess.run(
        [sys.executable, "-m", "biomock", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "BIOMOCK_BUS" in lines[0] and "2 workers" in lines[0]


async def test_two_workers_on_one_port_serve_one_stream(bus_url: str, tmp_path: Path) -> None:
    settings = {"BIOMOCK_BUS": bus_url, "BIOMOCK_WORKERS": "2"}
    with trio.fail_after(30):
        async with biomock_process(tmp_path, "workers", settings) as (process, url):
            leaders: set[bool] = set()
            async with httpx.AsyncClient(base_url=url, timeout=5) as client:
                await wait_for(lambda: _ready(client), within_s=10)
                # Each new connection may land on either worker; both answer alike.
                for _ in range(100):
                    async with httpx.AsyncClient(base_url=url, timeout=5) as fresh:
                        body = await stats(fresh)
                        leaders.add(body["bus"]["leader"])
                    if len(leaders) == 2:
                        break
            process.send_signal(signal.SIGTERM)
            with trio.fail_after(15):
                await process.wait()
    assert leaders == {True, False}, "both workers answer, exactly one generates"
    assert process.returncode == 0


async def test_a_leader_frozen_past_its_lease_cannot_append_when_it_wakes(
    bus_url: str, tmp_path: Path
) -> None:
    received: list[int] = []
    with trio.fail_after(40):
        async with biomock_process(tmp_path, "a", {"BIOMOCK_BUS": bus_url}) as (old, url_a):
            async with httpx.AsyncClient(base_url=url_a, timeout=5) as a:
                await wait_for(lambda: is_leader(a), within_s=10)
                async with biomock_process(tmp_path, "b", {"BIOMOCK_BUS": bus_url}) as (_, url_b):
                    async with httpx.AsyncClient(base_url=url_b, timeout=None) as b:
                        await wait_for(lambda: _ready(b), within_s=10)
                        async with aconnect_sse(b, "GET", "/api/stream") as es:
                            events = es.aiter_sse()
                            old.send_signal(signal.SIGSTOP)  # a GC pause, a frozen VM
                            try:
                                await wait_for(lambda: is_leader(b), within_s=LEASE_S + 3)
                            finally:
                                old.send_signal(signal.SIGCONT)
                            # The old leader wakes with a generator mid-tick and a lease
                            # it believes it holds: its next append must be refused.
                            await wait_for(lambda: _not_leader(a), within_s=5)
                            async for event in events:
                                if event.data:
                                    received.append(int(event.id))
                                    if len(received) == 30:
                                        break
                        assert await is_leader(b)
    assert received == sorted(set(received)), "an id went backwards or came twice"
    assert received == list(range(received[0], received[0] + 30))


async def _not_leader(client: httpx.AsyncClient) -> bool:
    return not await is_leader(client)
