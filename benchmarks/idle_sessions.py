"""What idle sessions cost: CPU of a server holding 100 of them, and memory per session.

Run ``python -m benchmarks.idle_sessions`` from the repository root. It prints the figures
and writes them into docs/performance.md between ``<!-- sessions:begin -->`` and
``<!-- sessions:end -->``.

Method:
    - CPU: ``biomock serve`` in a subprocess (the default simulation at speed 1, one
      subject). Its CPU time (utime + stime from ``/proc/PID/stat``) is read over
      ``--seconds`` with no session, then again with 100 idle sessions (50 paused, 50
      running at speed 1 that nobody streams from). Target: the sessions add < 1 % of a
      core.
    - Memory, process: the server's RSS (``/proc/PID/status`` VmRSS) before and after
      creating the 100 sessions, and after stepping each paused one through an hour
      (about 4,000 buffered samples each); the delta / 100.
    - Memory, Python objects: the same in this process with ``tracemalloc`` (the session
      registry and its sessions alone, no server around them).
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import click
import httpx
import trio

from biomock.config import Config
from biomock.filter import Filter
from biomock.formats import FORMATS
from biomock.models import SessionCreate
from biomock.sessions import LocalSessions

DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
BEGIN, END = "<!-- sessions:begin -->", "<!-- sessions:end -->"
SESSIONS = 100
START = "2026-01-01T00:00:00Z"
HOUR_LATER = "2026-01-01T01:00:00Z"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_share(pid: int, seconds: float) -> float:
    began_cpu, began = cpu_s(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_s(pid) - began_cpu) / (time.monotonic() - began)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def measure_server(seconds: float) -> dict[str, Any]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "BIOMOCK_LOG_LEVEL": "warning", "BIOMOCK_SEED": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "biomock", "serve", "--port", str(port)], env=env
    )
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            for _ in range(100):
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            time.sleep(2)  # past start-up
            rss_before = rss_kib(server.pid)
            baseline = cpu_share(server.pid, seconds)
            ids = []
            for i in range(SESSIONS):
                paused = i % 2 == 0
                body = {"seed": i, "subjects": ["alice"], "start": START, "paused": paused}
                ids.append((client.post("/api/sessions", json=body).json()["id"], paused))
            time.sleep(2)
            rss_created = rss_kib(server.pid)
            with_sessions = cpu_share(server.pid, seconds)
            for session, paused in ids:
                if paused:
                    client.post("/api/clock", params={"session": session}, json={"now": HOUR_LATER})
            rss_stepped = rss_kib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "baseline": baseline,
        "with_sessions": with_sessions,
        "rss_created_kib": (rss_created - rss_before) / SESSIONS,
        "rss_stepped_kib": (rss_stepped - rss_created) / (SESSIONS / 2),
    }


def measure_tracemalloc() -> dict[str, float]:
    figures: dict[str, float] = {}

    async def main() -> None:
        sessions = LocalSessions(Config(), wall_clock=lambda: int(time.time() * 1000))
        async with trio.open_nursery() as nursery:
            await nursery.start(sessions.run)
            tracemalloc.start()
            before = tracemalloc.take_snapshot()
            made = [
                await sessions.create(
                    SessionCreate(seed=i, subjects=["alice"], start=START, paused=True), None
                )
                for i in range(SESSIONS)
            ]
            created = tracemalloc.take_snapshot()
            for session in made:  # paused: it runs through the hour it jumps over
                await session.simulation.set_clock(now_ms=session.spec.start_ms + 3_600_000)
            stepped = tracemalloc.take_snapshot()
            tracemalloc.stop()
            figures["created_kib"] = _delta(created, before) / SESSIONS / 1024
            figures["stepped_kib"] = _delta(stepped, created) / SESSIONS / 1024
            figures["samples"] = made[0].simulation.hub.statistics().buffer_size
            nursery.cancel_scope.cancel()

    trio.run(main)
    return figures


def measure_tradeoff() -> dict[str, float]:
    """Lazy against eager: what ticking an unwatched session would cost, and what a
    lazy one pays instead when it is read after an hour of idleness."""
    figures: dict[str, float] = {}

    async def main() -> None:
        sessions = LocalSessions(Config(), wall_clock=lambda: int(time.time() * 1000))
        async with trio.open_nursery() as nursery:
            await nursery.start(sessions.run)
            body = SessionCreate(seed=1, subjects=["alice"], start=START, paused=True)
            ticked = (await sessions.create(body, None)).simulation
            start_ms = ticked.pacer.position_ms if ticked.pacer else 0
            began = time.process_time()
            for second in range(1, 601):  # as the generator would: a batch a second
                await ticked.set_clock(now_ms=start_ms + second * 1000)
            figures["eager_share"] = (time.process_time() - began) / 600
            lazy = (await sessions.create(body, None)).simulation
            began_wall = time.perf_counter()
            await lazy.set_clock(now_ms=start_ms + 3_600_000)
            figures["catch_up_hour_ms"] = (time.perf_counter() - began_wall) * 1000
            nursery.cancel_scope.cancel()

    trio.run(main)
    return figures


def measure_full_buffer() -> dict[str, float]:
    """The worst case of one session: a full buffer (``BIOMOCK_BUFFER_SIZE`` samples),
    then read in every format through history (JSON) and a stream (SSE frames): each
    record keeps every encoding it was read in."""
    figures: dict[str, float] = {}

    async def main() -> None:
        config = Config()
        sessions = LocalSessions(config, wall_clock=lambda: int(time.time() * 1000))
        async with trio.open_nursery() as nursery:
            await nursery.start(sessions.run)
            body = SessionCreate(seed=1, subjects=["alice"], start=START, paused=True)
            tracemalloc.start()
            before = tracemalloc.take_snapshot()
            simulation = (await sessions.create(body, None)).simulation
            hours = 0
            while simulation.hub.statistics().buffer_size < config.buffer_size:
                hours += 1
                await simulation.set_clock(now_ms=simulation.clock.now_ms() + 3_600_000)
            full = tracemalloc.take_snapshot()
            records, _ = simulation.hub.history(Filter(), limit=config.buffer_size)
            for fmt in FORMATS:
                for record in records:
                    record.json(fmt)
            read = tracemalloc.take_snapshot()
            for fmt in FORMATS:
                for record in records:
                    record.frame(fmt)
            streamed = tracemalloc.take_snapshot()
            tracemalloc.stop()
            figures["samples"] = len(records)
            figures["native_mib"] = _delta(full, before) / 2**20
            figures["json_mib"] = _delta(read, full) / 2**20
            figures["frames_mib"] = _delta(streamed, read) / 2**20
            nursery.cancel_scope.cancel()

    trio.run(main)
    return figures


def _delta(after: tracemalloc.Snapshot, before: tracemalloc.Snapshot) -> float:
    return sum(stat.size_diff for stat in after.compare_to(before, "filename"))


def write_section(text: str) -> None:
    section = f"{BEGIN}\n{text.rstrip()}\n{END}"
    current = DOC.read_text(encoding="utf-8")
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        current = head + section + rest.split(END, 1)[1]
    else:
        current = current.rstrip() + "\n\n" + section + "\n"
    DOC.write_text(current, encoding="utf-8")


@click.command()
@click.option("--seconds", default=20.0, show_default=True, help="CPU measuring window.")
@click.option("--write/--no-write", default=True, help="Update docs/performance.md.")
def main(seconds: float, write: bool) -> None:
    server = measure_server(seconds)
    objects = measure_tracemalloc()
    tradeoff = measure_tradeoff()
    worst = measure_full_buffer()
    added = server["with_sessions"] - server["baseline"]
    load = os.getloadavg()[0]
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    base, busy = server["baseline"] * 100, server["with_sessions"] * 100
    eager = tradeoff["eager_share"] * 100
    per_sample = objects["stepped_kib"] * 1024 / max(1, objects["samples"])
    full_mib = per_sample * 10000 / 2**20
    rss_made, rss_hour = server["rss_created_kib"], server["rss_stepped_kib"]
    worst_mib = worst["native_mib"] + worst["json_mib"] + worst["frames_mib"]
    text = f"""## Idle sessions

