"""The catalogue of sample types biomock knows: names, units, kinds and codes.

Every producer emits only these types, in these canonical units; every
consumer (filters, formats, the dashboard) reads their metadata from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["quantity", "category", "interval"]


@dataclass(frozen=True, slots=True)
class SampleType:
    """Metadata of one sample type.

    Attributes:
        name: the API name, e.g. ``heart_rate``.
        unit: the canonical unit (UCUM-like, as HealthKit spells it), ``None`` for categories.
        kind: ``quantity`` (a point value), ``interval`` (a value over ``start``..``timestamp``)
            or ``category`` (a string value; sleep stages and workouts also carry ``start``).
        healthkit: the HealthKit type identifier.
        loinc: the LOINC code, where one exists.
        normal_range: a healthy adult's usual range, ``None`` where it does not apply.
        cadence_s: how often a watch-like device reports it in the ``dense`` cadence
            profile, in seconds of simulated time; ``None`` for event-driven types (sleep
            stages, workouts, the night's sleeping wrist temperature).
        has_start: whether samples carry ``start`` (interval and category types).
        omh_schema: the Open mHealth schema its samples are published as, as
            ``namespace:name:version``; ``None`` where no published schema fits, and such
            samples are skipped in the ``openmhealth`` format.
    """

    name: str
    unit: str | None
    kind: Kind
    healthkit: str
    loinc: str | None
    normal_range: tuple[float, float] | None
    cadence_s: float | None
    has_start: bool = False
    omh_schema: str | None = None


_TYPES = (
    SampleType(
        "heart_rate",
        "count/min",
        "quantity",
        "HKQuantityTypeIdentifierHeartRate",
        "8867-4",
        (60, 100),
        1,
        omh_schema="omh:heart-rate:2.0",
    ),
    SampleType(
        "heart_rate_variability_sdnn",
        "ms",
        "quantity",
        "HKQuantityTypeIdentifierHeartRateVariabilitySDNN",
        "80404-7",
        (20, 100),
        300,
    ),
    SampleType(
        "resting_heart_rate",
        "count/min",
        "quantity",
        "HKQuantityTypeIdentifierRestingHeartRate",
        "40443-4",
        (50, 90),
        86400,
        omh_schema="omh:heart-rate:2.0",
    ),
    SampleType(
        "steps",
        "count",
        "interval",
        "HKQuantityTypeIdentifierStepCount",
        "55423-8",
        None,
        60,
        has_start=True,
        omh_schema="omh:step-count:3.0",
    ),
    SampleType(
        "distance_walking_running",
        "m",
        "interval",
        "HKQuantityTypeIdentifierDistanceWalkingRunning",
        "55430-3",
        None,
        60,
        has_start=True,
    ),
    SampleType(
        "active_energy_burned",
        "kcal",
        "interval",
        "HKQuantityTypeIdentifierActiveEnergyBurned",
        "41981-2",
        None,
        60,
        has_start=True,
        omh_schema="omh:calories-burned:2.0",
    ),
    SampleType(
        "oxygen_saturation",
        "%",
        "quantity",
        "HKQuantityTypeIdentifierOxygenSaturation",
        "59408-5",
        (95, 100),
        60,
        omh_schema="omh:oxygen-saturation:2.0",
    ),
    SampleType(
        "respiratory_rate",
        "count/min",
        "quantity",
        "HKQuantityTypeIdentifierRespiratoryRate",
        "9279-1",
        (12, 20),
        60,
        omh_schema="omh:respiratory-rate:2.0",
    ),
    SampleType(
        "body_temperature",
        "degC",
        "quantity",
        "HKQuantityTypeIdentifierBodyTemperature",
        "8310-5",
        (36.1, 37.2),
        300,
        omh_schema="omh:body-temperature:4.0",
    ),
    SampleType(
        "sleeping_wrist_temperature",
        "degC",
        "interval",
        "HKQuantityTypeIdentifierAppleSleepingWristTemperature",
        None,
        (33.5, 36.5),
        None,
        has_start=True,
        omh_schema="omh:body-temperature:4.0",
    ),
    SampleType(
        "blood_pressure_systolic",
        "mmHg",
        "quantity",
        "HKQuantityTypeIdentifierBloodPressureSystolic",
        "8480-6",
        (90, 120),
        900,
        omh_schema="omh:blood-pressure:4.0",
    ),
    SampleType(
        "blood_pressure_diastolic",
        "mmHg",
        "quantity",
        "HKQuantityTypeIdentifierBloodPressureDiastolic",
        "8462-4",
        (60, 80),
        900,
        omh_schema="omh:blood-pressure:4.0",
    ),
    SampleType(
        "blood_glucose",
        "mg/dL",
        "quantity",
        "HKQuantityTypeIdentifierBloodGlucose",
        "2339-0",
        (70, 140),
        300,
        omh_schema="omh:blood-glucose:4.0",
    ),
    SampleType(
        "body_mass",
        "kg",
        "quantity",
        "HKQuantityTypeIdentifierBodyMass",
        "29463-7",
        None,
        86400,
        omh_schema="omh:body-weight:2.0",
    ),
    SampleType(
        "sleep_analysis",
        None,
        "category",
        "HKCategoryTypeIdentifierSleepAnalysis",
        None,
        None,
        None,
        has_start=True,
        omh_schema="omh:sleep-episode:1.1",
    ),
    SampleType(
        "workout",
        None,
        "category",
        "HKWorkoutTypeIdentifier",
        None,
        None,
        None,
        has_start=True,
        omh_schema="omh:physical-activity:1.2",
    ),
)

TYPES: dict[str, SampleType] = {t.name: t for t in _TYPES}
"""Every known type by API name, in catalogue order."""

SLEEP_STAGES = ("inBed", "awake", "asleepUnspecified", "asleepCore", "asleepDeep", "asleepREM")
"""The values of ``sleep_analysis`` samples."""
