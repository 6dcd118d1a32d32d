"""Run the fan-out comparison: every server, every workload, one invocation.

Each server runs in its own process pinned to core 0 (``os.sched_setaffinity``);
the load client runs in another process pinned to core 1. The bus scenarios run a
Redis (Debian's ``redis-server``) beside the server; the two-worker one pins the
server's workers to both cores and leaves the client unpinned. The client reads the
server's CPU time and RSS from ``/proc`` around its measurement window, so every
figure in a row comes from the same seconds, and every ratio compares servers
measured minutes apart on the same machine.

Run: ``python -m benchmarks.fanout.run`` (``make bench-fanout``) for the full
comparison, which rewrites the fan-out section of ``docs/performance.md`` and
``docs/img/fanout.png``; ``--quick`` for a seconds-long smoke run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "performance.md"
PLOT = ROOT / "docs" / "img" / "fanout.png"
RESULTS = ROOT / "benchmarks" / "fanout" / "last-run.json"
BEGIN, END = "<!-- fanout:begin -->", "<!-- fanout:end -->"
BUS_BEGIN, BUS_END = "<!-- fanout-bus:begin -->", "<!-- fanout-bus:end -->"
PEER = "peer"
FLOOR = "floor"
HYPERCORN = "hypercorn"
"""Hypercorn alone: the connection storm's reference (no samples)."""
BUS, BUS_2W = "biomock-bus", "biomock-bus-2w"


@dataclass(frozen=True)
class Scenario:
    name: str
    n: int
    rate: float = 1.0
    servers: tuple[str, ...] = (PEER, "biomock")
    stall: bool = False
    late: int = 0
    warmup: float = 2.0
    duration: float = 10.0
    drain: float = 5.0
    light: bool = False
    label: str = ""
    subjects: int = 0
    """With subjects, the product's workload: ``biomock serve``'s simulator with that
    many subjects at speed 1 (the peer and the floor replay its ticks); without, the
    synthetic benchmark source."""
    procs: int = 1
    """Load-client worker processes."""
    rounds: int = 1
    """Rounds of every server, interleaved; each row is the round with the median CPU
    per write (per sample without a write count)."""
    spread: bool = False
    """Server on every core, client unpinned (the two-worker bus run)."""
    clients: int = 1
    """Load client processes, each with ``n / clients`` subscribers, started together."""

    @property
    def bus(self) -> bool:
        return any(server.startswith(BUS) for server in self.servers)


@dataclass
class Server:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)


SERVER_LABELS = {
    FLOOR: "floor (a bare non-blocking os.write per subscriber)",
    HYPERCORN: "Hypercorn alone (the stream's head, then nothing; no samples)",
    PEER: "peer (FastAPI + uvicorn, queue per subscriber)",
    "biomock": "biomock (direct write)",
    "biomock-public": "biomock (public ASGI path only)",
    "biomock-ws": "biomock (WebSocket, /api/ws)",
    BUS: "biomock, 1 process with the Redis bus",
    BUS_2W: "biomock, 2 workers with the Redis bus",
}

COLORS = {
    FLOOR: "tab:gray",
    HYPERCORN: "tab:olive",
    PEER: "tab:blue",
    "biomock": "tab:orange",
    "biomock-public": "tab:green",
    "biomock-ws": "tab:red",
}
WS = "biomock-ws"
"""The same biomock server, read over WebSocket."""

SIM = [
    Scenario(
        "sim1",
        2000,
        subjects=1,
        rounds=3,
        servers=(FLOOR, PEER, "biomock"),
        label="product workload: `biomock serve` (1 subject), 2,000 subscribers",
    ),
    Scenario(
        "sim8",
        2000,
        subjects=8,
        rounds=3,
        servers=(FLOOR, PEER, "biomock"),
        label="product workload: 8 subjects, 2,000 subscribers",
    ),
    Scenario(
        "sim100",
        500,
        subjects=100,
        light=True,
        servers=(FLOOR, PEER, "biomock"),
        label="product workload: 100 subjects, 500 subscribers",
    ),
    Scenario(
        "sim1-n10000",
        10000,
        subjects=1,
        procs=4,
        servers=(FLOOR, HYPERCORN, "biomock"),
        label="product workload: `biomock serve` (1 subject), 10,000 subscribers",
    ),
]
"""The product's own workloads, at speed 1 (one tick a second)."""

