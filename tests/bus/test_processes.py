"""Real ``biomock serve`` processes on one Redis: a leader killed mid-stream, and workers.

Process death and signals cannot run on a virtual clock: real time, bounded to seconds,
with a one-second lease.
"""

from __future__ import annotations

import contextlib
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
    tmp_path: Path, name: str, settings: dict[str, str], *, own_group: bool = False
) -> AsyncIterator[tuple[trio.Process, str]]:
    """``python -m biomock serve`` on 127.0.0.1, port 0; yields it and its URL, then kills it
    and its workers. ``own_group``: in a process group of its own, as in a terminal."""
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
            start_new_session=own_group,
        )
    workers: list[int] = []
    try:
        with trio.fail_after(15):
            while (match := re.search(rb"Running on (http://\S+)", log_path.read_bytes())) is None:
                assert process.poll() is None, log_path.read_text()
                await trio.sleep(0.05)
        workers.extend(children(process.pid))
        yield process, match.group(1).decode()
    finally:
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if process.poll() is None:
            process.kill()
        with trio.move_on_after(5) as scope:
            scope.shield = True
            await process.wait()


async def test_a_killed_leader_is_replaced_within_the_lease_and_ids_go_on(
    bus_url: str, tmp_path: Path
) -> None:
    with trio.fail_after(40):
        async with biomock_process(tmp_path, "a", {"BIOMOCK_BUS": bus_url}) as (first, url_a):
            async with httpx.AsyncClient(base_url=url_a, timeout=5) as a:
                await wait_for(lambda: is_leader(a), within_s=10)
            async with biomock_process(tmp_path, "b", {"BIOMOCK_BUS": bus_url}) as (_, url_b):
                async with httpx.AsyncClient(base_url=url_b, timeout=None) as b:
                    await wait_for(lambda: _ready(b), within_s=10)
                    assert not await is_leader(b)
                    received, took_s = await kill_mid_stream(b, first, after=10)
                    after = (await stats(b))["bus"]
    assert received == sorted(set(received)), "an id went backwards or came twice"
    assert after["leader"] is True
    assert after["failovers"] == 1
    # Taken over within the lease, plus the follower's retry period (a third of it),
    # five ticks of 0.1 s and generous slack for a busy machine.
    assert took_s < LEASE_S + 5.0


async def kill_mid_stream(
    client: httpx.AsyncClient,
    victim: trio.Process,
    *,
    after: int,
    params: dict[str, str] | None = None,
) -> tuple[list[int], float]:
    """Stream from ``client``, SIGKILL ``victim`` after ``after`` samples, and read on
    until five ids more came; the ids received, and the seconds from the kill to then."""
    received: list[int] = []
    killed_at = mark = 0
    async with aconnect_sse(client, "GET", "/api/stream", params=params or {}) as es:
        async for event in es.aiter_sse():
            if not event.data:
                continue
            received.append(int(event.id))
            if len(received) == after:
                victim.send_signal(signal.SIGKILL)  # no goodbye, no release
                await victim.wait()
                killed_at, mark = trio.current_time(), received[-1]
            elif killed_at and received[-1] > mark + 5:  # a few ticks more
                return received, trio.current_time() - killed_at
    raise AssertionError("the stream ended")


def children(pid: int) -> list[int]:
    """The ids of ``pid``'s child processes (Linux)."""
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in text.split()]


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
                # A session, created on one worker, is served alike by both.
                created = await client.post("/api/sessions", json={"subjects": ["alice"]})
                assert created.status_code == 201, created.text
                session = created.json()["id"]
                seen: list[list[int]] = []
                for _ in range(6):
                    async with httpx.AsyncClient(base_url=url, timeout=5) as fresh:
                        seen.append(await _session_ids(fresh, session, 3))
            process.send_signal(signal.SIGTERM)
            with trio.fail_after(15):
                await process.wait()
    assert leaders == {True, False}, "both workers answer, exactly one generates"
    assert all(ids == seen[0][: len(ids)] or seen[0] == ids[: len(seen[0])] for ids in seen)
    assert process.returncode == 0


async def _session_ids(client: httpx.AsyncClient, session: str, n: int) -> list[int]:
    """The first ``n`` ids of the session's stream, from its start (``history``)."""
    ids: list[int] = []
    params = {"session": session, "history": "100"}
    async with aconnect_sse(client, "GET", "/api/stream", params=params) as es:
        assert es.response.status_code == 200
        async for event in es.aiter_sse():
            if event.data:
                ids.append(int(event.id))
                if len(ids) == n:
                    break
    return ids


