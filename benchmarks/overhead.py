"""One run of the fan-out load client against a ``biomock serve`` started for it.

What ``benchmarks.auth_overhead`` and ``benchmarks.faults_overhead`` share: the same
workload as ``make bench-fanout``'s 1,000-subscriber run (the benchmark's source, 8
samples per tick, server pinned to core 0, client to core 1), with the server's
settings and the stream's query string varied by the caller.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.fanout.run import ROOT, free_port, prepare_server, wait_listening


def measure(
    settings: dict[str, str],
    *,
    query: str = "",
    stats_query: bool = False,
    n: int,
    duration: float,
    tree: Path = ROOT,
) -> dict[str, Any]:
    """Serve the benchmark's source from ``tree`` with ``settings``, run ``n`` readers of
    ``/api/stream{query}`` for ``duration`` seconds, and return what the client saw.

    Args:
        settings: ``BIOMOCK_*`` settings on top of the run's own (host, port, limits).
        query: appended to ``/api/stream`` (``?...``).
        stats_query: the client also sends ``query`` with its ``/api/stats`` polls.
        tree: the source tree the server runs (``python -m`` puts it first on sys.path).

    Returns:
        connected, connect_all_s, events, gaps, server_cpu_s and cpu_us_per_sample.
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BIOMOCK_")}
    env.update(
        BIOMOCK_HOST="127.0.0.1",
        BIOMOCK_PORT=str(port),
        BIOMOCK_MAX_SUBSCRIBERS="20000",
        BIOMOCK_LOG_LEVEL="warning",
        **settings,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.fanout.serve_biomock"],
        cwd=tree,
        env=env,
        preexec_fn=prepare_server(0),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listening(port, proc)
        time.sleep(1.5)
        argv = [sys.executable, "-m", "benchmarks.fanout.client", "--port", str(port)]
        argv += ["--n", str(n), "--server-pid", str(proc.pid), "--cpu", "1"]
        argv += ["--path", f"/api/stream{query}"]
        if stats_query:
            argv += ["--stats-path", f"/api/stats{query}"]
        argv += ["--warmup", "2", "--duration", str(duration), "--drain", "2"]
        out = subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, check=True, timeout=300
        ).stdout
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    result: dict[str, Any] = json.loads(out)
    events = result["events_in_window"]
    return {
        "connected": result["connected"],
        "connect_all_s": result["connect_all_s"],
        "events": events,
        "gaps": result["gaps"],
        "server_cpu_s": result["server_cpu_s"],
        "cpu_us_per_sample": result["server_cpu_s"] / events * 1e6 if events else None,
    }
