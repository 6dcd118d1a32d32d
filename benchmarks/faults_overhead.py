"""What fault injection costs: plain readers before and after it, and faulted readers.

The same workload as ``make bench-fanout``'s 1,000-subscriber run (the benchmark's
source, 8 samples per tick, server pinned to core 0, client to core 1), served by:

- ``baseline``: the code at ``--baseline`` (a git revision before fault injection),
  every reader plain, on the fast path;
- ``plain``: this tree, every reader plain, on the fast path;
- ``faulted``: this tree, every reader with ``faults=disconnect_after=1000000000``: a
  fault that creates the connection's injector (so the stream is written by its pump
  from records, as any faulted stream is) and changes nothing the client can see
  within the run, so its gap and duplicate checks still hold;
- ``public``: this tree, every reader plain, with the fast path off: the write path a
  faulted reader shares.

Modes are interleaved over several rounds and the median of each is reported, since
the machine is shared.

Run: ``python -m benchmarks.faults_overhead [--rounds 3] [--n 1000] [--baseline REV]``;
prints JSON and a table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.fanout.run import ROOT, free_port, prepare_server, wait_listening

MODES = ("baseline", "plain", "faulted", "public")
FAULTS = "?faults=disconnect_after=1000000000"


def export(revision: str, into: Path) -> Path:
    """The tree of ``revision`` (its ``biomock`` and ``benchmarks``), unpacked into ``into``."""
    archive = into / "tree.tar"
    subprocess.run(
        ["git", "archive", "--output", str(archive), revision, "biomock", "benchmarks"],
        cwd=ROOT,
        check=True,
    )
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into


def run(mode: str, tree: Path, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BIOMOCK_")}
    env.update(
        BIOMOCK_HOST="127.0.0.1",
        BIOMOCK_PORT=str(port),
        BIOMOCK_MAX_SUBSCRIBERS="20000",
        BIOMOCK_LOG_LEVEL="warning",
        BIOMOCK_FAST_PATH="false" if mode == "public" else "true",
    )
    query = FAULTS if mode == "faulted" else ""
    # `python -m` puts the working directory first on sys.path: the server runs `tree`'s code.
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
        argv += ["--n", str(args.n), "--server-pid", str(proc.pid), "--cpu", "1"]
        argv += ["--path", f"/api/stream{query}"]
        argv += ["--warmup", "2", "--duration", str(args.duration), "--drain", "2"]
        out = subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, check=True, timeout=300
        ).stdout
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    result: dict[str, Any] = json.loads(out)
    events = result["events_in_window"]
    return {
        "mode": mode,
        "connected": result["connected"],
        "events": events,
        "gaps": result["gaps"],
        "server_cpu_s": result["server_cpu_s"],
        "cpu_us_per_sample": result["server_cpu_s"] / events * 1e6 if events else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--baseline", default="HEAD", help="git revision to compare with")
    parser.add_argument("--modes", default=",".join(MODES), help="a comma list of modes")
    args = parser.parse_args()
    modes = [mode for mode in MODES if mode in args.modes.split(",")]
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"baseline": export(args.baseline, Path(tmp))}
        for round_ in range(args.rounds):
            for mode in modes:
                result = run(mode, trees.get(mode, ROOT), args)
                result["round"] = round_
                runs.append(result)
                print(json.dumps(result), file=sys.stderr)
    summary = []
    for mode in modes:
        mine = [r for r in runs if r["mode"] == mode and r["cpu_us_per_sample"] is not None]
        summary.append(
            {
                "mode": mode,
                "cpu_us_per_sample_median": round(
                    statistics.median(r["cpu_us_per_sample"] for r in mine), 3
                ),
                "cpu_us_per_sample_all": [round(r["cpu_us_per_sample"], 3) for r in mine],
                "gaps": sum(r["gaps"] for r in mine),
            }
        )
    report = {"n": args.n, "rounds": args.rounds, "baseline": args.baseline, "summary": summary}
    print(json.dumps({**report, "runs": runs}))
    print("| mode | CPU µs / sample (median) | each round | gaps |")
    print("| --- | --- | --- | --- |")
    for s in summary:
        print(
            f"| {s['mode']} | {s['cpu_us_per_sample_median']} "
            f"| {', '.join(map(str, s['cpu_us_per_sample_all']))} | {s['gaps']} |"
        )


if __name__ == "__main__":
    main()
