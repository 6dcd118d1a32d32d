"""Sleep stages: cycles, shares and where in the night deep and REM sleep fall."""

from __future__ import annotations

import itertools
import statistics

from biomock.catalogue import SLEEP_STAGES
from biomock.sim.seeds import derive_rng
from biomock.sim.sleep import EPOCH_MS, hypnogram
from tests.sim.conftest import Series

HOUR = 3_600_000


def _nights(rngs: int = 40) -> list[tuple[int, int, list[tuple[str, int, int]]]]:
    nights = []
    for i in range(rngs):
        rng = derive_rng("test-nights", i)
        start = 0
        end = round(rng.uniform(7.0, 8.5) * HOUR / EPOCH_MS) * EPOCH_MS
        stages = [(s.name, s.start_ms, s.end_ms) for s in hypnogram(rng, start, end)]
        nights.append((start, end, stages))
    return nights


def _minutes(stages: list[tuple[str, int, int]], name: str, low: int, high: int) -> float:
    return (
        sum(
            max(0, min(end, high) - max(start, low))
            for stage, start, end in stages
            if stage == name
        )
        / 60_000
    )


def test_stages_tile_the_night_in_whole_epochs() -> None:
    for start, end, stages in _nights():
        assert stages[0][1] == start and stages[-1][2] == end
        assert stages[0][0] == "awake"  # falling asleep takes a while
        for (_, _, a_end), (_, b_start, _) in itertools.pairwise(stages):
            assert a_end == b_start
        for name, s, e in stages:
            assert name in SLEEP_STAGES and e > s and (e - s) % EPOCH_MS == 0


def test_stage_shares_are_within_published_ranges() -> None:
    shares: dict[str, list[float]] = {"asleepCore": [], "asleepDeep": [], "asleepREM": []}
    awake_shares = []
    for start, end, stages in _nights():
        asleep = sum(e - s for name, s, e in stages if name != "awake")
        awake = sum(e - s for name, s, e in stages if name == "awake")
        awake_shares.append(awake / (end - start))
        for name, values in shares.items():
            values.append(sum(e - s for n, s, e in stages if n == name) / asleep)
    # sleep efficiency of 85-95 % at 40 (Ohayon 2004): latency plus wake after sleep onset
    assert all(0.03 <= share <= 0.22 for share in awake_shares)
    assert 0.06 <= statistics.fmean(awake_shares) <= 0.14
    # Carskadon & Dement 2011: N1+N2 47-60 %, N3 13-23 %, REM 20-25 % of sleep
    assert 0.47 <= statistics.fmean(shares["asleepCore"]) <= 0.62
    assert 0.13 <= statistics.fmean(shares["asleepDeep"]) <= 0.23
    assert 0.19 <= statistics.fmean(shares["asleepREM"]) <= 0.26
    assert all(0.08 <= v <= 0.28 for v in shares["asleepDeep"])
    assert all(0.14 <= v <= 0.32 for v in shares["asleepREM"])


def test_deep_sleep_early_and_rem_late() -> None:
    for start, end, stages in _nights():
        third = (end - start) // 3
        assert _minutes(stages, "asleepDeep", start, start + third) > 2 * _minutes(
            stages, "asleepDeep", end - third, end
        )
        half = (end - start) // 2
        assert _minutes(stages, "asleepREM", start + half, end) > 1.3 * _minutes(
            stages, "asleepREM", start, start + half
        )


def test_cycles_are_about_ninety_minutes() -> None:
    for _start, _end, stages in _nights():
        rem_starts = []
        for i, (name, s, _) in enumerate(stages):
            if name == "asleepREM" and (i == 0 or stages[i - 1][0] != "asleepREM"):
                rem_starts.append(s)
        gaps = [(b - a) / 60_000 for a, b in itertools.pairwise(rem_starts)]
        assert 4 <= len(rem_starts) <= 6
        assert 80 <= statistics.fmean(gaps) <= 110


def test_stream_reports_stages_when_they_end(days: dict[str, Series]) -> None:
    for series in days.values():
        stages = series.by_type["sleep_analysis"]
        assert stages
        for sample in stages:
            assert sample.start_ms is not None and sample.start_ms < sample.time_ms
            assert sample.unit is None and sample.value in SLEEP_STAGES
        nights = [s for s in stages if s.value == "inBed"]
        for night in nights:
            assert night.start_ms is not None
            assert 6 * HOUR <= night.time_ms - night.start_ms <= 10 * HOUR or (
                night.start_ms == stages[0].start_ms  # the first night began before the start
            )
