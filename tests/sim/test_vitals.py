"""SpO2, breathing, temperature and blood pressure across the day and in scenarios."""

from __future__ import annotations

import statistics

from tests.sim.conftest import DAYS, START, Series, simulate

HOUR = 3_600_000


def test_spo2_awake_is_95_to_100(days: dict[str, Series]) -> None:
    for series in days.values():
        awake = [
            int(s.value)
            for s in series.by_type["oxygen_saturation"]
            if not series.is_in_bed(s.time_ms)
        ]
        assert len(awake) > 1000
        assert min(awake) >= 95 and max(awake) <= 100
        asleep = [
            int(s.value) for s in series.by_type["oxygen_saturation"] if series.is_asleep(s.time_ms)
        ]
        assert statistics.fmean(asleep) < statistics.fmean(awake)  # a little lower asleep
        assert min(asleep) >= 92


def test_spo2_dips_in_sleep_apnea() -> None:
    start = START + 23 * HOUR
    apnea = simulate(start_ms=start, duration_ms=4 * HOUR, scenario="sleep_apnea")["default"]
    sleep = simulate(start_ms=start, duration_ms=4 * HOUR, scenario="sleep")["default"]

    def asleep_spo2(series: Series) -> list[int]:
        return [
            int(s.value) for s in series.by_type["oxygen_saturation"] if series.is_asleep(s.time_ms)
        ]

    usual = statistics.median(asleep_spo2(sleep))

    def dip_share(series: Series) -> float:
        values = asleep_spo2(series)
        return sum(v <= usual - 3 for v in values) / len(values)  # a 3 % desaturation (AASM)

    assert dip_share(apnea) > 0.15
    assert dip_share(sleep) < 0.02
    assert min(apnea.values("oxygen_saturation")) <= 90
    assert all(s.scenario == "sleep_apnea" for s in apnea.samples)


def test_temperature_lowest_near_four_in_the_morning(days: dict[str, Series]) -> None:
    for series in days.values():
        by_hour: dict[int, list[float]] = {}
        for s in series.by_type["body_temperature"]:
            by_hour.setdefault(int(series.local_hour(s.time_ms)), []).append(float(s.value))
        means = {hour: statistics.fmean(v) for hour, v in by_hour.items()}
        coldest = min(means, key=means.__getitem__)
        assert 2 <= coldest <= 6
        assert min(series.values("body_temperature")) >= 35.8
        assert max(series.values("body_temperature")) <= 37.9  # warm after a run, never febrile


def test_fever_raises_temperature_heart_rate_and_breathing() -> None:
    start = START + 10 * HOUR
    normal = simulate(start_ms=start, duration_ms=3 * HOUR)["default"]
    fever = simulate(start_ms=start, duration_ms=3 * HOUR, scenario="fever")["default"]
    late = start + 2 * HOUR
    assert min(fever.between("body_temperature", late, late + HOUR)) >= 38.0
    assert statistics.fmean(fever.between("heart_rate", late, late + HOUR)) > 8 + statistics.fmean(
        normal.between("heart_rate", late, late + HOUR)
    )
    assert statistics.fmean(
        fever.between("respiratory_rate", late, late + HOUR)
    ) > 2 + statistics.fmean(normal.between("respiratory_rate", late, late + HOUR))


def test_breathing_rises_with_exercise(days: dict[str, Series]) -> None:
    for series in days.values():
        resting = [
            float(s.value)
            for s in series.by_type["respiratory_rate"]
            if not series.is_in_bed(s.time_ms) and not series.in_workout(s.time_ms)
        ]
        assert 10 <= statistics.median(resting) <= 20
        for start, end in series.workouts:
            running = series.between("respiratory_rate", start + 5 * 60_000, end)
            assert statistics.fmean(running) > statistics.median(resting) + 8


def test_blood_pressure_pairs_and_night_dip(days: dict[str, Series]) -> None:
    for series in days.values():
        systolic = series.by_type["blood_pressure_systolic"]
        diastolic = series.by_type["blood_pressure_diastolic"]
        assert len(systolic) == len(diastolic) == DAYS * 96 + 1  # every 15 min from the start
        index = {id(s): i for i, s in enumerate(series.samples)}
        for sys_sample, dia_sample in zip(systolic, diastolic, strict=True):
            assert sys_sample.time_ms == dia_sample.time_ms
            assert index[id(dia_sample)] == index[id(sys_sample)] + 1  # systolic first
            assert sys_sample.extra == {"diastolic": dia_sample.value}
            assert isinstance(sys_sample.value, int) and isinstance(dia_sample.value, int)
            assert int(sys_sample.value) > int(dia_sample.value) + 15
        night = [float(s.value) for s in systolic if series.is_asleep(s.time_ms)]
        day = [
            float(s.value)
            for s in systolic
            if not series.is_in_bed(s.time_ms) and not series.in_workout(s.time_ms)
        ]
        assert 95 <= statistics.median(day) <= 135
        assert statistics.fmean(night) < 0.93 * statistics.fmean(day)  # dipping 10-20 %
