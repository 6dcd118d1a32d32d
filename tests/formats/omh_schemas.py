"""Checks transcribed from the published Open mHealth schema definitions.

For each schema (omh namespace) and the IEEE 1752.1 building blocks it references:
its properties, required properties, the unit enums of its unit-value properties,
string enums, and whether its effective time frame must be a time interval; and the
IEEE 1752.1 / omh header. Used by the format tests and the served-format tests.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from biomock.formats.openmhealth import data_point_uuid
from biomock.sample import parse_time

DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
"""RFC 3339 section 5.6 date-time, as ieee date-time-1.0 requires."""

DURATION_UNITS = {"ps", "ns", "us", "ms", "sec", "min", "h", "d", "wk", "Mo", "yr"}
"""ieee duration-unit-value-1.0."""


@dataclass(frozen=True)
class Schema:
    """The parts of one published schema a data point's body must satisfy."""

    properties: set[str]
    required: set[str]
    unit_values: dict[str, set[str]] = field(default_factory=dict)
    enums: dict[str, set[str]] = field(default_factory=dict)
    interval_only: bool = False
    strings: set[str] = field(default_factory=set)


ACTIVITY = {"at rest", "active", "before exercise", "after exercise", "during exercise"}

SCHEMAS = {
    ("heart-rate", "2.0"): Schema(
        {
            "heart_rate",
            "effective_time_frame",
            "descriptive_statistic",
            "temporal_relationship_to_physical_activity",
            "temporal_relationship_to_sleep",
        },
        {"heart_rate", "effective_time_frame"},
        {"heart_rate": {"beats/min"}},
        {"temporal_relationship_to_physical_activity": ACTIVITY},
    ),
    ("step-count", "3.0"): Schema(
        {
            "step_count",
            "effective_time_frame",
            "descriptive_statistic",
            "descriptive_statistic_denominator",
        },
        {"step_count", "effective_time_frame"},
        {"step_count": {"steps"}},
        interval_only=True,
    ),
    ("calories-burned", "2.0"): Schema(
        {
            "kcal_burned",
            "activity_name",
            "effective_time_frame",
            "descriptive_statistic",
            "statistic_window",
        },
        {"kcal_burned", "effective_time_frame"},
        {"kcal_burned": {"kcal"}},
        interval_only=True,
    ),
    ("oxygen-saturation", "2.0"): Schema(
        {
            "oxygen_saturation",
            "system",
            "supplemental_oxygen_flow_rate",
            "oxygen_therapy_mode_of_administration",
            "measurement_method",
            "effective_time_frame",
            "descriptive_statistic",
        },
        {"oxygen_saturation", "effective_time_frame"},
        {"oxygen_saturation": {"%"}, "supplemental_oxygen_flow_rate": {"L/min"}},
        {
            "system": {"peripheral capillary"},
            "measurement_method": {"pulse oximetry"},
            "oxygen_therapy_mode_of_administration": {"nasal cannula"},
        },
    ),
    ("respiratory-rate", "2.0"): Schema(
        {
            "respiratory_rate",
            "effective_time_frame",
            "descriptive_statistic",
            "temporal_relationship_to_physical_activity",
        },
        {"respiratory_rate", "effective_time_frame"},
        {"respiratory_rate": {"breaths/min"}},
        {"temporal_relationship_to_physical_activity": ACTIVITY},
    ),
    ("body-temperature", "4.0"): Schema(
        {
            "body_temperature",
            "effective_time_frame",
            "descriptive_statistic",
            "measurement_location",
            "temporal_relationship_to_sleep",
        },
        {"body_temperature", "effective_time_frame"},
        {"body_temperature": {"K", "F", "C"}},
        {
            "measurement_location": {
                "axillary",
                "finger",
                "forehead",
                "oral",
                "rectal",
                "temporal artery",
                "toe",
                "tympanic",
                "wrist",
                "vagina",
            },
            "temporal_relationship_to_sleep": {"before sleeping", "during sleep", "on waking"},
        },
    ),
    ("body-weight", "2.0"): Schema(
        {"body_weight", "effective_time_frame", "descriptive_statistic"},
        {"body_weight", "effective_time_frame"},
        {"body_weight": {"fg", "pg", "ng", "ug", "mg", "g", "kg", "Metric Ton", "gr", "oz", "lb"}},
    ),
    ("blood-pressure", "4.0"): Schema(
        {
            "systolic_blood_pressure",
            "diastolic_blood_pressure",
            "effective_time_frame",
            "body_posture",
            "descriptive_statistic",
            "measurement_location",
            "temporal_relationship_to_physical_activity",
        },
        {"systolic_blood_pressure", "diastolic_blood_pressure", "effective_time_frame"},
        {"systolic_blood_pressure": {"mmHg"}, "diastolic_blood_pressure": {"mmHg"}},
    ),
    ("blood-glucose", "4.0"): Schema(
        {
            "blood_glucose",
            "specimen_source",
            "effective_time_frame",
            "temporal_relationship_to_meal",
            "temporal_relationship_to_sleep",
            "descriptive_statistic",
        },
        {"blood_glucose", "effective_time_frame"},
        {"blood_glucose": {"mg/dL", "mmol/L"}},
    ),
    ("sleep-episode", "1.1"): Schema(
        {
            "latency_to_sleep_onset",
            "latency_to_arising",
            "total_sleep_time",
            "wake_after_sleep_onset",
            "number_of_awakenings",
            "is_main_sleep",
            "effective_time_frame",
            "sleep_maintenance_efficiency_percentage",
        },
        {"effective_time_frame"},
        {
            "latency_to_sleep_onset": DURATION_UNITS,
            "latency_to_arising": DURATION_UNITS,
            "total_sleep_time": DURATION_UNITS,
            "wake_after_sleep_onset": DURATION_UNITS,
            "sleep_maintenance_efficiency_percentage": {"%"},
        },
        interval_only=True,
    ),
    ("physical-activity", "1.2"): Schema(
        {
            "activity_name",
            "effective_time_frame",
            "distance",
            "kcal_burned",
            "reported_activity_intensity",
            "met_value",
        },
        {"activity_name"},
        {"kcal_burned": {"kcal"}},
        {"reported_activity_intensity": {"light", "moderate", "vigorous"}},
        strings={"activity_name"},
    ),
}


