"""The openmhealth format, checked against the published schema definitions."""

from __future__ import annotations

import json
import uuid
from typing import Any

from biomock.catalogue import TYPES
from biomock.formats import FORMATS
from biomock.formats.openmhealth import data_point_uuid, encode_openmhealth
from biomock.sample import Sample, format_time, parse_time
from biomock.sim import Simulator
from tests.formats.omh_schemas import check_data_point

T0 = parse_time("2026-02-03T10:30:00.000Z")


def test_openmhealth_is_registered() -> None:
    assert FORMATS["openmhealth"] is encode_openmhealth


def test_every_output_follows_its_published_schema(samples: list[tuple[int, Sample]]) -> None:
    produced = set()
    for sample_id, sample in samples:
        point = encode_openmhealth(sample_id, sample)
        if point is None:
            continue
        point = json.loads(json.dumps(point))
        name, version = check_data_point(point, sample_id)
        assert TYPES[sample.type].omh_schema == f"omh:{name}:{version}"
        produced.add(sample.type)
    with_schema = {t.name for t in TYPES.values() if t.omh_schema}
    assert produced == with_schema - {"blood_pressure_diastolic"}


def test_types_without_a_schema_are_skipped(samples: list[tuple[int, Sample]]) -> None:
    without = {t.name for t in TYPES.values() if t.omh_schema is None}
    assert without == {"heart_rate_variability_sdnn", "distance_walking_running"}
    for sample_id, sample in samples:
        if sample.type in without:
            assert encode_openmhealth(sample_id, sample) is None


def test_values_and_time_frames_follow_the_sample() -> None:
    point = encode_openmhealth(5, Sample("oxygen_saturation", 97, T0, "%"))
    assert point is not None
    assert point["body"]["oxygen_saturation"] == {"value": 97, "unit": "%"}
    assert point["body"]["effective_time_frame"] == {"date_time": format_time(T0)}
    steps = Sample("steps", 120, T0, "count", start_ms=T0 - 60_000)
    point = encode_openmhealth(6, steps)
    assert point is not None
    assert point["body"]["step_count"] == {"value": 120, "unit": "steps"}
    assert point["body"]["effective_time_frame"] == {
        "time_interval": {
            "start_date_time": format_time(T0 - 60_000),
            "end_date_time": format_time(T0),
        }
    }
    resting = encode_openmhealth(7, Sample("resting_heart_rate", 55, T0, "count/min"))
    assert resting is not None
    assert resting["body"]["temporal_relationship_to_physical_activity"] == "at rest"


def test_blood_pressure_is_one_data_point_with_both_values() -> None:
    systolic = Sample("blood_pressure_systolic", 118, T0, "mmHg", extra={"diastolic": 76})
    point = encode_openmhealth(10, systolic)
    assert point is not None
    assert point["body"]["systolic_blood_pressure"] == {"value": 118, "unit": "mmHg"}
    assert point["body"]["diastolic_blood_pressure"] == {"value": 76, "unit": "mmHg"}
    assert encode_openmhealth(11, Sample("blood_pressure_diastolic", 76, T0, "mmHg")) is None
    # The schema requires both values: a lone systolic reading has no data point.
    assert encode_openmhealth(12, Sample("blood_pressure_systolic", 118, T0, "mmHg")) is None


def test_a_night_is_one_sleep_episode_with_its_summary() -> None:
    def stage(value: str, **extra: float | bool) -> dict[str, Any] | None:
        sample = Sample("sleep_analysis", value, T0, None, start_ms=T0 - 480 * 60_000, extra=extra)
        return encode_openmhealth(1, sample)

    for value in ("asleepDeep", "asleepCore", "asleepREM", "awake"):
        assert stage(value) is None  # stages are parts of the night, not episodes
    night = stage("inBed", asleep_min=421.5, latency_min=14.0, awakenings=6, main_sleep=True)
    assert night is not None
    assert night["body"]["total_sleep_time"] == {"value": 421.5, "unit": "min"}
    assert night["body"]["latency_to_sleep_onset"] == {"value": 14.0, "unit": "min"}
    assert night["body"]["number_of_awakenings"] == 6
    assert night["body"]["is_main_sleep"] is True
    assert night["body"]["effective_time_frame"]["time_interval"]["start_date_time"] == (
        format_time(T0 - 480 * 60_000)
    )


def test_simulated_nights_give_one_episode_each() -> None:
    start = parse_time("2026-03-02T00:00:00Z")
    sim = Simulator(start, seed=4, subjects=["default"], cadence="watch")
    episodes = [
        point
        for i, sample in enumerate(sim.advance(start + 3 * 86_400_000))
        if sample.type == "sleep_analysis" and (point := encode_openmhealth(i, sample))
    ]
    assert 2 <= len(episodes) <= 3
    for point in episodes:
        body = point["body"]
        assert body["is_main_sleep"] is True
        assert 5 <= body["latency_to_sleep_onset"]["value"] <= 60
        assert 1 <= body["number_of_awakenings"] <= 25
        assert point["header"]["acquisition_provenance"]["source_name"] == "Apple Watch"


def test_uuid_is_stable_and_distinct() -> None:
    # Pinned: a changed namespace would give every stored data point a new identity.
    assert data_point_uuid(1042) == "991efbc6-8045-5b8f-9a88-f498c9b1a2e2"
    assert data_point_uuid(1042) == data_point_uuid(1042)
    assert len({data_point_uuid(i) for i in range(1000)}) == 1000
    assert uuid.UUID(data_point_uuid(7)).version == 5
