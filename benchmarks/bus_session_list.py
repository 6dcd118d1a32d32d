"""What listing sessions on the bus costs: ``GET /api/sessions`` on a server that did not
create them.

Run ``python -m benchmarks.bus_session_list`` from the repository root; it prints the
figures (docs/architecture.md "Sessions and the bus" quotes them).

Method: a ``redis-server`` on a free port (no persistence) and two ``biomock serve`` with
``BIOMOCK_BUS`` in subprocesses. ``--sessions`` paused sessions are created on the first;
the second lists them ``--lists`` times; each list's wall time is taken, and Redis's
connected clients are counted before and after.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

import click
import httpx

from benchmarks.bus_sessions import free_port, wait_ready


def connected_clients(redis_port: int) -> int:
    reply = subprocess.run(
        ["redis-cli", "-p", str(redis_port), "info", "clients"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in reply.splitlines():
        if line.startswith("connected_clients:"):
            return int(line.split(":")[1])
    raise RuntimeError("no connected_clients in INFO")


@click.command()
@click.option("--sessions", default=50, show_default=True)
@click.option("--lists", default=5, show_default=True)
def main(sessions: int, lists: int) -> None:
    redis_port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        redis = subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--save", "", "--dir", scratch],
            stdout=subprocess.DEVNULL,
        )
        servers, urls = [], []
        try:
            for _ in range(2):
                port = free_port()
                env = {
                    "BIOMOCK_BUS": f"redis://127.0.0.1:{redis_port}/0",
                    "BIOMOCK_PORT": str(port),
                    "BIOMOCK_SUBJECTS": "1",
                    "BIOMOCK_MAX_SESSIONS": str(2 * sessions),
                    "BIOMOCK_LOG_LEVEL": "WARNING",
                }
                servers.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "biomock", "serve", "--host", "127.0.0.1"],
                        env={**os.environ, **env},
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
                urls.append(f"http://127.0.0.1:{port}")
                wait_ready(urls[-1])
            for _ in range(sessions):
                httpx.post(
                    f"{urls[0]}/api/sessions", json={"paused": True}, timeout=10
                ).raise_for_status()
            before = connected_clients(redis_port)
            times = []
            for _ in range(lists):
                started = time.perf_counter()
                response = httpx.get(f"{urls[1]}/api/sessions", timeout=120)
                times.append(time.perf_counter() - started)
                response.raise_for_status()
                assert len(response.json()["items"]) == sessions
            after = connected_clients(redis_port)
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=20)
            redis.terminate()
            redis.wait(timeout=10)
    print(f"{sessions} sessions, listed {lists} times on the other server:")
    print(f"  first list {times[0] * 1000:.0f} ms, median {statistics.median(times) * 1000:.0f} ms")
    print(f"  Redis clients {before} before the lists, {after} after")


if __name__ == "__main__":
    main()
