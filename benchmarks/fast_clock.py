"""The fastest clock on a real server: memory, request latency and streams under load.

Starts ``python -m biomock serve`` on 127.0.0.1 (port 0) with ten subjects, sets
``POST /api/clock {"speed": 100000}`` and, for the given duration, samples the
server's resident memory every second and times a control request (clock, stats,
health) every half second, while a second process keeps three streams reading
(everything; one subject; HealthKit), so that parsing them does not delay the
timed requests. Prints a JSON summary; ``docs/operations.md`` quotes a 60 s run.

    python -m benchmarks.fast_clock --seconds 60
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import trio

READER = [sys.executable, "-m", "benchmarks.fast_clock"]
STREAMS = {"all": {}, "one_subject": {"subject": "default"}, "healthkit": {"format": "healthkit"}}


def rss_mb(pid: int) -> float:
    """The resident memory of process ``pid`` in MB (Linux)."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else 0.0


async def drain(stream: trio.abc.ReceiveStream) -> None:
    while await stream.receive_some():
        pass


async def read_streams(url: str, seconds: float) -> dict[str, int]:
    """Read every stream of STREAMS for ``seconds``; the events each received."""
    events = dict.fromkeys(STREAMS, 0)
    async with httpx.AsyncClient(base_url=url, timeout=None) as client:

        async def read(name: str, params: dict[str, str]) -> None:
            async with client.stream("GET", "/api/stream", params=params) as response:
                async for line in response.aiter_lines():
                    if line.startswith("id: "):
                        events[name] += 1

        with trio.move_on_after(seconds):
            async with trio.open_nursery() as nursery:
                for name, params in STREAMS.items():
                    nursery.start_soon(read, name, params)
    return events


async def start_server(nursery: trio.Nursery, subjects: int) -> tuple[trio.Process, str]:
    env = {**os.environ, "BIOMOCK_PORT": "0", "BIOMOCK_SEED": "7"}
    env["BIOMOCK_SUBJECTS"] = str(subjects)
    process: trio.Process = await nursery.start(
        partial(
            trio.run_process,
            [sys.executable, "-m", "biomock", "serve", "--host", "127.0.0.1"],
            env=env,
            stderr=subprocess.PIPE,
            check=False,
        )
    )
    assert process.stderr is not None
    log = b""
    while (match := re.search(rb"Running on (http://\S+)", log)) is None:
        chunk = await process.stderr.receive_some()
        if not chunk:
            raise RuntimeError(log.decode())
        log += chunk
    nursery.start_soon(drain, process.stderr)
    return process, match.group(1).decode()


async def run(seconds: float, subjects: int) -> dict[str, Any]:
    """Run the load for ``seconds`` against a fresh server; the summary."""
    latencies: list[float] = []
    rss: list[float] = []
    async with trio.open_nursery() as nursery:
        process, url = await start_server(nursery, subjects)
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=url, timeout=10, limits=limits) as client:
            (await client.post("/api/clock", json={"speed": 100000})).raise_for_status()
            reader: trio.Process = await nursery.start(
                partial(
                    trio.run_process,
                    [*READER, "--read", url, "--seconds", str(seconds)],
                    stdout=subprocess.PIPE,
                    check=True,
                )
            )
            started = trio.current_time()
            tick = 0
            while trio.current_time() - started < seconds:
                tick += 1
                for path in ("/api/clock", "/api/stats", "/healthz"):
                    before = trio.current_time()
                    (await client.get(path)).raise_for_status()
                    latencies.append(trio.current_time() - before)
                if tick % 2 == 0:
                    rss.append(rss_mb(process.pid))
                await trio.sleep_until(started + tick * 0.5)
            assert reader.stdout is not None
            output = b""
            while chunk := await reader.stdout.receive_some():
                output += chunk
            events = json.loads(output)
            clock = (await client.get("/api/clock")).json()
            stats = (await client.get("/api/stats")).json()
        process.terminate()
        await process.wait()
        nursery.cancel_scope.cancel()
    return {
        "seconds": seconds,
        "subjects": subjects,
        "max_rss_mb": round(max(rss), 1),
        "last_rss_mb": round(rss[-1], 1),
        "requests": len(latencies),
        "max_request_s": round(max(latencies), 3),
        "median_request_s": round(statistics.median(latencies), 3),
        "slowest_request_at_s": round(latencies.index(max(latencies)) / 6, 1),
        "stream_events": events,
        "lag_s": clock["lag_s"],
        "simulated_now": clock["now"],
        "published": stats["published"],
        "dropped_slow": stats["dropped_slow"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--subjects", type=int, default=10)
    parser.add_argument("--read", metavar="URL", help="(internal) only read the streams of URL")
    args = parser.parse_args()
    if args.read:
        print(json.dumps(trio.run(read_streams, args.read, args.seconds)))
    else:
        print(json.dumps(trio.run(run, args.seconds, args.subjects), indent=2))


if __name__ == "__main__":
    main()
