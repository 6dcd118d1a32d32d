"""The fastest clock on a real server: memory, request latency and streams under load.

Starts ``python -m biomock serve`` on 127.0.0.1 (port 0) with ten subjects, sets
``POST /api/clock {"speed": 100000}`` and, for the given duration, samples the
server's resident memory every second, times a control request (clock, stats,
health) every half second, and keeps three streams reading (everything; one
subject; HealthKit). Prints a JSON summary; ``docs/operations.md`` quotes a
60 s run.

    python -m benchmarks.fast_clock --seconds 60
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import trio


def rss_mb(pid: int) -> float:
    """The resident memory of process ``pid`` in MB (Linux)."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else 0.0


async def drain(stream: trio.abc.ReceiveStream) -> None:
    while await stream.receive_some():
        pass


async def run(seconds: float, subjects: int) -> dict[str, Any]:
    env = {
        **os.environ,
        "BIOMOCK_PORT": "0",
        "BIOMOCK_SEED": "7",
        "BIOMOCK_SUBJECTS": str(subjects),
    }
    result: dict[str, Any] = {"seconds": seconds, "subjects": subjects}
    async with trio.open_nursery() as nursery:
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
        url = match.group(1).decode()
        nursery.start_soon(drain, process.stderr)
        latencies: list[float] = []
        rss: list[float] = []
        events = {"all": 0, "one_subject": 0, "healthkit": 0}
        last_ids: dict[str, int] = {}
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=url, timeout=10, limits=limits) as client:
            await client.post("/api/clock", json={"speed": 100000})

            async def stream(name: str, params: dict[str, str]) -> None:
                async with client.stream(
                    "GET", "/api/stream", params=params, timeout=None
                ) as response:
                    async for line in response.aiter_lines():
                        if line.startswith("id: "):
                            events[name] += 1
                            last_ids[name] = int(line[4:])

            async def poll() -> None:
                for path in ("/api/clock", "/api/stats", "/healthz"):
                    started = trio.current_time()
                    response = await client.get(path)
                    latencies.append(trio.current_time() - started)
                    response.raise_for_status()

            async with trio.open_nursery() as load:
                load.start_soon(stream, "all", {})
                load.start_soon(stream, "one_subject", {"subject": "default"})
                load.start_soon(stream, "healthkit", {"format": "healthkit"})
                started = trio.current_time()
                tick = 0
                while trio.current_time() - started < seconds:
                    tick += 1
                    await poll()
                    if tick % 2 == 0:
                        rss.append(rss_mb(process.pid))
                    await trio.sleep_until(started + tick * 0.5)
                clock = (await client.get("/api/clock")).json()
                stats = (await client.get("/api/stats")).json()
                load.cancel_scope.cancel()
        process.terminate()
        await process.wait()
        nursery.cancel_scope.cancel()
    result.update(
        max_rss_mb=round(max(rss), 1),
        last_rss_mb=round(rss[-1], 1),
        requests=len(latencies),
        max_request_s=round(max(latencies), 3),
        stream_events=events,
        lag_s=clock["lag_s"],
        simulated_now=clock["now"],
        published=stats["published"],
        dropped_slow=stats["dropped_slow"],
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--subjects", type=int, default=10)
    args = parser.parse_args()
    print(json.dumps(trio.run(run, args.seconds, args.subjects), indent=2))


if __name__ == "__main__":
    main()
