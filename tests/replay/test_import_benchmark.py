"""The import benchmark still runs (on a tiny export; the full run is by hand)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "import_speed.py"


def test_the_import_benchmark_runs_on_a_small_export(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("import_speed", BENCHMARK)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.measure(2, tmp_path)
    assert result["samples"] > 1000
    assert result["size_mb"] > 1.5
    assert list(tmp_path.iterdir()) == []  # the export is removed afterwards
    assert "| export.xml |" in bench.report([result])
