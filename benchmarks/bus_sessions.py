"""What sessions on the bus cost while nobody watches them: CPU of a server and of Redis.

Run ``python -m benchmarks.bus_sessions`` from the repository root; it prints the figures
(docs/architecture.md "Sessions and the bus" quotes them).

Method: a ``redis-server`` on a free port (no persistence) and ``biomock serve`` with
``BIOMOCK_BUS`` in subprocesses. The CPU time (utime + stime, ``/proc/PID/stat``) of each
is read over ``--seconds`` with no session, then with ``--sessions`` sessions running
unwatched (one subject, speed 1: their one process generates them, as on the bus a
session's leader does while it exists and its clock runs), then with as many paused.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
import httpx

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not become ready")


def measure(pids: dict[str, int], seconds: float) -> dict[str, float]:
    """Each process's share of one core over ``seconds``, in %."""
    before = {name: cpu_s(pid) for name, pid in pids.items()}
    time.sleep(seconds)
    return {name: 100 * (cpu_s(pid) - before[name]) / seconds for name, pid in pids.items()}


@click.command()
@click.option("--sessions", default=50, show_default=True)
@click.option("--seconds", default=10.0, show_default=True)
def main(sessions: int, seconds: float) -> None:
    redis_port, port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as scratch:
        redis = subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--save", "", "--dir", scratch],
            stdout=subprocess.DEVNULL,
        )
        env = {
            **os.environ,
            "BIOMOCK_BUS": f"redis://127.0.0.1:{redis_port}/0",
            "BIOMOCK_PORT": str(port),
            "BIOMOCK_SUBJECTS": "1",
            "BIOMOCK_MAX_SESSIONS": str(2 * sessions),
            "BIOMOCK_LOG_LEVEL": "WARNING",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "biomock", "serve", "--host", "127.0.0.1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url)
            pids = {"biomock": server.pid, "redis": redis.pid}
            time.sleep(2)
            rows = [("no session", measure(pids, seconds))]
            ids = []
            for _ in range(sessions):
                response = httpx.post(f"{url}/api/sessions", json={}, timeout=10)
                response.raise_for_status()
                ids.append(response.json()["id"])
            time.sleep(2)
            rows.append((f"{sessions} running, unwatched", measure(pids, seconds)))
            for session in ids:
                httpx.post(
                    f"{url}/api/clock", params={"session": session}, json={"paused": True}
                ).raise_for_status()
            time.sleep(2)
            rows.append((f"{sessions} paused", measure(pids, seconds)))
        finally:
            server.terminate()
            server.wait(timeout=20)
            redis.terminate()
            redis.wait(timeout=10)
    print(f"| {'case':<28} | biomock CPU | Redis CPU |")
    print(f"|{'-' * 30}|-------------|-----------|")
    for name, cpu in rows:
        print(f"| {name:<28} | {cpu['biomock']:>9.2f} % | {cpu['redis']:>7.2f} % |")


if __name__ == "__main__":
    main()
