"""The ``healthkit`` format: samples as an iOS app reads them from HealthKit.

Every sample becomes one object shaped like an ``HKSample``:

- ``type``: the HealthKit type identifier (``HKQuantityTypeIdentifierHeartRate``,
  ``HKCategoryTypeIdentifierSleepAnalysis``, ``HKWorkoutTypeIdentifier``);
- ``id``: the stream's sample id, kept so clients can resume and deduplicate;
- ``startDate`` / ``endDate``: equal for point samples, the interval otherwise;
- quantities: ``value`` and ``unit`` in HealthKit's unit strings (``count/min``, ``%``,
  ``degC``, ``mg/dL``...); percentages are fractions, as HealthKit stores them
  (``oxygen_saturation`` 97 becomes 0.97 with unit ``%``);
- sleep stages: ``value`` is the ``HKCategoryValueSleepAnalysis...`` name, no unit;
- workouts: ``workoutActivityType`` (``HKWorkoutActivityTypeRunning``...) and ``event``
  (``start`` / ``end``); a ``start`` event has ``startDate == endDate`` (the workout's start);
- ``sourceName``: the recording device's name (``Apple Watch``, ``iPhone``, ``Dexcom G7``;
  ``import`` for a replayed file that names none) and ``device``: ``{"name", "model",
  "softwareVersion"}``, as ``HKSourceRevision`` and ``HKDevice`` give them; ``subject``: the
  simulated person;
- a workout's ``end`` event carries ``duration`` (seconds), ``totalEnergyBurned`` (kcal) and
  ``totalDistance`` (m), as ``HKWorkout`` does;
- ``metadata``: the scenario and any further fields (e.g. a systolic reading's
  ``diastolic``), present only when there is something to say; a heart-rate reading's
  motion context is ``HKMetadataKeyHeartRateMotionContext`` (1 sedentary, 2 active, as
  ``HKHeartRateMotionContext``).

Blood pressure stays two quantity samples (systolic and diastolic), as HealthKit
stores them inside its blood-pressure correlation.
"""

from __future__ import annotations

import re
from typing import Any

from biomock.catalogue import TYPES
from biomock.sample import IMPORTED, JSONScalar, Sample, format_time

MOTION_CONTEXT = {"sedentary": 1, "active": 2}
"""``HKHeartRateMotionContext`` raw values (0 is notSet)."""
_WORKOUT_TOTALS = ("duration_s", "total_energy_kcal", "total_distance_m")

_FRACTION_UNITS = frozenset({"%"})
"""Units whose values HealthKit stores as fractions of one."""

SLEEP_VALUES = {
    "inBed": "HKCategoryValueSleepAnalysisInBed",
    "awake": "HKCategoryValueSleepAnalysisAwake",
    "asleepUnspecified": "HKCategoryValueSleepAnalysisAsleepUnspecified",
    "asleepCore": "HKCategoryValueSleepAnalysisAsleepCore",
    "asleepDeep": "HKCategoryValueSleepAnalysisAsleepDeep",
    "asleepREM": "HKCategoryValueSleepAnalysisAsleepREM",
}
"""HealthKit's ``HKCategoryValueSleepAnalysis`` case for each of ``catalogue.SLEEP_STAGES``."""

# A subset of HKWorkoutActivityType, by the case names HealthKit gives them.
_WORKOUT_ACTIVITIES = frozenset(
    {
        "americanFootball", "badminton", "baseball", "basketball", "boxing", "climbing",
        "cooldown", "coreTraining", "crossTraining", "cycling", "dance", "elliptical",
        "flexibility", "functionalStrengthTraining", "golf", "gymnastics", "hiking", "hockey",
        "highIntensityIntervalTraining", "jumpRope", "kickboxing", "mixedCardio",
        "mindAndBody", "pilates", "rowing", "running", "skatingSports", "soccer",
        "stairClimbing", "stairs", "stepTraining", "swimming", "tableTennis", "tennis",
        "traditionalStrengthTraining", "volleyball", "walking", "yoga",
    }
)  # fmt: skip
_WORKOUT_ALIASES = {
    "hiit": "highIntensityIntervalTraining",
    "strength": "traditionalStrengthTraining",
    "strengthTraining": "traditionalStrengthTraining",
    "weights": "traditionalStrengthTraining",
    "bike": "cycling",
    "run": "running",
    "walk": "walking",
    "swim": "swimming",
}


def workout_activity_type(activity: str) -> str:
    """Return the ``HKWorkoutActivityType...`` name of a workout activity.

    ``running``, ``stair_climbing`` and ``stairClimbing`` are all understood;
    activities HealthKit has no case for become ``HKWorkoutActivityTypeOther``.
    """
    camel = re.sub(r"[_\s-]+(\w)", lambda m: m.group(1).upper(), activity.strip())
    camel = _WORKOUT_ALIASES.get(camel, camel)
    if camel not in _WORKOUT_ACTIVITIES:
        return "HKWorkoutActivityTypeOther"
    return "HKWorkoutActivityType" + camel[0].upper() + camel[1:]


def encode_healthkit(sample_id: int, sample: Sample) -> dict[str, Any]:
    """Return the HealthKit-shaped JSON object of ``sample`` numbered ``sample_id``."""
    sample_type = TYPES[sample.type]
    start_ms = sample.start_ms if sample.start_ms is not None else sample.time_ms
    body: dict[str, Any] = {
        "type": sample_type.healthkit,
        "id": sample_id,
        "startDate": format_time(start_ms),
        "endDate": format_time(sample.time_ms),
    }
    extra = dict(sample.extra)
    if sample.type == "workout":
        body["workoutActivityType"] = workout_activity_type(str(sample.value))
        body["event"] = sample.event
        if sample.event == "end":
            totals = [extra.pop(key, None) for key in _WORKOUT_TOTALS]
            duration, energy, distance = totals
            if duration is not None:
                body["duration"] = duration
            if energy is not None:
                body["totalEnergyBurned"] = {"value": energy, "unit": "kcal"}
            if distance is not None:
                body["totalDistance"] = {"value": distance, "unit": "m"}
    elif sample.type == "sleep_analysis":
        body["value"] = SLEEP_VALUES.get(str(sample.value), str(sample.value))
    else:
        body["value"] = _quantity(sample.value, sample.unit)
        body["unit"] = sample.unit
    source = sample.source or IMPORTED
    body["sourceName"] = source.name
    body["device"] = {"name": source.name, "model": source.device, "softwareVersion": source.os}
    body["subject"] = sample.subject
    metadata: dict[str, JSONScalar] = {}
    if sample.scenario is not None:
        metadata["scenario"] = sample.scenario
    context = extra.pop("motion_context", None)
    if isinstance(context, str) and context in MOTION_CONTEXT:
        metadata["HKMetadataKeyHeartRateMotionContext"] = MOTION_CONTEXT[context]
    metadata.update(extra)
    if metadata:
        body["metadata"] = metadata
    return body


def _quantity(value: float | int | str, unit: str | None) -> float | int | str:
    if unit in _FRACTION_UNITS and isinstance(value, int | float):
        # round() drops binary noise such as 0.9730000000000001.
        return round(value / 100, 6)
    return value
