"""The fhir format: every output is a valid FHIR R4 Observation with the right codes."""

from __future__ import annotations

import json
from typing import Any

from fhir.resources.R4B.observation import Observation

from biomock.catalogue import TYPES
from biomock.formats import FORMATS
from biomock.formats.fhir import encode_fhir, patient_id
from biomock.sample import Sample, format_time, parse_time
from biomock.sim.devices import CGM

T0 = parse_time("2026-02-03T10:30:00.000Z")

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"

# What a clinical reader expects of each quantity type: LOINC codes, UCUM code, category.
EXPECTED = {
    "heart_rate": ({"8867-4"}, "/min", "vital-signs"),
    "resting_heart_rate": ({"40443-4"}, "/min", "vital-signs"),
    "heart_rate_variability_sdnn": ({"80404-7"}, "ms", None),
    "steps": ({"55423-8"}, "{steps}", "activity"),
    "distance_walking_running": ({"55430-3"}, "m", "activity"),
    "active_energy_burned": ({"41981-2"}, "kcal", "activity"),
    "oxygen_saturation": ({"2708-6", "59408-5"}, "%", "vital-signs"),
    "respiratory_rate": ({"9279-1"}, "/min", "vital-signs"),
    "body_temperature": ({"8310-5"}, "Cel", "vital-signs"),
    "blood_glucose": ({"2339-0"}, "mg/dL", "laboratory"),
    "body_mass": ({"29463-7"}, "kg", "vital-signs"),
}
VITAL_PROFILES = {
    "heart_rate": "heartrate",
    "oxygen_saturation": "oxygensat",
    "respiratory_rate": "resprate",
    "body_temperature": "bodytemp",
    "body_mass": "bodyweight",
    "blood_pressure_systolic": "bp",
}


def _codes(concept: dict[str, Any], system: str = LOINC) -> set[str]:
    return {c["code"] for c in concept["coding"] if c["system"] == system}


def _categories(observation: dict[str, Any]) -> set[str]:
    return {c["code"] for cat in observation.get("category", []) for c in cat["coding"]}


def test_fhir_is_registered() -> None:
    assert FORMATS["fhir"] is encode_fhir


def test_every_output_validates_as_an_r4_observation(samples: list[tuple[int, Sample]]) -> None:
    assert {s.type for _, s in samples} == set(TYPES), "the fixture covers every type"
    encoded = 0
    for sample_id, sample in samples:
        observation = encode_fhir(sample_id, sample)
        if observation is None:
            continue
        # Through JSON, as a client receives it.
        Observation.model_validate(json.loads(json.dumps(observation)))
        assert observation["resourceType"] == "Observation"
        assert observation["status"] == "final"
        assert observation["id"] == str(sample_id)
        assert observation["identifier"][0]["value"] == str(sample_id)
        assert observation["subject"] == {"reference": f"Patient/{patient_id(sample.subject)}"}
        assert observation["issued"] == format_time(sample.time_ms)
        encoded += 1
    # Only the diastolic halves, the workout start event and the sleeping wrist temperature
    # (no LOINC code) are not Observations.
    assert encoded == len(samples) - 3


def test_quantities_carry_loinc_ucum_and_category(samples: list[tuple[int, Sample]]) -> None:
    seen = set()
    for sample_id, sample in samples:
        if sample.type not in EXPECTED or (sample.source and sample.source.kind == "cgm"):
            continue
        codes, ucum, category = EXPECTED[sample.type]
        observation = encode_fhir(sample_id, sample)
        assert observation is not None
        assert _codes(observation["code"]) == codes
        assert TYPES[sample.type].loinc in codes, "the catalogue agrees with the format"
        quantity = observation["valueQuantity"]
        assert quantity["system"] == UCUM
        assert quantity["code"] == ucum
        assert quantity["value"] == sample.value
        assert _categories(observation) == ({category} if category else set())
        seen.add(sample.type)
    assert seen == set(EXPECTED)


def test_cgm_glucose_is_interstitial_and_meter_glucose_is_blood() -> None:
    cgm = encode_fhir(1, Sample("blood_glucose", 102, T0, "mg/dL", source=CGM))
    meter = encode_fhir(2, Sample("blood_glucose", 99, T0, "mg/dL"))
    assert cgm is not None and meter is not None
    Observation.model_validate(cgm)
    assert _codes(cgm["code"]) == {"99504-3"}  # HL7 CGM implementation guide
    assert _codes(meter["code"]) == {"2339-0"}
    assert cgm["device"] == {"display": "Dexcom G7 (G7)"}


