"""Heart rate, its kinetics and its variability, as a watch wearer would see them."""

from __future__ import annotations

import itertools
import random
import statistics

from biomock.sim import Simulator
from biomock.sim.heart import Heart
from biomock.sim.profiles import make_profile
from biomock.sim.scenarios import SCENARIO_SPECS
from tests.sim.conftest import DAY, DAYS, START, Series, simulate

MINUTE = 60_000


def _hr_between(series: Series, start: int, end: int) -> list[float]:
    return series.between("heart_rate", start, end)


def _minute_table(series: Series) -> list[tuple[int, float, bool]]:
    """(steps, mean HR, asleep) for each minute."""
    hr_by_minute: dict[int, list[float]] = {}
    for s in series.by_type["heart_rate"]:
        hr_by_minute.setdefault((s.time_ms - 1) // MINUTE, []).append(float(s.value))
    rows = []
    for s in series.by_type["steps"]:
        minute = (s.time_ms - 1) // MINUTE
        if minute in hr_by_minute:
            rows.append(
                (
                    int(s.value),
                    statistics.fmean(hr_by_minute[minute]),
                    series.is_asleep(s.time_ms - 1),
                )
            )
    return rows


def test_heart_rate_ranges_at_rest_in_sleep_and_in_exercise(days: dict[str, Series]) -> None:
    runners = 0
    for series in days.values():
        rows = _minute_table(series)
        asleep = [hr for steps, hr, sleeping in rows if sleeping]
        resting = [hr for steps, hr, sleeping in rows if not sleeping and steps == 0]
        running = [hr for steps, hr, _ in rows if steps >= 150]  # brisk walks reach 140
        assert 40 <= statistics.median(asleep) <= 70
        assert 55 <= statistics.median(resting) <= 90
        if running:
            runners += 1
            assert 120 <= statistics.median(running) <= 185
        assert statistics.median(asleep) < statistics.median(resting) - 4
        assert min(series.values("heart_rate")) >= 30
        assert statistics.quantiles(series.values("heart_rate"), n=100)[0] >= 35
        assert max(series.values("heart_rate")) <= 200
    assert runners >= 1  # how many run depends on fitness (schedule.workout_plan)


def test_heart_rate_follows_activity(days: dict[str, Series]) -> None:
    for series in days.values():
        rows = [(steps, hr) for steps, hr, sleeping in _minute_table(series) if not sleeping]
        xs = [float(steps) for steps, _ in rows]
        ys = [hr for _, hr in rows]
        assert statistics.correlation(xs, ys) > 0.5


def test_workout_rise_and_one_minute_recovery() -> None:
    # Workouts are rare for unfit people, so each subject is sent on a 30-minute run.
    recoveries = []
    names = ["default", "ana", "ben", "cy", "di"]
    start = START + 15 * 60 * MINUTE
    zones = dict.fromkeys(names, "UTC")
    sim = Simulator(start - 5 * MINUTE, seed=11, subjects=names, time_zones=zones)
    samples = sim.advance(start)
    for name in names:
        sim.set_scenario(name, "workout")
    samples += sim.advance(start + 30 * MINUTE)
    for name in names:
        sim.set_scenario(name, "normal_day")
    samples += sim.advance(start + 32 * MINUTE)
    for name in names:
        series = Series([s for s in samples if s.subject == name], name)
        before = statistics.fmean(_hr_between(series, start - 30_000, start))
        climbed = statistics.fmean(_hr_between(series, start + 150_000, start + 180_000))
        assert climbed - before > 25, "heart rate climbs within three minutes of running"
        end = start + 30 * MINUTE
        at_end = statistics.fmean(_hr_between(series, end - 5_000, end))
        after = statistics.fmean(_hr_between(series, end + 55_000, end + 60_000))
        recoveries.append(at_end - after)
    # healthy (> 12, Cole 1999); stopping dead without a cool-down walk, fit people reach
    # 50+ (Imai 1994)
    assert all(12 <= r <= 60 for r in recoveries), recoveries
    assert 15 <= statistics.median(recoveries) <= 45


def test_sdnn_at_rest_is_normal_and_falls_with_exercise(days: dict[str, Series]) -> None:
    for series in days.values():
        at_rest = []
        exercising = []
        for s in series.by_type["heart_rate_variability_sdnn"]:
            window = (s.time_ms - 300_000, s.time_ms)
            if series.is_asleep(window[0]) or series.is_asleep(window[1]):
                continue
            hr = _hr_between(series, *window)
            if all(series.in_workout(t) for t in window) and window[0] - 180_000 > 0:
                exercising.append(float(s.value))
            elif max(hr) - min(hr) < 25 and statistics.fmean(hr) < 95:
                at_rest.append(float(s.value))
        assert 20 <= statistics.median(at_rest) <= 90  # Nunan 2010: 32-93 ms
        if exercising:
            assert statistics.median(exercising) < statistics.median(at_rest) / 2


def test_resting_heart_rate_is_daily_and_plausible(days: dict[str, Series]) -> None:
    for series in days.values():
        resting = series.by_type["resting_heart_rate"]
        assert [s.time_ms for s in resting] == [START + DAY * k for k in range(1, DAYS + 1)]
        assert all(45 <= float(s.value) <= 90 for s in resting)


def _rr(rhythm: str, seconds: int = 600) -> list[float]:
    profile = make_profile(1, "default")
    heart = Heart(profile, random.Random(3), 0)
    scenario = SCENARIO_SPECS[rhythm]
    for t in range(1, seconds + 1):
        heart.step(t * 1000, 1.0, 0.05, 0.0, 1.0, scenario)
    return heart.rr_intervals()


def _rmssd_ratio(rr: list[float]) -> float:
    diffs = [b - a for a, b in itertools.pairwise(rr)]
    return (statistics.fmean(d * d for d in diffs) ** 0.5) / statistics.fmean(rr)


def test_afib_rr_irregularity_is_well_above_sinus_rhythm() -> None:
    sinus = _rmssd_ratio(_rr("normal_day"))
    afib = _rmssd_ratio(_rr("afib"))
    assert afib > 3 * sinus
    assert afib > 0.2  # irregularly irregular: successive differences ~ 0.28 x mean RR


def test_afib_stream_is_fast_and_irregular() -> None:
    normal = simulate(start_ms=START + 10 * 3_600_000, duration_ms=3_600_000)["default"]
    afib = simulate(start_ms=START + 10 * 3_600_000, duration_ms=3_600_000, scenario="afib")
    hr = afib["default"].values("heart_rate")[300:]
    quantiles = statistics.quantiles(hr, n=20)
    assert 100 <= statistics.median(hr) <= 160
    assert quantiles[0] >= 80 and quantiles[-1] <= 175

    def jumpiness(values: list[float]) -> float:
        return statistics.fmean(abs(b - a) for a, b in itertools.pairwise(values))

    assert jumpiness(hr) > 5 * jumpiness(normal.values("heart_rate"))


def test_bradycardia_and_tachycardia_at_rest() -> None:
    start = START + 14 * 3_600_000  # mid-afternoon
    for scenario, low, high in (("bradycardia", 30, 50), ("tachycardia", 100, 140)):
        series = simulate(start_ms=start, duration_ms=1_800_000, scenario=scenario)["default"]
        resting = [
            float(s.value)
            for s in series.by_type["heart_rate"]
            if s.time_ms > start + 300_000 and s.scenario == scenario
        ]
        assert low <= statistics.median(resting) <= high, scenario