def check_time_frame(frame: Any, *, interval_only: bool) -> None:
    """ieee time-frame-1.0: exactly one of date_time / time_interval."""
    assert isinstance(frame, dict)
    assert len(frame.keys() & {"date_time", "time_interval"}) == 1, frame
    if "date_time" in frame:
        assert not interval_only, "this schema requires a time_interval"
        assert DATE_TIME.match(frame["date_time"])
        return
    interval = frame["time_interval"]
    # ieee time-interval-1.0: start+end, start+duration or end+duration.
    assert {"start_date_time", "end_date_time"} <= interval.keys(), interval
    assert DATE_TIME.match(interval["start_date_time"])
    assert DATE_TIME.match(interval["end_date_time"])
    assert parse_time(interval["start_date_time"]) <= parse_time(interval["end_date_time"])


def check_header(header: Any, sample_id: int) -> tuple[str, str]:
    """IEEE 1752.1 header and the older omh header-1.2 alike; returns (name, version)."""
    assert isinstance(header, dict)
    assert {"uuid", "schema_id", "source_creation_date_time"} <= header.keys()
    assert {"id", "creation_date_time", "schema_id"} <= header.keys()
    assert str(uuid.UUID(header["uuid"])) == header["uuid"] == data_point_uuid(sample_id)
    assert header["id"] == header["uuid"]
    schema_id = header["schema_id"]
    assert set(schema_id) == {"namespace", "name", "version"}
    assert all(isinstance(v, str) for v in schema_id.values())
    assert schema_id["namespace"] == "omh"
    assert DATE_TIME.match(header["creation_date_time"])
    assert DATE_TIME.match(header["source_creation_date_time"])
    assert header["modality"] in {"sensed", "self-reported"}
    provenance = header["acquisition_provenance"]
    assert isinstance(provenance["source_name"], str) and provenance["source_name"]
    assert provenance["modality"] in {"sensed", "self-reported"}
    assert isinstance(header["user_id"], str)
    return schema_id["name"], schema_id["version"]


def check_data_point(point: dict[str, Any], sample_id: int) -> tuple[str, str]:
    """Check a data point against its schema; returns the schema's (name, version)."""
    assert set(point) == {"header", "body"}
    name, version = check_header(point["header"], sample_id)
    schema = SCHEMAS[(name, version)]
    body = point["body"]
    assert body.keys() <= schema.properties, body.keys() - schema.properties
    assert schema.required <= body.keys(), schema.required - body.keys()
    for key, units in schema.unit_values.items():
        if key in body:
            assert set(body[key]) == {"value", "unit"}
            assert isinstance(body[key]["value"], int | float)
            assert not isinstance(body[key]["value"], bool)
            assert body[key]["unit"] in units, (key, body[key]["unit"])
    for key, values in schema.enums.items():
        if key in body:
            assert body[key] in values, (key, body[key])
    for key in schema.strings:
        assert isinstance(body[key], str)
    if "effective_time_frame" in body:
        check_time_frame(body["effective_time_frame"], interval_only=schema.interval_only)
    return name, version
