"""People vary: fitness, cadence within a run, time zones, nights."""

from __future__ import annotations

import statistics
from collections.abc import Iterator

import pytest

from biomock.sim import make_profile
from biomock.sim.schedule import plan_day, workout_plan
from biomock.sim.seeds import derive_seed
from biomock.sim.zones import ZONES, LocalDays, load_zone
from tests.sim.conftest import DAY, SEED, Series, simulate


def test_workout_frequency_rises_with_fitness() -> None:
    # 400 people over 8 weeks of plans: the fitter third works out far more often.
    rates: list[tuple[float, float, int]] = []
    for i in range(400):
        name = f"p{i}"
        profile = make_profile(SEED, name)
        seed = derive_seed(SEED, name)
        plans = [workout_plan(seed, 20_000 + day, profile) for day in range(56)]
        per_week = sum(p.planned for p in plans) / 8
        rates.append((profile.fitness, per_week, profile.age))
    rates.sort()
    unfit = statistics.fmean(r for _, r, _ in rates[:130])
    fit = statistics.fmean(r for _, r, _ in rates[-130:])
    assert unfit < 1.5 and fit > 3.0 and fit > 2.5 * unfit
    # the unfit and older mostly walk briskly: moderate, not 85 % of their maximum
    profile = next(make_profile(SEED, f"p{i}") for i in range(400) if rates)
    older_unfit = [
        workout_plan(derive_seed(SEED, f"p{i}"), 20_000, make_profile(SEED, f"p{i}"))
        for i in range(400)
        if make_profile(SEED, f"p{i}").fitness < 0.3 and make_profile(SEED, f"p{i}").age > 55
    ]
    assert older_unfit and profile
    assert all(plan.activity == "walking" and plan.intensity < 0.6 for plan in older_unfit)


def test_cadence_varies_minute_to_minute_in_a_run() -> None:
    series = simulate(start_ms=20_500 * DAY + 10 * 3_600_000, duration_ms=3_600_000)["default"]
    run = simulate(
        start_ms=20_500 * DAY + 10 * 3_600_000, duration_ms=3_600_000, scenario="workout"
    )["default"]
    per_minute = [float(s.value) for s in run.by_type["steps"]][2:]
    assert len(per_minute) >= 50
    cv = statistics.stdev(per_minute) / statistics.fmean(per_minute)
    assert cv > 0.03, f"per-minute cadence CV {cv:.3f}"
    assert len({round(v) for v in per_minute}) > 10
    assert series.by_type["steps"]


@pytest.fixture(scope="module")
def nights() -> Iterator[dict[str, Series]]:
    """Eight people in the watch profile over two days and three nights."""
    yield simulate(subjects=[f"p{i}" for i in range(8)], duration_ms=2 * DAY, cadence="watch")


def test_sleep_onset_is_late_evening_in_each_subjects_own_zone(
    nights: dict[str, Series],
) -> None:
    days = nights
    zones = {series.time_zone for series in days.values()}
    assert len(zones) >= 4 and zones <= set(ZONES)
    for series in days.values():
        onsets = _onsets(series)
        assert len(onsets) >= 1
        for onset in onsets:
            hour = series.local_hour(onset)
            assert hour >= 21 or hour < 1, (series.time_zone, hour)


def _onsets(series: Series) -> list[int]:
    """The first asleep stage of each night that began inside the simulated time."""
    onsets = []
    for night in series.by_type["sleep_analysis"]:
        if night.value != "inBed" or night.start_ms is None:
            continue
        asleep = [
            s.start_ms
            for s in series.by_type["sleep_analysis"]
            if s.start_ms is not None
            and str(s.value).startswith("asleep")
            and night.start_ms <= s.start_ms < night.time_ms
        ]
        if asleep and night.start_ms > series.samples[0].time_ms:
            onsets.append(min(asleep))
    return onsets


def test_nights_have_awakenings_and_realistic_efficiency(nights: dict[str, Series]) -> None:
    efficiencies = []
    awakenings = []
    for series in nights.values():
        for night in series.by_type["sleep_analysis"]:
            if night.value == "inBed" and night.start_ms is not None:
                assert night.start_ms is not None
                efficiencies.append(
                    float(night.extra["asleep_min"]) * 60_000 / (night.time_ms - night.start_ms)
                )
                awakenings.append(int(night.extra["awakenings"]))  # type: ignore[call-overload]
    assert statistics.median(awakenings) >= 3
    assert 0.82 <= statistics.median(efficiencies) <= 0.94  # Ohayon 2004


def test_resting_rate_up_and_hrv_down_after_hard_days_and_short_nights() -> None:
    hard, easy = [], []
    for name in ("a", "b", "c", "d"):
        seed = derive_seed(SEED, name)
        profile = make_profile(SEED, name)
        local = LocalDays(load_zone("UTC"))
        for day in range(20_000, 20_060):
            plan = plan_day(seed, day, profile, local)
            tired = workout_plan(seed, day - 1, profile).planned
            short = plan.segments[0].end_ms - plan.segments[0].start_ms < 6.5 * 3_600_000
            (hard if tired or short else easy).append(plan)
            assert -3 <= plan.rest_offset <= 3
    assert (
        statistics.fmean(p.rest_offset for p in hard)
        > statistics.fmean(p.rest_offset for p in easy) + 1
    )
    assert (
        statistics.fmean(p.hrv_factor for p in hard)
        < statistics.fmean(p.hrv_factor for p in easy) - 0.08
    )


def test_heart_rate_drifts_up_during_a_long_run() -> None:
    start = 20_500 * DAY + 10 * 3_600_000
    run = simulate(start_ms=start, duration_ms=55 * 60_000, scenario="workout")["default"]
    early = statistics.fmean(run.between("heart_rate", start + 11 * 60_000, start + 14 * 60_000))
    late = statistics.fmean(run.between("heart_rate", start + 50 * 60_000, start + 53 * 60_000))
    assert 5 <= late - early <= 25  # Coyle 2001: 10-15 % between the 10th and 60th minute