FULL = [
    *SIM,
    Scenario(
        "n1000",
        1000,
        servers=(PEER, "biomock", WS),
        label="synthetic workload: 1,000 subscribers, 1 tick/s",
    ),
    Scenario(
        "n2000",
        2000,
        servers=(PEER, "biomock", "biomock-public", WS),
        label="synthetic workload: 2,000 subscribers, 1 tick/s",
    ),
    Scenario(
        "n5000",
        5000,
        servers=(PEER, "biomock", "biomock-public", WS),
        label="synthetic workload: 5,000 subscribers, 1 tick/s",
    ),
    Scenario(
        "n10000",
        10000,
        light=True,
        procs=4,
        label="synthetic workload: 10,000 subscribers, 1 tick/s",
    ),
    Scenario(
        "overload",
        5000,
        rate=20.0,
        late=50,
        light=True,
        procs=2,
        servers=(PEER, "biomock", "biomock-public"),
        label="synthetic overload: 5,000 subscribers, 20 ticks/s (160 samples/s), 50 join mid-run",
    ),
    Scenario(
        "stall",
        2000,
        stall=True,
        servers=(PEER, "biomock", "biomock-public", WS),
        label="synthetic workload, 2,000 subscribers; halfway through, one more that stops reading",
    ),
    Scenario(
        "bus",
        2000,
        servers=("biomock", BUS),
        label="2,000 subscribers, 1 tick/s: one process without and with the bus",
    ),
    Scenario(
        "bus5k",
        5000,
        servers=("biomock", BUS),
        label="5,000 subscribers, 1 tick/s: one process without and with the bus",
    ),
    Scenario(
        "bus2w",
        4000,
        servers=(BUS_2W,),
        spread=True,
        label="4,000 subscribers, 1 tick/s: two workers sharing the bus, on both cores",
    ),
    Scenario(
        "bus2w2c",
        4000,
        servers=(BUS_2W,),
        spread=True,
        clients=2,
        label="the same, the load split over two client processes of 2,000 each",
    ),
]
QUICK = [
    Scenario(
        "quick",
        50,
        servers=(PEER, "biomock", "biomock-public", WS),
        warmup=0.5,
        duration=3.0,
        drain=2.0,
        procs=2,
        label="smoke run: 50 subscribers, 1 tick/s",
    ),
    Scenario(
        "quick-sim",
        50,
        subjects=1,
        servers=(FLOOR, PEER, "biomock"),
        warmup=0.5,
        duration=3.0,
        drain=2.0,
        label="smoke run: 50 subscribers, `biomock serve` (1 subject)",
    ),
]

SIM_SEED = "1"
"""The simulator's seed in every server of a product-workload run."""

STALL_TIMEOUT_S = 5.0
"""The stall run's slow-client timeout, so the cut happens within the run."""
STALL_BACKLOG = 9000
"""Samples of 1 KB in the stall run's buffer, for the stalled client's history: the
generator publishes them over several ticks (at most ``BIOMOCK_MAX_BATCH`` a tick),
and the subscribers connect only once they all are, or each would get megabytes."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_redis() -> tuple[subprocess.Popen[bytes], str]:
    """A throwaway Redis without persistence on a free port; its process and URL."""
    port = free_port()
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_listening(port, proc)
    return proc, f"redis://127.0.0.1:{port}/0"


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (a server's workers)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(child) for child in f.read().split()]
    except OSError:
        return []


def make_server(name: str, scenario: Scenario, port: int) -> Server:
    python = sys.executable
    sim = {"BIOMOCK_SUBJECTS": str(scenario.subjects), "BIOMOCK_SEED": SIM_SEED}
    if name == FLOOR:
        return Server(name, [python, "-m", "benchmarks.fanout.floor", "--port", str(port)], sim)
    if name == HYPERCORN:
        argv = [python, "-m", "benchmarks.fanout.hypercorn_alone", "--port", str(port)]
        return Server(name, argv)
    if name == PEER:
        argv = [python, "-m", "benchmarks.fanout.peer", "--port", str(port)]
        argv += ["--rate", str(scenario.rate)]
        return Server(name, [*argv, "--sim"], sim) if scenario.subjects else Server(name, argv)
    env = {
        "BIOMOCK_HOST": "127.0.0.1",
        "BIOMOCK_PORT": str(port),
        "BIOMOCK_SPEED": str(scenario.rate),
        "BIOMOCK_MAX_SUBSCRIBERS": "20000",
        "BIOMOCK_LOG_LEVEL": "warning",
        "BIOMOCK_FAST_PATH": "false" if name == "biomock-public" else "true",
    }
    if name == BUS_2W:
        env["BIOMOCK_WORKERS"] = "2"
    argv = [python, "-m", "benchmarks.fanout.serve_biomock"]
    if scenario.subjects:
        env.update(sim)
        env.pop("BIOMOCK_LOG_LEVEL")  # the default, info: a line per stream as deployed
        argv = [python, "-m", "biomock", "serve"]  # the real command, its own simulator
    if scenario.stall:
        env["BIOMOCK_SLOW_CLIENT_TIMEOUT_S"] = str(STALL_TIMEOUT_S)
        argv += ["--backlog-samples", str(STALL_BACKLOG), "--padding", "1000"]
    return Server(name, argv, env)


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not listen on {port} within {timeout} s")


def wait_published(port: int, samples: int, timeout: float = 30.0) -> None:
    """Until the server's ``/api/stats`` says ``samples`` were published."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/stats", timeout=5) as r:
                if json.load(r).get("published", 0) >= samples:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"the server did not publish {samples} samples within {timeout} s")


def prepare_server(core: int | set[int] | None) -> Any:
    """What runs in each server process before it starts: its cores, enough descriptors."""

    def prepare() -> None:
        if core is not None:
            os.sched_setaffinity(0, core if isinstance(core, set) else {core})
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = 20000 if hard == resource.RLIM_INFINITY else min(20000, hard)
        if soft < wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))

    return prepare


