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
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.fanout.run import ROOT
from benchmarks.overhead import measure

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
    settings = {"BIOMOCK_FAST_PATH": "false" if mode == "public" else "true"}
    query = FAULTS if mode == "faulted" else ""
    result = measure(settings, query=query, n=args.n, duration=args.duration, tree=tree)
    return {"mode": mode, **result}


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
