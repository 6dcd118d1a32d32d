"""The healthkit format: samples shaped as an iOS app reads them from HealthKit."""

from __future__ import annotations

from biomock.catalogue import SLEEP_STAGES, TYPES
from biomock.formats import FORMATS
from biomock.formats.healthkit import encode_healthkit, workout_activity_type
from biomock.sample import Sample, format_time, parse_time
from biomock.sim.devices import PHONE, WATCH

T0 = parse_time("2026-02-03T10:30:00.000Z")

HEALTHKIT_UNITS = {"count/min", "ms", "count", "m", "kcal", "%", "degC", "mmHg", "mg/dL", "kg"}


def test_healthkit_is_registered() -> None:
    assert FORMATS["healthkit"] is encode_healthkit


def test_every_sample_has_the_healthkit_shape(samples: list[tuple[int, Sample]]) -> None:
    for sample_id, sample in samples:
        hk = encode_healthkit(sample_id, sample)
        assert hk["type"] == TYPES[sample.type].healthkit
        assert hk["id"] == sample_id
        source = sample.source
        assert hk["sourceName"] == (source.name if source else "import")
        assert hk["device"]["model"] == (source.device if source else "unknown")
        assert hk["subject"] == sample.subject
        assert hk["endDate"] == format_time(sample.time_ms)
        start = sample.start_ms if sample.start_ms is not None else sample.time_ms
        assert hk["startDate"] == format_time(start)
        if TYPES[sample.type].unit is None:
            assert "unit" not in hk
        else:
            assert hk["unit"] in HEALTHKIT_UNITS
            assert isinstance(hk["value"], int | float)


def test_percentages_are_fractions() -> None:
    hk = encode_healthkit(1, Sample("oxygen_saturation", 97, T0, "%"))
    assert (hk["value"], hk["unit"]) == (0.97, "%")
    assert encode_healthkit(2, Sample("oxygen_saturation", 97.3, T0, "%"))["value"] == 0.973


def test_quantities_keep_their_value_and_unit() -> None:
    hk = encode_healthkit(1, Sample("body_temperature", 36.7, T0, "degC", scenario="fever"))
    assert (hk["value"], hk["unit"]) == (36.7, "degC")
    assert hk["metadata"] == {"scenario": "fever"}
    assert "metadata" not in encode_healthkit(2, Sample("heart_rate", 60, T0, "count/min"))


def test_sleep_stages_use_healthkit_value_names() -> None:
    names = {
        stage: encode_healthkit(1, Sample("sleep_analysis", stage, T0, None, start_ms=T0))["value"]
        for stage in SLEEP_STAGES
    }
    assert names == {
        "inBed": "HKCategoryValueSleepAnalysisInBed",
        "awake": "HKCategoryValueSleepAnalysisAwake",
        "asleepUnspecified": "HKCategoryValueSleepAnalysisAsleepUnspecified",
        "asleepCore": "HKCategoryValueSleepAnalysisAsleepCore",
        "asleepDeep": "HKCategoryValueSleepAnalysisAsleepDeep",
        "asleepREM": "HKCategoryValueSleepAnalysisAsleepREM",
    }


def test_workouts_carry_activity_type_and_event() -> None:
    began = encode_healthkit(1, Sample("workout", "running", T0, None, event="start"))
    assert began["type"] == "HKWorkoutTypeIdentifier"
    assert began["workoutActivityType"] == "HKWorkoutActivityTypeRunning"
    assert began["event"] == "start"
    assert began["startDate"] == began["endDate"] == format_time(T0)
    totals = {"duration_s": 1800.0, "total_energy_kcal": 312.4, "total_distance_m": 5210.3}
    ended = encode_healthkit(
        2,
        Sample("workout", "running", T0, None, start_ms=T0 - 1_800_000, event="end", extra=totals),
    )
    assert (ended["event"], ended["startDate"]) == ("end", format_time(T0 - 1_800_000))
    assert ended["duration"] == 1800.0
    assert ended["totalEnergyBurned"] == {"value": 312.4, "unit": "kcal"}
    assert ended["totalDistance"] == {"value": 5210.3, "unit": "m"}
    assert "metadata" not in ended  # the totals are HKWorkout's own fields


def test_source_and_heart_rate_motion_context() -> None:
    hr = Sample(
        "heart_rate", 64, T0, "count/min", extra={"motion_context": "sedentary"}, source=WATCH
    )
    hk = encode_healthkit(1, hr)
    assert hk["sourceName"] == "Apple Watch"
    assert hk["device"] == {"name": "Apple Watch", "model": "Watch7,1", "softwareVersion": "11.2"}
    assert hk["metadata"] == {"HKMetadataKeyHeartRateMotionContext": 1}
    steps = encode_healthkit(2, Sample("steps", 300, T0, "count", start_ms=T0, source=PHONE))
    assert steps["sourceName"] == "iPhone"


def test_workout_activity_names() -> None:
    assert workout_activity_type("cycling") == "HKWorkoutActivityTypeCycling"
    assert workout_activity_type("stair_climbing") == "HKWorkoutActivityTypeStairClimbing"
    assert workout_activity_type("hiit") == "HKWorkoutActivityTypeHighIntensityIntervalTraining"
    assert workout_activity_type("underwater hockey") == "HKWorkoutActivityTypeOther"


def test_blood_pressure_halves_stay_separate_samples() -> None:
    systolic = Sample("blood_pressure_systolic", 118, T0, "mmHg", extra={"diastolic": 76})
    hk = encode_healthkit(1, systolic)
    assert hk["type"] == "HKQuantityTypeIdentifierBloodPressureSystolic"
    assert hk["metadata"] == {"diastolic": 76}
    diastolic = encode_healthkit(2, Sample("blood_pressure_diastolic", 76, T0, "mmHg"))
    assert (diastolic["type"], diastolic["value"]) == (
        "HKQuantityTypeIdentifierBloodPressureDiastolic",
        76,
    )