`python -m benchmarks.idle_sessions` ({when}, Python {platform.python_version()}, load
average {load:.1f} on {os.cpu_count()} cores). A `biomock serve` process (default
simulation at speed 1, one subject), CPU over {seconds:.0f} s:

| | CPU (share of one core) |
| --- | --- |
| no session | {base:.2f} % |
| {SESSIONS} idle sessions (50 paused, 50 running unwatched) | {busy:.2f} % |
| added by the sessions | {added * 100:+.2f} % (target: < 1 %) |

An idle session has no timer: its generator waits on an event that a subscription or a
clock change sets, and a request catches it up (see docs/architecture.md, "Sessions").
The other design, every session ticking once a second whether watched or not, would
cost {eager:.3f} % of a core per one-subject session at speed 1 (advancing and
publishing, measured in-process, no client), {eager * 50:.2f} % for the 50 running ones
above, and that many times the speed and the subjects for faster or larger ones. The
lazy one pays when it is read instead: the first request after an hour of idleness at
speed 1 catches up in {tradeoff["catch_up_hour_ms"]:.0f} ms (a batch of
`BIOMOCK_MAX_BATCH` at a time, other requests served in between).

Memory per session:

| | RSS delta | tracemalloc |
| --- | --- | --- |
| created, nothing read yet | {rss_made:.0f} KiB | {objects["created_kib"]:.0f} KiB |
| stepped through 1 h (~{objects["samples"]:.0f} samples) | {rss_hour:.0f} KiB \
| {objects["stepped_kib"]:.0f} KiB |

The buffer is what grows, up to `BIOMOCK_BUFFER_SIZE` (10,000) samples per session. A
buffered sample costs about {per_sample:.0f} bytes (tracemalloc) before anyone reads it,
so a full buffer holds about {full_mib:.0f} MiB. Reading adds more: each buffered record
keeps every encoding it was read in (JSON for history, the SSE frame for streams; made
once, shared by every reader). The worst case, one session with a full buffer of
{worst["samples"]:.0f} samples read through history and a stream in all four formats:

| | tracemalloc |
| --- | --- |
| samples, as published | {worst["native_mib"]:.1f} MiB |
| + JSON in four formats (history) | {worst["json_mib"]:.1f} MiB |
| + SSE frames in four formats (streams) | {worst["frames_mib"]:.1f} MiB |
| total | {worst_mib:.1f} MiB |

One format read through history adds a quarter of the JSON row; streamed, a quarter of
both rows (a frame is made from the JSON). With
`BIOMOCK_MAX_SESSIONS` (100) sessions at their worst that is {worst_mib * 100 / 1024:.1f} GiB:
size the container for the sessions your tests really fill, or lower
`BIOMOCK_BUFFER_SIZE` (it bounds every session's buffer) or `BIOMOCK_MAX_SESSIONS`.
"""
    print(text)
    if write:
        write_section(text)


if __name__ == "__main__":
    main()
