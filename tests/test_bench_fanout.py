"""The fan-out benchmark still runs: a seconds-long smoke run of the whole comparison."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_fanout_comparison_runs_clean(tmp_path: Path) -> None:
    out = tmp_path / "fanout.json"
    subprocess.run(
        [sys.executable, "-m", "benchmarks.fanout.run", "--quick", "--out", str(out)],
        cwd=ROOT,
        check=True,
        timeout=120,
        capture_output=True,
    )
    results = json.loads(out.read_text())["results"]
    servers = {(r["scenario"], r["server"]) for r in results}
    assert servers == {
        ("quick", "peer"),
        ("quick", "biomock"),
        ("quick", "biomock-public"),
        ("quick", "biomock-ws"),
        ("quick-sim", "floor"),
        ("quick-sim", "peer"),
        ("quick-sim", "biomock"),
    }
    for r in results:
        assert r["connected"] == r["n"], r
        assert r["events_in_window"] > 0, r
        assert (r["gaps"], r["dups"], r["behind_at_end"]) == (0, 0, 0), r
        assert r["ratio"] is not None and r["ratio"] > 0, r
        assert r["cpu_us_per_write"] is not None and r["cpu_us_per_write"] > 0, r