def test_vital_signs_name_their_profiles_and_every_observation_its_device(
    samples: list[tuple[int, Sample]],
) -> None:
    base = "http://hl7.org/fhir/StructureDefinition/vitalsigns"
    for sample_id, sample in samples:
        observation = encode_fhir(sample_id, sample)
        if observation is None:
            continue
        source = sample.source
        name = f"{source.name} ({source.device})" if source else "import (unknown)"
        assert observation["device"] == {"display": name}
        if "vital-signs" in _categories(observation):
            profiles = observation["meta"]["profile"]
            assert profiles[0] == base
            specific = VITAL_PROFILES.get(sample.type)
            if specific:
                assert profiles[1:] == [f"http://hl7.org/fhir/StructureDefinition/{specific}"]
        else:
            assert "meta" not in observation


def test_point_samples_have_effective_date_time_and_intervals_a_period(
    samples: list[tuple[int, Sample]],
) -> None:
    for sample_id, sample in samples:
        observation = encode_fhir(sample_id, sample)
        if observation is None:
            continue
        if sample.start_ms is None:
            assert observation["effectiveDateTime"] == format_time(sample.time_ms)
            assert "effectivePeriod" not in observation
        else:
            assert observation["effectivePeriod"] == {
                "start": format_time(sample.start_ms),
                "end": format_time(sample.time_ms),
            }
            assert "effectiveDateTime" not in observation


def test_blood_pressure_is_one_panel_at_the_systolic_sample() -> None:
    systolic = Sample("blood_pressure_systolic", 118, T0, "mmHg", extra={"diastolic": 76})
    diastolic = Sample("blood_pressure_diastolic", 76, T0, "mmHg")
    panel = encode_fhir(7, systolic)
    assert panel is not None
    Observation.model_validate(panel)
    assert _codes(panel["code"]) == {"85354-9"}
    assert "valueQuantity" not in panel
    components = {c["code"]["coding"][0]["code"]: c["valueQuantity"] for c in panel["component"]}
    assert components == {
        "8480-6": {"value": 118, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"},
        "8462-4": {"value": 76, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"},
    }
    assert _categories(panel) == {"vital-signs"}
    assert encode_fhir(8, diastolic) is None


def test_systolic_without_diastolic_is_a_panel_with_one_component() -> None:
    panel = encode_fhir(9, Sample("blood_pressure_systolic", 121, T0, "mmHg"))
    assert panel is not None
    Observation.model_validate(panel)
    assert [c["code"]["coding"][0]["code"] for c in panel["component"]] == ["8480-6"]


def test_sleep_stage_is_coded_with_its_healthkit_value() -> None:
    stage = Sample("sleep_analysis", "asleepREM", T0, None, start_ms=T0 - 600_000)
    observation = encode_fhir(3, stage)
    assert observation is not None
    value = observation["valueCodeableConcept"]
    assert value["text"] == "asleepREM"
    assert value["coding"][0]["code"] == "HKCategoryValueSleepAnalysisAsleepREM"
    assert observation["code"]["coding"][0]["code"] == "HKCategoryTypeIdentifierSleepAnalysis"


def test_workout_end_is_an_exercise_activity_with_its_duration() -> None:
    start = T0 - 45 * 60_000
    end = Sample("workout", "cycling", T0, None, start_ms=start, event="end")
    observation = encode_fhir(4, end)
    assert observation is not None
    assert _codes(observation["code"]) == {"73985-4"}
    assert observation["valueCodeableConcept"]["text"] == "cycling"
    assert observation["valueCodeableConcept"]["coding"][0]["code"] == (
        "HKWorkoutActivityTypeCycling"
    )
    (duration,) = observation["component"]
    assert _codes(duration["code"]) == {"55411-3"}
    assert duration["valueQuantity"]["value"] == 45
    assert duration["valueQuantity"]["code"] == "min"
    assert _categories(observation) == {"activity"}
    began = Sample("workout", "cycling", start, None, event="start")
    assert encode_fhir(5, began) is None


def test_subject_becomes_a_valid_patient_reference() -> None:
    observation = encode_fhir(1, Sample("heart_rate", 60, T0, "count/min", subject="ann lee_2"))
    assert observation is not None
    Observation.model_validate(observation)
    assert observation["subject"]["reference"] == "Patient/ann-lee-2"
