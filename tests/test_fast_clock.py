"""The fastest clock on a real `biomock serve`: flat memory, prompt requests, streams flowing.

A shorter run of ``benchmarks/fast_clock.py`` (docs/operations.md quotes 60 s).
"""

from __future__ import annotations

import pytest
import trio

from benchmarks.fast_clock import run


@pytest.mark.slow
async def test_speed_100000_with_ten_subjects_keeps_memory_and_latency_bounded() -> None:
    with trio.fail_after(90):
        result = await run(10.0, 10)
    assert result["max_rss_mb"] < 300
    assert result["max_request_s"] < 1.0
    assert all(count > 1000 for count in result["stream_events"].values()), result
    assert result["lag_s"] > 0
    assert result["dropped_slow"] == 0
