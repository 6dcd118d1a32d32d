"""Physiology a clinician would notice: signed zeros, SDNN, diastolic, fever, apnea, running BP."""

from __future__ import annotations

import math
import statistics

from biomock.sim import Simulator, make_profile
from tests.sim.conftest import DAY, SEED, START, Series, simulate

MINUTE = 60_000
HOUR = 3_600_000


def test_no_negative_zero_anywhere(days: dict[str, Series]) -> None:
    # -0.0 serialises as "-0.0": a distance of minus nothing breaks strict parsers.
    for series in days.values():
        signed = [
            s
            for s in series.samples + [s for v in series.phone.values() for s in v]
            if isinstance(s.value, float) and s.value == 0 and math.copysign(1.0, s.value) < 0
        ]
        assert signed == []


def test_sdnn_never_above_150_ms_for_healthy_people_outside_afib(
    days: dict[str, Series],
) -> None:
    for series in days.values():
        values = series.values("heart_rate_variability_sdnn")
        assert values, "SDNN is reported while still"
        assert max(values) <= 150


def test_seated_sdnn_is_the_profiles_own(days: dict[str, Series]) -> None:
    # Awake and sitting still, SDNN should read as the person's own resting SDNN.
    for name, series in days.items():
        own = make_profile(SEED, name).sdnn_ms
        ratios = []
        for s in series.by_type["heart_rate_variability_sdnn"]:
            start, end = s.time_ms - 300_000, s.time_ms
            if series.is_in_bed(start) or series.is_in_bed(end):
                continue
            if not any(series.between("steps", start - 10 * MINUTE, end + MINUTE)):
                ratios.append(float(s.value) / own)  # no step for 15 minutes: sitting
        assert len(ratios) >= 10
        assert 0.85 <= statistics.median(ratios) <= 1.2, name


def test_healthy_diastolic_stays_below_stage_one(days: dict[str, Series]) -> None:
    for series in days.values():
        diastolic = series.values("blood_pressure_diastolic")
        assert max(diastolic) < 88, "no healthy reading near stage-1 hypertension's 90"
        assert sum(v >= 80 for v in diastolic) <= 0.1 * len(diastolic)


def test_fever_heart_rate_follows_temperature() -> None:
    # Karjalainen 1986: about 8.5 bpm per degC, so no jump before the temperature rises.
    # The same people and day plans with and without fever: the difference is the fever.
    start = START + 2 * HOUR
    names = ["default", "ana", "ben"]
    normal = Simulator(start, seed=3, subjects=names)
    fever = Simulator(start, seed=3, subjects=names)
    for name in names:
        fever.set_scenario(name, "fever")
    a, b = normal.advance(start + 4 * HOUR), fever.advance(start + 4 * HOUR)
    for name in names:
        calm = Series([s for s in a if s.subject == name], name)
        hot = Series([s for s in b if s.subject == name], name)

        assert _rise(hot, calm, "heart_rate", start + MINUTE, MINUTE) < 5, "no jump at once"
        late = start + 3 * HOUR
        temperature = _rise(hot, calm, "body_temperature", late)
        assert temperature > 1.5
        assert abs(_rise(hot, calm, "heart_rate", late) - 8.5 * temperature) < 5


def _rise(hot: Series, calm: Series, type_name: str, at: int, width: int = 10 * MINUTE) -> float:
    """How much higher ``type_name`` is in ``hot`` than in ``calm`` over ``at..at+width``."""
    return statistics.fmean(hot.between(type_name, at, at + width)) - statistics.fmean(
        calm.between(type_name, at, at + width)
    )


def test_apnea_arousals_surge_and_fragment_sleep() -> None:
    start = START + 2 * HOUR
    plain = simulate(start_ms=start, duration_ms=4 * HOUR, scenario="sleep")["default"]
    apnea = simulate(start_ms=start, duration_ms=4 * HOUR, scenario="sleep_apnea")["default"]

    def surge(series: Series) -> float:
        """The 95th percentile of heart-rate rises within 8 s (an arousal is that quick)."""
        hr = series.values("heart_rate")[300:]
        rises = [max(hr[i : i + 8]) - hr[i] for i in range(0, len(hr) - 8, 8)]
        return statistics.quantiles(rises, n=20)[-1]

    assert 10 <= surge(apnea) <= 20, "arousals raise heart rate by 10-20 bpm"
    assert surge(apnea) > surge(plain) + 4

    def share(series: Series, *stages: str) -> float:
        spans = [
            (s.time_ms - s.start_ms, s.value)
            for s in series.by_type["sleep_analysis"]
            if s.start_ms is not None and s.value != "inBed"
        ]
        total = sum(d for d, _ in spans)
        return sum(d for d, v in spans if v in stages) / total

    assert share(apnea, "asleepDeep", "asleepREM") < 0.7 * share(plain, "asleepDeep", "asleepREM")
    assert share(apnea, "awake") > 1.5 * share(plain, "awake")


def test_running_blood_pressure_is_150_to_180() -> None:
    start = START + 10 * HOUR
    names = ["default", "ana", "ben", "cy"]
    sim = Simulator(start, seed=2, subjects=names)
    for name in names:
        sim.set_scenario(name, "workout")
    samples = sim.advance(start + 2 * HOUR)
    systolic = [
        float(s.value)
        for s in samples
        if s.type == "blood_pressure_systolic" and s.time_ms > start + 10 * MINUTE
    ]
    assert len(systolic) >= 20
    assert 150 <= statistics.median(systolic) <= 180
    assert sum(150 <= v <= 185 for v in systolic) >= 0.8 * len(systolic)


def test_days_are_not_all_alike() -> None:
    # Resting heart rate moves by a few bpm from day to day (schedule.DayPlan.rest_offset).
    series = simulate(duration_ms=6 * DAY, subjects=["ana"], cadence="watch")["ana"]
    resting = series.values("resting_heart_rate")
    assert len(resting) >= 5
    assert 2 <= max(resting) - min(resting) <= 10
