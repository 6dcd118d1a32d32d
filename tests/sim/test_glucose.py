"""Glucose: fasting levels, meal peaks and returns, hypoglycemia."""

from __future__ import annotations

import statistics

from biomock.sim.schedule import plan_day
from biomock.sim.seeds import derive_seed
from tests.sim.conftest import DAY, DAYS, SEED, START, Series, simulate

MINUTE = 60_000


def test_fasting_glucose_is_normal(days: dict[str, Series]) -> None:
    for series in days.values():
        for day in range(DAYS):
            dawn = START + day * DAY + 4 * 60 * MINUTE
            fasting = series.between("blood_glucose", dawn, dawn + 90 * MINUTE)
            assert 70 <= statistics.fmean(fasting) <= 99


def test_meals_peak_below_140_and_return_within_three_hours(days: dict[str, Series]) -> None:
    returns = []
    for name, series in days.items():
        assert max(series.values("blood_glucose")) < 140
        for day in range(DAYS):
            plan = plan_day(derive_seed(SEED, name), START // DAY + day)
            for meal in plan.meals:
                before = statistics.fmean(
                    series.between("blood_glucose", meal.time_ms - 20 * MINUTE, meal.time_ms)
                )
                peak = max(
                    series.between("blood_glucose", meal.time_ms, meal.time_ms + 90 * MINUTE)
                )
                later = statistics.fmean(
                    series.between(
                        "blood_glucose", meal.time_ms + 150 * MINUTE, meal.time_ms + 180 * MINUTE
                    )
                )
                assert peak - before >= 12, "a meal is visible"
                returns.append(later - before)
    assert statistics.fmean(abs(r) for r in returns) < 6
    assert sum(abs(r) < 12 for r in returns) >= 0.9 * len(returns)


def test_hypoglycemia_brings_glucose_below_54() -> None:
    start = START + 15 * 60 * MINUTE
    series = simulate(start_ms=start, duration_ms=2 * 60 * MINUTE, scenario="hypoglycemia")[
        "default"
    ]
    assert max(series.between("blood_glucose", start + 45 * MINUTE, start + 120 * MINUTE)) < 70
    assert (
        statistics.fmean(series.between("blood_glucose", start + 90 * MINUTE, start + 120 * MINUTE))
        < 54
    )
    assert all(isinstance(s.value, int) for s in series.by_type["blood_glucose"])
