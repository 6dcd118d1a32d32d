"""The ``watch`` cadence profile: readings when a real Apple Watch and its companions take them."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterator

import pytest

from biomock.sim import Simulator
from tests.sim.conftest import DAY, START, Series, simulate

MINUTE = 60_000
HOUR = 3_600_000


@pytest.fixture(scope="module")
def watch_days() -> Iterator[dict[str, Series]]:
    """Three people over two days in the watch profile, imperfections off."""
    yield simulate(subjects=["default", "ana", "ben"], duration_ms=2 * DAY, cadence="watch")


def _gaps(series: Series, type_name: str) -> list[tuple[int, int]]:
    """(gap ms, time) between successive readings of ``type_name``."""
    times = [s.time_ms for s in series.by_type[type_name]]
    return [(b - a, b) for a, b in itertools.pairwise(times)]


def test_heart_rate_every_few_minutes_and_every_five_seconds_in_workouts(
    watch_days: dict[str, Series],
) -> None:
    workouts = 0
    for series in watch_days.values():
        for gap, t in _gaps(series, "heart_rate"):
            if series.in_workout(t - 1) and series.in_workout(t - gap):
                assert 4_000 <= gap <= 6_000
                workouts += 1
            else:
                assert 4_000 <= gap <= 7 * MINUTE
        resting = [g for g, t in _gaps(series, "heart_rate") if not series.in_workout(t - 1)]
        assert 3 * MINUTE <= statistics.median(resting) <= 6 * MINUTE
        heart = series.by_type["heart_rate"]
        assert sum(s.time_ms % 1000 != 0 for s in heart) > 0.9 * len(heart), "off the grid"
    assert workouts >= 100, "someone works out in two days, read every ~5 s"


def test_hrv_a_few_times_a_day_and_only_when_still(watch_days: dict[str, Series]) -> None:
    for series in watch_days.values():
        sdnn = series.by_type["heart_rate_variability_sdnn"]
        assert 4 <= len(sdnn) <= 2 * 10
        assert all(20 <= float(s.value) <= 150 for s in sdnn)
        for s in sdnn:
            window = (s.time_ms - 5 * MINUTE, s.time_ms)
            # a block that began before the window may hold earlier steps: only whole ones count
            moving = [
                step
                for step in series.by_type["steps"]
                if step.start_ms is not None and window[0] <= step.start_ms < window[1]
            ]
            assert moving == [], "HRV is read after five still minutes"
            contexts = {
                h.extra["motion_context"]
                for h in series.by_type["heart_rate"]
                if window[0] <= h.time_ms <= window[1]
            }
            assert contexts <= {"sedentary"}
            assert not series.in_workout(s.time_ms)


def test_spo2_respiration_wrist_temperature_pressure_and_glucose(
    watch_days: dict[str, Series],
) -> None:
    for series in watch_days.values():
        spo2 = series.by_type["oxygen_saturation"]
        asleep = [s for s in spo2 if series.is_asleep(s.time_ms)]
        assert 20 <= len(spo2) <= 2 * 40, "roughly hourly, and more at night"
        assert len(asleep) >= 0.3 * len(spo2)
        breathing = series.by_type["respiratory_rate"]
        last_night_ended = series.in_bed[-1][1]  # the night still going on is not out yet
        assert breathing
        assert all(series.is_in_bed(s.time_ms) for s in breathing if s.time_ms < last_night_ended)
        gaps = [g for g, t in _gaps(series, "respiratory_rate") if series.is_asleep(t)]
        assert 5 * MINUTE <= statistics.median(gaps) <= 15 * MINUTE
        wrist = series.by_type["sleeping_wrist_temperature"]
        assert 1 <= len(wrist) <= 2, "once a night"
        for s in wrist:
            assert s.start_ms is not None and s.time_ms - s.start_ms >= 3 * HOUR
            assert 33.5 <= float(s.value) <= 36.0
        assert not series.by_type["body_temperature"], "no thermometer, no core temperature"
        pressure = series.by_type["blood_pressure_systolic"]
        assert 2 <= len(pressure) <= 4, "one or two cuff readings a day"
        glucose = [g for g, _ in _gaps(series, "blood_glucose")]
        assert set(glucose) == {5 * MINUTE}


def test_no_zero_step_samples_and_blocks_of_minutes(watch_days: dict[str, Series]) -> None:
    for series in watch_days.values():
        steps = series.by_type["steps"] + series.phone["steps"]
        assert steps and all(int(s.value) > 0 for s in steps)
        for s in series.by_type["steps"]:
            assert s.start_ms is not None
            assert 0 < s.time_ms - s.start_ms <= 10 * MINUTE


def test_a_workout_starts_continuous_heart_rate_at_once() -> None:
    start = START + 12 * HOUR
    sim = Simulator(start, seed=5, subjects=["default"], cadence="watch")
    sim.advance(start + 10 * MINUTE)
    sim.set_scenario("default", "workout")
    samples = sim.advance(start + 20 * MINUTE)
    heart = [s.time_ms for s in samples if s.type == "heart_rate"]
    assert heart[0] <= start + 10 * MINUTE + 6_000
    assert len(heart) >= 100
