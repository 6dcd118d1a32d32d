"""Steps, distance and energy: only while moving, at a person's cadences."""

from __future__ import annotations

import itertools
import statistics

from tests.sim.conftest import DAYS, START, Series


def test_no_steps_while_asleep(days: dict[str, Series]) -> None:
    for series in days.values():
        asleep_steps = [
            s.value
            for s in series.by_type["steps"]
            if s.start_ms is not None
            and series.is_asleep(s.start_ms)
            and series.is_asleep(s.time_ms - 1)
        ]
        assert len(asleep_steps) > 300
        assert set(asleep_steps) == {0}


def test_cadences_by_activity(days: dict[str, Series]) -> None:
    for series in days.values():
        per_minute = [int(s.value) for s in series.by_type["steps"]]
        moving = [n for n in per_minute if n > 0]
        walking = [n for n in moving if 90 <= n < 140]
        assert walking, "people walk every day"
        assert 100 <= statistics.median(walking) <= 120  # Tudor-Locke 2018
        assert max(per_minute) <= 190  # a run's fastest minutes, cadence varying minute to minute
        for start, end in series.workouts:
            running = [
                int(s.value)
                for s in series.by_type["steps"]
                if s.start_ms is not None and start <= s.start_ms and s.time_ms <= end
            ]
            assert 150 <= statistics.median(running) <= 180


def test_daily_totals_are_plausible(days: dict[str, Series]) -> None:
    for series in days.values():
        for day in range(DAYS):
            low, high = START + day * 86_400_000, START + (day + 1) * 86_400_000
            steps = sum(series.between("steps", low + 1, high))
            metres = sum(series.between("distance_walking_running", low + 1, high))
            kcal = sum(series.between("active_energy_burned", low + 1, high))
            assert 3_000 <= steps <= 20_000
            assert 0.3 <= metres / steps <= 1.0  # metres per step
            assert 150 <= kcal <= 1_500


def test_interval_samples_tile_time(days: dict[str, Series]) -> None:
    for series in days.values():
        for type_name in ("steps", "distance_walking_running", "active_energy_burned"):
            samples = series.by_type[type_name]
            assert samples[0].start_ms == START
            for before, after in itertools.pairwise(samples):
                assert after.start_ms == before.time_ms
                assert after.time_ms - after.start_ms == 60_000
        for sample in series.by_type["steps"]:
            assert isinstance(sample.value, int)
