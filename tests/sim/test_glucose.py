"""Glucose: fasting levels, meal peaks and returns, hypoglycemia."""

from __future__ import annotations

import statistics

from tests.sim.conftest import DAY, DAYS, START, Series, simulate

MINUTE = 60_000


def test_fasting_glucose_is_normal(days: dict[str, Series]) -> None:
    for series in days.values():
        for day in range(1, DAYS):
            dawn = series.local_midnight(START + day * DAY) + 4 * 60 * MINUTE  # 04:00 local
            fasting = series.between("blood_glucose", dawn, dawn + 90 * MINUTE)
            assert 70 <= statistics.fmean(fasting) <= 99


def test_meals_peak_below_140_and_return_within_three_hours(days: dict[str, Series]) -> None:
    returns = []
    for series in days.values():
        assert max(series.values("blood_glucose")) < 140
        first = series.days.day_of(START)
        for day in range(first, first + DAYS):
            for meal in series.plan(day).meals:
                if not START + 20 * MINUTE <= meal.time_ms <= START + DAYS * DAY - 180 * MINUTE:
                    continue  # the meal and three hours after it are in the simulated time
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
