"""The ``fhir`` format: FHIR R4 ``Observation`` resources.

Every Observation has ``status`` ``final``, the LOINC code of its type, UCUM units,
``effectiveDateTime`` (point samples) or ``effectivePeriod`` (intervals), ``issued``
(the sample's timestamp), a subject reference ``Patient/<subject>`` and an ``id`` and
``identifier`` derived from the sample id. Categories: ``vital-signs`` for the vital
signs, ``activity`` for steps, distance, energy and workouts, ``laboratory`` for
glucose; heart-rate variability and sleep carry none, as no category fits.

Mapping notes:

- Oxygen saturation carries both LOINC codings, 2708-6 and 59408-5 (FHIR vital signs).
- Blood pressure is ONE Observation, the panel 85354-9 with components 8480-6
  (systolic) and 8462-4 (diastolic), made from the systolic sample, which carries the
  diastolic value in ``extra["diastolic"]``; the diastolic sample encodes to ``None``.
  A systolic sample without a diastolic value gives a panel with the systolic component.
- Sleep stages have no LOINC code for "this stage, from start to end", so they use
  HealthKit's own code system (as HealthKit-to-FHIR mappings do): code
  ``HKCategoryTypeIdentifierSleepAnalysis``, ``valueCodeableConcept``
  ``HKCategoryValueSleepAnalysis...`` with the stage name as text, ``effectivePeriod``.
- Glucose from a continuous glucose monitor (``source.kind == "cgm"``) is LOINC 99504-3
  "Glucose [Mass/volume] in Interstitial fluid", as the HL7 CGM implementation guide codes
  CGM readings; a meter's reading (any other source) is 2339-0 "in Blood".
- Vital signs carry ``meta.profile``: the base vital-signs profile and, where the code is the
  one its specific profile requires, that profile (heart rate, SpO2, breathing, body
  temperature, body weight, blood pressure).
- ``device``: the recording device as a display-only reference, e.g. "Apple Watch (Watch7,1)".
- Sleeping wrist temperature has no LOINC code for a wrist skin temperature, so it is not
  an Observation here.
- Workouts: the ``end`` event becomes LOINC 73985-4 "Exercise activity" with the
  activity as ``valueCodeableConcept`` (HealthKit activity type coding and text), the
  workout's ``effectivePeriod`` and a 55411-3 "Exercise duration" component in minutes.
  The ``start`` event encodes to ``None``: nothing has been observed yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from biomock.formats.healthkit import SLEEP_VALUES, workout_activity_type
from biomock.sample import IMPORTED, Sample, format_time

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
HEALTHKIT = "http://developer.apple.com/documentation/healthkit"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
PROFILE = "http://hl7.org/fhir/StructureDefinition/"
_VITAL_PROFILES = {
    "heart_rate": "heartrate",
    "oxygen_saturation": "oxygensat",
    "respiratory_rate": "resprate",
    "body_temperature": "bodytemp",
    "body_mass": "bodyweight",
    "blood_pressure_systolic": "bp",
}
"""The FHIR R4 vital-signs profile each type satisfies, beside the base ``vitalsigns``."""
_CGM_GLUCOSE = ("99504-3", "Glucose [Mass/volume] in Interstitial fluid")
IDENTIFIER_SYSTEM = "urn:biomock:sample-id"

_CATEGORY_DISPLAY = {
    "vital-signs": "Vital Signs",
    "activity": "Activity",
    "laboratory": "Laboratory",
}


@dataclass(frozen=True, slots=True)
class _Quantity:
    """How one quantity type is coded: LOINC codings, UCUM unit, category."""

    codings: tuple[tuple[str, str], ...]
    ucum: str
    unit: str
    category: str | None


_QUANTITIES = {
    "heart_rate": _Quantity((("8867-4", "Heart rate"),), "/min", "beats/minute", "vital-signs"),
    "resting_heart_rate": _Quantity(
        (("40443-4", "Heart rate --resting"),), "/min", "beats/minute", "vital-signs"
    ),
    "heart_rate_variability_sdnn": _Quantity(
        (("80404-7", "R-R interval.standard deviation (Heart rate variability)"),),
        "ms",
        "ms",
        None,
    ),
    "steps": _Quantity(
        (("55423-8", "Number of steps in unspecified time Pedometer"),),
        "{steps}",
        "steps",
        "activity",
    ),
    "distance_walking_running": _Quantity(
        (("55430-3", "Walking distance unspecified time Pedometer"),), "m", "m", "activity"
    ),
    "active_energy_burned": _Quantity(
        (("41981-2", "Calories burned"),), "kcal", "kcal", "activity"
    ),
    "oxygen_saturation": _Quantity(
        (
            ("2708-6", "Oxygen saturation in Arterial blood"),
            ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
        ),
        "%",
        "%",
        "vital-signs",
    ),
    "respiratory_rate": _Quantity(
        (("9279-1", "Respiratory rate"),), "/min", "breaths/minute", "vital-signs"
    ),
    "body_temperature": _Quantity((("8310-5", "Body temperature"),), "Cel", "C", "vital-signs"),
    "blood_glucose": _Quantity(
        (("2339-0", "Glucose [Mass/volume] in Blood"),), "mg/dL", "mg/dL", "laboratory"
    ),
    "body_mass": _Quantity((("29463-7", "Body weight"),), "kg", "kg", "vital-signs"),
}

_BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
_SYSTOLIC = ("8480-6", "Systolic blood pressure")
_DIASTOLIC = ("8462-4", "Diastolic blood pressure")
_EXERCISE = ("73985-4", "Exercise activity")
_EXERCISE_DURATION = ("55411-3", "Exercise duration")

_NOT_IN_ID = re.compile(r"[^A-Za-z0-9.-]+")


def patient_id(subject: str) -> str:
    """Return the FHIR id (``[A-Za-z0-9.-]{1,64}``) used for ``subject``."""
    cleaned = _NOT_IN_ID.sub("-", subject)[:64]
    return cleaned or "unknown"


def _concept(system: str, code: str, display: str, text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [{"system": system, "code": code, "display": display}]}
    if text is not None:
        concept["text"] = text
    return concept


def _quantity(value: float | int | str, ucum: str, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": ucum}


def _effective(sample: Sample) -> dict[str, Any]:
    if sample.start_ms is None:
        return {"effectiveDateTime": format_time(sample.time_ms)}
    start, end = format_time(sample.start_ms), format_time(sample.time_ms)
    return {"effectivePeriod": {"start": start, "end": end}}


def _coded(sample: Sample) -> tuple[str | None, dict[str, Any], dict[str, Any]] | None:
    """Return (category, code, value/component fields) of ``sample``, or ``None``."""
    spec = _QUANTITIES.get(sample.type)
    if spec is not None:
        codings = spec.codings
        source = sample.source
        if sample.type == "blood_glucose" and source is not None and source.kind == "cgm":
            codings = (_CGM_GLUCOSE,)
        coding = [{"system": LOINC, "code": c, "display": d} for c, d in codings]
        code = {"coding": coding, "text": codings[0][1]}
        return spec.category, code, {"valueQuantity": _quantity(sample.value, spec.ucum, spec.unit)}
    if sample.type == "blood_pressure_systolic":
        components = [_component(_SYSTOLIC, _quantity(sample.value, "mm[Hg]", "mmHg"))]
        diastolic = sample.extra.get("diastolic")
        if isinstance(diastolic, int | float) and not isinstance(diastolic, bool):
            components.append(_component(_DIASTOLIC, _quantity(diastolic, "mm[Hg]", "mmHg")))
        return (
            "vital-signs",
            _concept(LOINC, *_BP_PANEL, "Blood pressure"),
            {"component": components},
        )
    if sample.type == "sleep_analysis":
        stage = str(sample.value)
        code = _concept(HEALTHKIT, "HKCategoryTypeIdentifierSleepAnalysis", "Sleep analysis")
        value = _concept(HEALTHKIT, SLEEP_VALUES.get(stage, stage), stage, stage)
        return None, code, {"valueCodeableConcept": value}
    if sample.type == "workout" and sample.event == "end" and sample.start_ms is not None:
        activity = str(sample.value)
        value = _concept(HEALTHKIT, workout_activity_type(activity), activity, activity)
        minutes = round((sample.time_ms - sample.start_ms) / 60_000, 3)
        duration = _component(_EXERCISE_DURATION, _quantity(minutes, "min", "min"))
        fields = {"valueCodeableConcept": value, "component": [duration]}
        return "activity", _concept(LOINC, *_EXERCISE), fields
    return None


def _component(code: tuple[str, str], quantity: dict[str, Any]) -> dict[str, Any]:
    return {"code": _concept(LOINC, *code), "valueQuantity": quantity}


def encode_fhir(sample_id: int, sample: Sample) -> dict[str, Any] | None:
    """Return the FHIR R4 Observation of ``sample``, or ``None`` if it is not one."""
    coded = _coded(sample)
    if coded is None:
        return None
    category, code, fields = coded
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(sample_id),
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": str(sample_id)}],
        "status": "final",
    }
    if category == "vital-signs":
        profiles = [PROFILE + "vitalsigns"]
        specific = _VITAL_PROFILES.get(sample.type)
        if specific is not None:
            profiles.append(PROFILE + specific)
        observation["meta"] = {"profile": profiles}
    if category is not None:
        observation["category"] = [_concept(CATEGORY, category, _CATEGORY_DISPLAY[category])]
    observation["code"] = code
    observation["subject"] = {"reference": f"Patient/{patient_id(sample.subject)}"}
    observation.update(_effective(sample))
    observation["issued"] = format_time(sample.time_ms)
    source = sample.source or IMPORTED
    observation["device"] = {"display": f"{source.name} ({source.device})"}
    observation.update(fields)
    return observation