def run_one(scenario: Scenario, name: str, cores: tuple[int | None, int | None]) -> dict[str, Any]:
    port = free_port()
    server = make_server(name, scenario, port)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BIOMOCK_")}
    env.update(server.env)
    redis = None
    if name.startswith(BUS):
        redis, env["BIOMOCK_BUS"] = start_redis()
    server_cores: int | set[int] | None = cores[0]
    if scenario.spread:
        server_cores, cores = set(range(os.cpu_count() or 1)), (None, None)
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen(
        server.argv,
        cwd=ROOT,
        env=env,
        preexec_fn=prepare_server(server_cores),
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        wait_listening(port, proc)
        time.sleep(1.5)  # the generator's first tick
        if scenario.stall and name != PEER:
            wait_published(port, STALL_BACKLOG)
        pids = [proc.pid, *children(proc.pid)] if name == BUS_2W else [proc.pid]
        argv = [
            sys.executable,
            "-m",
            "benchmarks.fanout.client",
            "--port",
            str(port),
            "--n",
            str(scenario.n),
            "--server-pid",
            ",".join(map(str, pids)),
            "--warmup",
            str(scenario.warmup),
            "--duration",
            str(scenario.duration),
            "--drain",
            str(scenario.drain),
            "--stats-path",
            "/api/stats",
            "--writes-path",
            "/api/stats" if name in (PEER, FLOOR, HYPERCORN) else "/metrics",
            "--procs",
            str(scenario.procs),
            # A storm of 10,000 takes Hypercorn alone over 10 s on a slow core: let every
            # connection finish, so the time measured is the time all took.
            "--connect-timeout",
            str(max(20, scenario.n // 100)),
        ]
        if cores[1] is not None:
            argv += ["--cpus", str(cores[1])]
        if redis is not None:
            argv += ["--redis-pid", str(redis.pid)]
        if scenario.late:
            argv += ["--late", str(scenario.late)]
        if scenario.light:
            argv.append("--light")
        stream = "/api/stream"
        if name == WS:
            stream = "/api/ws"
            argv += ["--ws", "--path", stream]
        if scenario.stall:
            argv += ["--stall", "--stall-path", f"{stream}?history=10000"]
        limit = 120 + scenario.warmup + scenario.duration + scenario.drain
        if scenario.clients == 1:
            out = subprocess.run(
                argv, cwd=ROOT, capture_output=True, check=True, timeout=limit, env=env
            ).stdout
            result: dict[str, Any] = json.loads(out)
        else:
            result = run_clients(argv, scenario, limit, env)
    except (subprocess.SubprocessError, RuntimeError) as error:
        log.seek(0)
        tail = log.read()[-3000:].decode(errors="replace")
        client = getattr(error, "stderr", None) or b""
        print(
            f"{name} failed: {error}\nserver log:\n{tail}\nclient:\n{client[-3000:].decode()}",
            file=sys.stderr,
        )
        raise
    finally:
        log.close()
        for running in (proc, redis):
            if running is None:
                continue
            running.terminate()
            try:
                running.wait(timeout=15)
            except subprocess.TimeoutExpired:
                running.kill()
                running.wait()
    result["server"] = name
    result["scenario"] = scenario.name
    window = result["window_s"] or 1.0
    served = result["events_in_window"] > 0  # Hypercorn alone serves connections only
    result["samples_per_cpu_s"] = (
        result["events_in_window"] / result["server_cpu_s"]
        if served and result["server_cpu_s"]
        else None
    )
    result["server_cpu_frac"] = result["server_cpu_s"] / window
    result["cpu_us_per_sample"] = (
        result["server_cpu_s"] / result["events_in_window"] * 1e6
        if result["events_in_window"]
        else None
    )
    result["client_cpu_frac"] = result["client_cpu_s"] / window
    subscriber_ticks = result["connected"] * scenario.rate * window
    result["cpu_us_per_subscriber_tick"] = (
        result["server_cpu_s"] / subscriber_ticks * 1e6 if served and subscriber_ticks else None
    )
    writes = result.get("server_writes")
    result["cpu_us_per_write"] = result["server_cpu_s"] / writes * 1e6 if writes else None
    events = result["events_in_window"]
    result["cpu_us_per_sample"] = result["server_cpu_s"] / events * 1e6 if events else None
    connected = max(1, result["connected"])
    result["rss_per_sub_kb"] = (result["rss_kb"] - result["rss_idle_kb"]) / connected
    return result


def median_round(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The round with the median CPU per write (per sample without a write count),
    carrying every round's figure."""

    def cost(r: dict[str, Any]) -> float:
        value = r.get("cpu_us_per_write") or r.get("cpu_us_per_sample")
        return float("inf") if value is None else float(value)

    ordered = sorted(runs, key=cost)
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    if len(runs) > 1:
        chosen["rounds"] = [r.get("cpu_us_per_write") for r in runs]
    return chosen


def run_clients(
    argv: list[str], scenario: Scenario, limit: float, env: dict[str, str]
) -> dict[str, Any]:
    """``scenario.clients`` load clients at once, ``n / clients`` subscribers each; one
    result: the first client's (its window reads the server's CPU), with the counts
    summed and the latencies of every client merged."""
    share = scenario.n // scenario.clients
    argv = [*argv]
    argv[argv.index("--n") + 1] = str(share)
    with tempfile.TemporaryDirectory() as folder:
        procs = []
        for k in range(scenario.clients):
            own = [*argv, "--latencies-out", f"{folder}/{k}.json"]
            if k:  # only the first reads the server's CPU over its window
                own[own.index("--server-pid") + 1] = ""
                if "--redis-pid" in own:
                    own[own.index("--redis-pid") + 1] = "0"
            procs.append(
                subprocess.Popen(
                    own, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
                )
            )
        outs = []
        for proc in procs:
            out, err = proc.communicate(timeout=limit)
            if proc.returncode:
                raise subprocess.CalledProcessError(proc.returncode, proc.args, out, err)
            outs.append(json.loads(out))
        latencies = sorted(
            value
            for k in range(scenario.clients)
            for value in json.loads(Path(f"{folder}/{k}.json").read_text())
        )
    result = dict(outs[0])
    for key in (
        "n",
        "connected",
        "events_in_window",
        "reads_in_window",
        "events",
        "gaps",
        "dups",
        "resets",
        "closed_by_server",
        "errors",
        "behind_at_end",
        "client_cpu_s",
    ):
        result[key] = sum(out[key] for out in outs)
    result["connect_all_s"] = max(out["connect_all_s"] for out in outs)
    result["clients"] = scenario.clients

    def at(q: float) -> float | None:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else None

    result.update(latency_p50_s=at(0.5), latency_p99_s=at(0.99), latency_max_s=at(1.0))
    return result


def add_ratios(results: list[dict[str, Any]]) -> None:
    peers = {r["scenario"]: r for r in results if r["server"] == PEER}
    floors = {r["scenario"]: r for r in results if r["server"] == FLOOR}
    for r in results:
        floor = floors.get(r["scenario"])
        if floor and floor["cpu_us_per_write"] and r["cpu_us_per_write"]:
            r["vs_floor"] = r["cpu_us_per_write"] / floor["cpu_us_per_write"]
        else:
            r["vs_floor"] = None
        peer = peers.get(r["scenario"])
        if peer and peer["samples_per_cpu_s"] and r["samples_per_cpu_s"]:
            r["ratio"] = r["samples_per_cpu_s"] / peer["samples_per_cpu_s"]
        else:
            r["ratio"] = None


def machine() -> dict[str, Any]:
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "loadavg_before": os.getloadavg(),
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def _num(value: float | None, fmt: str = "{:,.0f}") -> str:
    return "-" if value is None else fmt.format(value)


def render_markdown(
    results: list[dict[str, Any]],
    scenarios: list[Scenario],
    info: dict[str, Any],
    elapsed: float,
    previous: dict[tuple[str, str], dict[str, Any]] | None = None,
) -> str:
    lines = [
        BEGIN,
        f"Measured {info['started']} by `make bench-fanout` (`python -m benchmarks.fanout.run`), "
        f"{elapsed:.0f} s in all, on a {info['cpus']}-core machine ({info['cpu_model']}, "
        f"Linux {info['kernel']}, Python {info['python']}) shared with other work "
        f"(load average {info['loadavg_before'][0]:.2f} before the run, "
        f"{info.get('loadavg_after', [0.0])[0]:.2f} after). Each server ran "
        "in its own process pinned to one core, the load client (worker processes "
        "driven by a coordinator, `benchmarks/fanout/client.py`) pinned to the other; "
        "the servers of one scenario ran one after the other within minutes. "
        "Ratio: samples delivered per server CPU-second, relative to the peer in the same "
        "scenario of the same run. CPU / write: server CPU over the writes the server "
        "itself counted in the window (one per subscriber per tick for biomock and the "
        "floor, one per sample for the peer); vs floor: that against the floor's in the "
        "same scenario. RSS per subscriber: (RSS with every subscriber connected "
        "- RSS idle) / subscribers.",
        "",
        "The product's workloads run `biomock serve` itself (its simulator at speed 1, "
        "seed 1, default settings but the subject count, logging at its default `info`); "
        "the peer and the floor replay the same ticks (the same simulator from the same "
        "settings, each sample encoded as biomock encodes it, published on the same whole "
        "seconds: `benchmarks/fanout/sim_workload.py`), and latency runs from each "
        "sample's `timestamp` to its arrival. The floor (`benchmarks/fanout/floor.py`) is "
        "no server: a `selectors` loop that writes each tick to every subscriber with one "
        "bare non-blocking `os.write`. The synthetic workload is the benchmark's own "
        "source (`benchmarks/fanout/bench_source.py`: 8 samples of ~150 B per simulated "
        "second, speed 20 for the overload run, where biomock's generator sends them in "
        "at most 10 batches a second), latency from the sample's publication (`tick`). "
        "The peer (`benchmarks/fanout/peer.py`) is FastAPI on uvicorn with uvloop and "
        "httptools (uvicorn's fastest stack), one generator, an `asyncio.Queue` per "
        "subscriber and one write per sample. Runs marked light check ids per received "
        "block rather than per event, giving every event in a block the latency of its "
        "oldest.",
        "",
    ]
    for merge in info.get("merged", []):
        lines += [
            f"Rerun on {merge['started']} and merged here (load average "
            f"{merge['loadavg_before'][0]:.2f} before, {merge['loadavg_after'][0]:.2f} after): "
            + ", ".join(f"`{name}`" for name in merge["scenarios"])
            + ".",
            "",
        ]
    by_scenario: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_scenario.setdefault(r["scenario"], []).append(r)
    header = (
        "| server | samples / CPU-s | ratio | server CPU | CPU / sub-tick | CPU / write "
        "| vs floor | p50 | p99 | max "
        "| connected (all within) | RSS / sub | gaps / dups | behind at end | cut by server |"
    )
    for scenario in scenarios:
        rows = by_scenario.get(scenario.name, [])
        if not rows:
            continue
        lines += [f"**{scenario.label}**", "", header, "| " + " | ".join(["---"] * 15) + " |"]
        for r in rows:
            lines.append(
                "| "
                + " | ".join(
                    [
                        SERVER_LABELS.get(r["server"], r["server"]),
                        _num(r["samples_per_cpu_s"]),
                        _num(r["ratio"], "{:.2f}x"),
                        f"{r['server_cpu_frac'] * 100:.0f}%",
                        _num(r["cpu_us_per_subscriber_tick"], "{:,.0f} µs"),
                        _num(r.get("cpu_us_per_write"), "{:,.1f} µs"),
                        _num(r.get("vs_floor"), "{:.2f}x"),
                        _ms(r["latency_p50_s"]),
                        _ms(r["latency_p99_s"]),
                        _ms(r["latency_max_s"]),
                        f"{r['connected']:,}/{r['n']:,} ({r['connect_all_s']:.1f} s)",
                        f"{r['rss_per_sub_kb']:.1f} KB",
                        f"{r['gaps']} / {r['dups']}",
                        str(r["behind_at_end"]),
                        str(r["closed_by_server"] + r["errors"]),
                    ]
                )
                + " |"
            )
        extra = []
        for r in rows:
            note = []
            if r.get("late"):
                late = r["late"]
                note.append(
                    f"{late['admitted']}/{late['opened']} late joiners admitted "
                    f"(slowest {_ms(late['connect_max_s'])}), {late['received']} received samples"
                )
            if r.get("stalled") is not None:
                stall = r["stalled"]
                cut = stall.get("cut_within_s")
                note.append(
                    f"others' p99 {_ms(stall.get('p99_before'))} before the stall, "
                    f"{_ms(stall.get('p99_after'))} after; the stalled client "
                    + (f"was cut within {cut:.1f} s" if cut is not None else "was not cut")
                )
            if r.get("rounds"):
                figures = " / ".join(_num(v, "{:.1f}") for v in r["rounds"])
                note.append(
                    f"the median of {len(r['rounds'])} interleaved rounds "
                    f"(CPU per write {figures} µs)"
                )
            if scenario.n >= 10000:
                note.append(
                    f"connecting took {_per_connection_ms(r):.2f} ms of server CPU per connection "
                    f"({r['server_connect_cpu_s']:.1f} s in all)"
                )
            if r["client_cpu_frac"] > 0.85:
                note.append(
                    f"client busy {r['client_cpu_frac'] * 100:.0f}% (latency partly client-side)"
                )
            if note:
                extra.append(f"- {SERVER_LABELS.get(r['server'], r['server'])}: " + "; ".join(note))
        lines += ["", *extra, ""] if extra else [""]
    lines += product_targets(results, previous, info)
    lines += targets(results)
    lines += ["![latency and CPU against subscribers](img/fanout.png)", "", END]
    return "\n".join(lines)


def targets(results: list[dict[str, Any]]) -> list[str]:
    """The issue's targets, each with the figure this run measured."""
    runs = {(r["scenario"], r["server"]): r for r in results}
    rows: list[tuple[str, str, bool | None]] = []

    def ok(value: bool) -> bool:
        return bool(value)

    n2000, peer2000 = runs.get(("n2000", "biomock")), runs.get(("n2000", PEER))
    stall = runs.get(("stall", "biomock"))
    if n2000 and peer2000:
        rows.append(
            (
                "samples per server CPU-second >= 3x the peer (2,000 subscribers)",
                f"{n2000['ratio']:.1f}x",
                ok(n2000["ratio"] >= 3),
            )
        )
        rows.append(
            (
                "2,000: all connected within 10 s",
                f"{n2000['connected']:,} in {n2000['connect_all_s']:.1f} s",
                ok(n2000["connected"] == n2000["n"] and n2000["connect_all_s"] <= 10),
            )
        )
        rows.append(
            (
                "2,000: p99 tick-to-receive <= 250 ms",
                _ms(n2000["latency_p99_s"]),
                ok(n2000["latency_p99_s"] <= 0.25),
            )
        )
        clean = (n2000["gaps"], n2000["dups"], n2000["behind_at_end"]) == (0, 0, 0)
        rows.append(
            (
                "2,000: every sample delivered, no gap, no duplicate",
                f"{n2000['events_in_window']:,} in the window; gaps {n2000['gaps']}, "
                f"dups {n2000['dups']}, behind at end {n2000['behind_at_end']}",
                ok(clean),
            )
        )
        rows.append(
            (
                "2,000: RSS <= 30 KB per subscriber (peer ~33 KB)",
                f"{n2000['rss_per_sub_kb']:.1f} KB (peer {peer2000['rss_per_sub_kb']:.1f} KB)",
                ok(n2000["rss_per_sub_kb"] <= 30),
            )
        )
    if stall and stall.get("stalled"):
        st = stall["stalled"]
        before, after = st.get("p99_before"), st.get("p99_after")
        if before and after:
            change = after / before - 1
            rows.append(
                (
                    "a stalled client: the others' p99 unchanged within 20 %",
                    f"{_ms(before)} before, {_ms(after)} after ({change:+.0%})",
                    ok(change <= 0.2),
                )
            )
        cut = st.get("cut_within_s")
        rows.append(
            (
                "the stalled client is cut after the slow-client timeout",
                f"cut {cut:.1f} s after it stopped (timeout {STALL_TIMEOUT_S:.0f} s)"
                if cut is not None
                else "not cut within the run",
                ok(cut is not None),
            )
        )
    n5000 = runs.get(("n5000", "biomock"))
    if n5000:
        clean = (n5000["gaps"], n5000["dups"], n5000["behind_at_end"]) == (0, 0, 0)
        rows.append(
            (
                "5,000 on one process: every tick delivered, p99 <= 1 s",
                f"gaps {n5000['gaps']}, behind at end {n5000['behind_at_end']}, "
                f"p99 {_ms(n5000['latency_p99_s'])}",
                ok(clean and n5000["latency_p99_s"] <= 1.0),
            )
        )
    over = runs.get(("overload", "biomock"))
    if over and n5000:
        cut = over["closed_by_server"] + over["errors"]
        per_read = over["events_in_window"] / max(1, over["reads_in_window"])
        per_read_1 = n5000["events_in_window"] / max(1, n5000["reads_in_window"])
        late = over.get("late") or {}
        rows.append(
            (
                "overload: no mass disconnect",
                f"{cut} of {over['connected']:,} cut",
                ok(cut == 0),
            )
        )
        rows.append(
            (
                "overload: samples later, in bigger writes",
                f"p50 {_ms(over['latency_p50_s'])}; {per_read:.0f} samples per read "
                f"(at 1 tick/s: {per_read_1:.0f})",
                ok(per_read > per_read_1),
            )
        )
        rows.append(
            (
                "overload: new subscribers still admitted",
                f"{late.get('admitted', 0)}/{late.get('opened', 0)} joined mid-run, "
                f"slowest in {_ms(late.get('connect_max_s'))}",
                ok(late.get("opened", 0) > 0 and late.get("admitted") == late.get("opened")),
            )
        )
    if not rows:
        return []
    out = ["**Targets of the stream core (synthetic workload), from this run**", ""]
    out += ["| target | measured | met |", "| --- | --- | --- |"]
    for name, figure, met in rows:
        out.append(f"| {name} | {figure} | {'yes' if met else 'no'} |")
    return [*out, ""]


def product_targets(
    results: list[dict[str, Any]],
    previous: dict[tuple[str, str], dict[str, Any]] | None,
    info: dict[str, Any],
) -> list[str]:
    """The targets at the product's own workloads, each with this run's figure."""
    runs = {(r["scenario"], r["server"]): r for r in results}
    rows: list[tuple[str, str, bool]] = []
    sim1, sim8 = runs.get(("sim1", "biomock")), runs.get(("sim8", "biomock"))
    if sim1 and sim1["ratio"]:
        rows.append(
            (
                "1 subject, 2,000 subscribers: samples per server CPU-second >= 1.5x the peer",
                f"{sim1['ratio']:.2f}x",
                sim1["ratio"] >= 1.5,
            )
        )
    if sim8 and sim8["ratio"]:
        rows.append(
            (
                "8 subjects, 2,000 subscribers: >= 5x the peer",
                f"{sim8['ratio']:.2f}x",
                sim8["ratio"] >= 5,
            )
        )
    n2000 = runs.get(("n2000", "biomock"))
    before = (previous or {}).get(("n2000", "biomock"))
    if n2000 and before and n2000["cpu_us_per_subscriber_tick"]:
        now_us, then_us = n2000["cpu_us_per_subscriber_tick"], before["cpu_us_per_subscriber_tick"]
        same_machine = before.get("cpu_model") == info.get("cpu_model")
        if same_machine:
            held = now_us <= then_us * 1.1
        else:  # CPU time is not comparable across machines; the ratio to the peer is
            now_ratio, then_ratio = n2000["ratio"] or 0.0, before["ratio"] or 0.0
            held = now_ratio >= then_ratio * 0.9 > 0
        rows.append(
            (
                "synthetic workload, 2,000 subscribers: no regression",
                f"{now_us:.1f} µs of server CPU per subscriber per tick ({then_us:.1f} µs in "
                f"the previous run, {before.get('started', 'before')}"
                + ("" if same_machine else f", on another machine: {before.get('cpu_model')}")
                + f"); {n2000['ratio']:.2f}x the peer on uvloop and httptools "
                f"({before['ratio']:.2f}x then)",
                held,
            )
        )
    big = runs.get(("sim1-n10000", "biomock"))
    alone = runs.get(("sim1-n10000", HYPERCORN))
    if big:
        rows.append(
            (
                "1 subject, 10,000 subscribers: p99 timestamp to arrival <= 250 ms",
                _ms(big["latency_p99_s"]),
                big["latency_p99_s"] is not None and big["latency_p99_s"] <= 0.25,
            )
        )
        rows.append(
            (
                "1 subject, 10,000 subscribers: all connected within 4 s",
                f"{big['connected']:,} in {big['connect_all_s']:.1f} s "
                f"({_per_connection_ms(big):.2f} ms of server CPU per connection)"
                + (
                    f"; Hypercorn alone: {alone['connected']:,} in {alone['connect_all_s']:.1f} s "
                    f"({_per_connection_ms(alone):.2f} ms)"
                    if alone
                    else ""
                ),
                big["connected"] == big["n"] and big["connect_all_s"] <= 4,
            )
        )
    if sim1 and sim1.get("vs_floor"):
        rows.append(
            (
                "1 subject, 2,000 subscribers: CPU per write within 1.5x the bare os.write",
                f"{sim1['cpu_us_per_write']:.1f} µs against "
                f"{sim1['cpu_us_per_write'] / sim1['vs_floor']:.1f} µs ({sim1['vs_floor']:.2f}x)",
                sim1["vs_floor"] <= 1.5,
            )
        )
    if not rows:
        return []
    out = ["**Targets at the product's workloads, from this run**", ""]
    out += ["| target | measured | met |", "| --- | --- | --- |"]
    for name, figure, met in rows:
        out.append(f"| {name} | {figure} | {'yes' if met else 'no'} |")
    return [*out, ""]


def _per_connection_ms(result: dict[str, Any]) -> float:
    """Server CPU per connection during the connect phase, in ms."""
    connected: int = result["connected"]
    return float(result.get("server_connect_cpu_s", 0)) / max(1, connected) * 1e3


def load_previous(path: Path) -> dict[tuple[str, str], dict[str, Any]] | None:
    """The last full run's results by (scenario, server), to compare with."""
    try:
        run = json.loads(path.read_text())
        results, machine = run["results"], run["machine"]
        started, cpu_model = machine["started"], machine.get("cpu_model")
    except (OSError, ValueError, KeyError):
        return None
    return {
        (r["scenario"], r["server"]): {**r, "started": started, "cpu_model": cpu_model}
        for r in results
    }


def render_bus(
    results: list[dict[str, Any]], scenarios: list[Scenario], info: dict[str, Any]
) -> str:
    """The bus rows: one process with and without it, and two workers with twice the load."""
    plain_runs = {r["scenario"]: r for r in results if r["server"] == "biomock"}
    lines = [
        BUS_BEGIN,
        f"Measured {info['started']} by `make bench-fanout` (scenarios `bus`, `bus5k`, "
        "`bus2w`, `bus2w2c`), on "
        f"the machine above (load average {info['loadavg_before'][0]:.2f} before the run). "
        "One process: server pinned to core 0, client to core 1, Redis unpinned. Two "
        "workers: the server's workers on both cores and the client unpinned, so the client "
        "competes with them: its own CPU is shown to judge by. Server CPU is summed over the "
        "workers, as a share of one core. CPU per delivered sample: server CPU-seconds over "
        "samples received by the client in the window. Redis CPU: the `redis-server` "
        "process over the same window.",
        "",
    ]
    header = (
        "| run | server | delivered in window | server CPU | CPU / delivered sample "
        "| vs no bus | p50 | p99 | connected | Redis CPU | client CPU | gaps / dups |"
    )
    for scenario in scenarios:
        rows = [r for r in results if r["scenario"] == scenario.name]
        if not rows:
            continue
        lines += [f"**{scenario.label}**", "", header, "| " + " | ".join(["---"] * 12) + " |"]
        for r in rows:
            per = r["cpu_us_per_sample"]
            plain = plain_runs.get(scenario.name) or plain_runs.get("bus")
            base = plain["cpu_us_per_sample"] if plain else None
            versus = f"{per / base - 1:+.0%}" if per and base and r is not plain else "-"
            redis = r.get("redis_cpu_s")
            lines.append(
                "| "
                + " | ".join(
                    [
                        scenario.name,
                        SERVER_LABELS.get(r["server"], r["server"]),
                        f"{r['events_in_window']:,}",
                        f"{r['server_cpu_frac'] * 100:.0f}%",
                        _num(per, "{:.2f} µs"),
                        versus,
                        _ms(r["latency_p50_s"]),
                        _ms(r["latency_p99_s"]),
                        f"{r['connected']:,}/{r['n']:,}",
                        "-" if redis is None else f"{redis / (r['window_s'] or 1) * 100:.1f}%",
                        f"{r['client_cpu_frac'] * 100:.0f}%",
                        f"{r['gaps']} / {r['dups']}",
                    ]
                )
                + " |"
            )
        lines.append("")
    lines.append(BUS_END)
    return "\n".join(lines)


def write_doc(section: str, begin: str = BEGIN, end: str = END, heading: str = "") -> None:
    DOC.parent.mkdir(parents=True, exist_ok=True)
    heading = heading or "## Fan-out: biomock against the asyncio peer (`make bench-fanout`)"
    text = DOC.read_text() if DOC.exists() else "# Performance\n"
    if begin not in text:
        text = text.rstrip() + "\n\n" + heading + "\n\n" + begin + "\n" + end + "\n"
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    DOC.write_text(head + section + tail)


def plot(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steady = [r for r in results if r["scenario"].startswith("n")]
    fig, (ax_lat, ax_cpu) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name in (PEER, "biomock", "biomock-public", WS):
        rows = sorted((r for r in steady if r["server"] == name), key=lambda r: r["n"])
        if not rows:
            continue
        n = [r["n"] for r in rows]
        label = SERVER_LABELS[name]
        color = COLORS[name]
        p99 = [r["latency_p99_s"] * 1000 for r in rows]
        p50 = [r["latency_p50_s"] * 1000 for r in rows]
        ax_lat.plot(n, p99, "o-", color=color, label=label + " p99")
        ax_lat.plot(n, p50, "x--", color=color, alpha=0.5, label=label + " p50")
        ax_cpu.plot(n, [r["server_cpu_frac"] * 100 for r in rows], "o-", color=color, label=label)
    ax_lat.set(
        xlabel="subscribers",
        ylabel="publish-to-receive latency (ms)",
        yscale="log",
        title="Latency at 1 tick/s (8 samples/tick)",
    )
    ax_cpu.set(
        xlabel="subscribers", ylabel="server CPU (% of one core)", title="Server CPU at 1 tick/s"
    )
    ax_lat.legend(fontsize=7)
    ax_cpu.legend(fontsize=7)
    for ax in (ax_lat, ax_cpu):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--only", default=None, help="comma-separated scenario names")
    parser.add_argument("--servers", default=None, help="comma-separated server names")
    parser.add_argument("--out", type=Path, default=None, help="results JSON")
    parser.add_argument("--no-doc", action="store_true", help="do not touch docs/")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="with --only: replace those scenarios' rows in the last run's results",
    )
    parser.add_argument(
        "--previous", type=Path, default=None, help="the run to compare with [the last one]"
    )
    args = parser.parse_args(argv)

    scenarios = QUICK if args.quick else FULL
    if args.only:
        wanted = set(args.only.split(","))
        scenarios = [s for s in scenarios if s.name in wanted]
    cores: tuple[int | None, int | None] = (0, 1) if (os.cpu_count() or 1) >= 2 else (None, None)
    previous = load_previous(args.previous or RESULTS)
    info = machine()
    started = time.monotonic()
    results = []
    for scenario in scenarios:
        servers = scenario.servers
        if args.servers:
            servers = tuple(s for s in servers if s in args.servers.split(","))
        rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in servers}
        for _ in range(scenario.rounds):
            for name in servers:
                print(f"{scenario.name}: {name} ...", file=sys.stderr, flush=True)
                try:
                    result = run_one(scenario, name, cores)
                except (subprocess.SubprocessError, RuntimeError, OSError, ValueError):
                    continue  # reported by run_one; the rest of the run goes on
                print(
                    f"  {result['events_in_window']:,} samples, "
                    f"server CPU {result['server_cpu_s']:.2f} s, "
                    f"p99 {_ms(result['latency_p99_s'])}, "
                    f"gaps {result['gaps']}, dups {result['dups']}",
                    file=sys.stderr,
                    flush=True,
                )
                rounds[name].append(result)
        results += [median_round(runs) for runs in rounds.values() if runs]
    info["loadavg_after"] = os.getloadavg()
    elapsed = time.monotonic() - started
    if args.merge:
        last = json.loads(RESULTS.read_text())
        ran = {s.name for s in scenarios}
        kept = [r for r in last["results"] if r["scenario"] not in ran]
        merged = last["machine"].setdefault("merged", [])
        merged.append({"scenarios": sorted(ran), **info})
        results, info, elapsed = kept + results, last["machine"], last["elapsed_s"] + elapsed
        scenarios = [s for s in FULL if any(r["scenario"] == s.name for r in results)]
    add_ratios(results)
    out = args.out or (None if args.quick else RESULTS)
    if out is not None:
        out.write_text(
            json.dumps({"machine": info, "elapsed_s": elapsed, "results": results}, indent=1)
        )
    if not args.quick and not args.no_doc:
        # Each section is rewritten only when its scenarios ran (`--only bus,bus2w`
        # refreshes the bus rows and leaves the rest as measured before).
        fanout = [s for s in scenarios if not s.bus]
        bus = [s for s in scenarios if s.bus]
        if fanout:
            write_doc(render_markdown(results, fanout, info, elapsed, previous))
            plot(results, PLOT)
        if bus:
            write_doc(
                render_bus(results, bus, info),
                BUS_BEGIN,
                BUS_END,
                "## Fan-out through the Redis bus (`make bench-fanout`, scenarios `bus`, "
                "`bus5k`, `bus2w`, `bus2w2c`)",
            )
    for r in results:
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        print(
            f"{r['scenario']:10} {r['server']:15} ratio {ratio:>7}  p99 {_ms(r['latency_p99_s'])}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
