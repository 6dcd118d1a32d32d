"""Samples of every catalogue type, shaped as the producers make them."""

from __future__ import annotations

from biomock.catalogue import SLEEP_STAGES
from biomock.sample import Sample, parse_time
from biomock.sim.devices import BP_CUFF, CGM, PHONE, SCALE, WATCH

T0 = parse_time("2026-02-03T10:30:00.000Z")
MINUTE = 60_000


def every_kind_of_sample() -> list[Sample]:
    """One or more samples of every catalogue type, with the producers' conventions."""
    night = {"asleep_min": 401.5, "latency_min": 12.0, "awakenings": 5, "main_sleep": True}
    totals = {"duration_s": 1800.0, "total_energy_kcal": 312.4, "total_distance_m": 5210.3}
    samples = [
        Sample("heart_rate", 72, T0, "count/min", scenario="normal_day"),
        Sample(
            "heart_rate",
            64,
            T0,
            "count/min",
            scenario="normal_day",
            extra={"motion_context": "sedentary"},
            source=WATCH,
        ),
        Sample("heart_rate", 71.5, T0 + 1000, "count/min", subject="runner_2"),
        Sample("heart_rate_variability_sdnn", 45.2, T0, "ms"),
        Sample("resting_heart_rate", 58, T0, "count/min"),
        Sample("steps", 120, T0, "count", start_ms=T0 - MINUTE),
        Sample("steps", 410, T0, "count", start_ms=T0 - 5 * MINUTE, source=PHONE),
        Sample("distance_walking_running", 85.3, T0, "m", start_ms=T0 - MINUTE),
        Sample("active_energy_burned", 4.2, T0, "kcal", start_ms=T0 - MINUTE),
        Sample("oxygen_saturation", 97, T0, "%"),
        Sample("oxygen_saturation", 96.5, T0 + MINUTE, "%"),
        Sample("respiratory_rate", 14, T0, "count/min"),
        Sample("body_temperature", 36.7, T0, "degC"),
        Sample("sleeping_wrist_temperature", 34.9, T0, "degC", start_ms=T0 - 420 * MINUTE),
        Sample("body_mass", 71.3, T0, "kg", source=SCALE),
        Sample("blood_pressure_systolic", 118, T0, "mmHg", extra={"diastolic": 76}, source=BP_CUFF),
        Sample("blood_pressure_diastolic", 76, T0, "mmHg"),
        Sample("blood_pressure_systolic", 121, T0 + 15 * MINUTE, "mmHg"),
        Sample("blood_glucose", 95, T0, "mg/dL"),
        Sample("blood_glucose", 102, T0, "mg/dL", source=CGM),
        Sample("workout", "running", T0 - 30 * MINUTE, None, event="start", scenario="workout"),
        Sample(
            "workout",
            "running",
            T0,
            None,
            start_ms=T0 - 30 * MINUTE,
            event="end",
            extra=totals,
            source=WATCH,
        ),
        Sample("workout", "stair_climbing", T0, None, start_ms=T0 - 20 * MINUTE, event="end"),
        Sample("workout", "underwater hockey", T0, None, start_ms=T0 - 5 * MINUTE, event="end"),
    ]
    samples += [
        Sample("sleep_analysis", stage, T0, None, start_ms=T0 - 25 * MINUTE)
        for stage in SLEEP_STAGES
    ]
    samples.append(
        Sample("sleep_analysis", "inBed", T0, None, start_ms=T0 - 450 * MINUTE, extra=night)
    )
    return samples