async def test_a_sessions_generator_fails_over_when_its_leader_is_killed(
    bus_url: str, tmp_path: Path
) -> None:
    with trio.fail_after(40):
        async with biomock_process(tmp_path, "a", {"BIOMOCK_BUS": bus_url}) as (first, url_a):
            async with httpx.AsyncClient(base_url=url_a, timeout=5) as a:
                await wait_for(lambda: _ready(a), within_s=10)
                created = await a.post("/api/sessions", json={"subjects": ["alice"], "speed": 10})
                assert created.status_code == 201, created.text
                session = created.json()["id"]  # its creator generates it
            async with biomock_process(tmp_path, "b", {"BIOMOCK_BUS": bus_url}) as (_, url_b):
                async with httpx.AsyncClient(base_url=url_b, timeout=None) as b:
                    await wait_for(lambda: _ready(b), within_s=10)
                    params = {"session": session}
                    received, took_s = await kill_mid_stream(b, first, after=5, params=params)
    assert received == sorted(set(received)), "an id went backwards or came twice"
    assert took_s < LEASE_S + 5.0


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


async def test_ctrl_c_ends_the_workers_streams_cleanly(bus_url: str, tmp_path: Path) -> None:
    settings = {"BIOMOCK_BUS": bus_url, "BIOMOCK_WORKERS": "2"}
    received: list[int] = []
    with trio.fail_after(40):
        async with biomock_process(tmp_path, "workers", settings, own_group=True) as (
            process,
            url,
        ):
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                await wait_for(lambda: _ready(client), within_s=10)
                async with aconnect_sse(client, "GET", "/api/stream") as es:
                    # A terminal's Ctrl-C: SIGINT to the whole foreground process group.
                    # The stream must end with the end of its body, not be cut (an
                    # httpx.RemoteProtocolError here).
                    async for event in es.aiter_sse():
                        if event.data:
                            received.append(int(event.id))
                            if len(received) == 3:
                                os.killpg(process.pid, signal.SIGINT)
            with trio.fail_after(20):
                await process.wait()
    assert process.returncode == 0
    assert len(received) >= 3


async def test_a_worker_killed_stops_the_server_with_an_error(bus_url: str, tmp_path: Path) -> None:
    settings = {"BIOMOCK_BUS": bus_url, "BIOMOCK_WORKERS": "2"}
    with trio.fail_after(40):
        async with biomock_process(tmp_path, "workers", settings) as (process, url):
            async with httpx.AsyncClient(base_url=url, timeout=5) as client:
                await wait_for(lambda: _ready(client), within_s=10)
            workers = children(process.pid)
            assert len(workers) == 2
            os.kill(workers[0], signal.SIGKILL)
            with trio.fail_after(20):
                await process.wait()  # the other worker stopped too, gracefully
    assert process.returncode != 0, "an orchestrator restarts a server that exits non-zero"
    log = (tmp_path / "workers.log").read_text()
    assert "exited unexpectedly" in log


async def test_a_process_behind_the_logs_trimming_exits_to_be_restarted(
    bus_url: str, tmp_path: Path
) -> None:
    # A small buffer, so the log (about twice it) is trimmed past a stopped reader soon.
    settings = {"BIOMOCK_BUS": bus_url, "BIOMOCK_BUFFER_SIZE": "20", "BIOMOCK_SPEED": "1000"}
    with trio.fail_after(60):
        async with biomock_process(tmp_path, "a", settings) as (_, url_a):
            async with httpx.AsyncClient(base_url=url_a, timeout=5) as a:
                await wait_for(lambda: is_leader(a), within_s=10)
                async with biomock_process(tmp_path, "b", settings) as (behind, url_b):
                    async with httpx.AsyncClient(base_url=url_b, timeout=5) as b:
                        await wait_for(lambda: _ready(b), within_s=10)
                        stopped_at = int((await stats(b))["buffer"]["newest_id"])
                    behind.send_signal(signal.SIGSTOP)
                    try:  # well past the log's approximate trimming (whole stream nodes)
                        await wait_for(lambda: _newest_above(a, stopped_at + 1000), within_s=30)
                    finally:
                        behind.send_signal(signal.SIGCONT)
                    with trio.fail_after(20):
                        await behind.wait()
    assert behind.returncode == 1, "an orchestrator restarts a process that exits non-zero"
    assert "trimmed before this process read them" in (tmp_path / "b.log").read_text()


async def _newest_above(client: httpx.AsyncClient, floor: int) -> bool:
    return int((await stats(client))["buffer"]["newest_id"]) > floor
