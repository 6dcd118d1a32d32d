"""The ``openmhealth`` format: Open mHealth (IEEE 1752.1) data points.

Each sample becomes ``{"header": ..., "body": ...}``. The header satisfies both the
IEEE 1752.1 header (``uuid``, ``schema_id``, ``source_creation_date_time``) and the
older Open mHealth header (``id``, ``creation_date_time``, ``schema_id``,
``acquisition_provenance.source_name``), so readers of either accept it:

- ``uuid`` (and ``id``, the same value): a UUID 5 of the sample id in a fixed biomock
  namespace, so it is stable across reads and restarts;
- ``schema_id``: ``{"namespace": "omh", "name": ..., "version": ...}`` from the catalogue;
- ``creation_date_time`` / ``source_creation_date_time``: the sample's timestamp;
- ``modality``: ``sensed``; ``acquisition_provenance``: the recording device's name as
  ``source_name`` (``Apple Watch``, ``iPhone``...; ``import`` for a replayed file that names
  none), the sample id as
  ``source_data_point_id``; ``user_id``: the subject.

Bodies follow the published schemas named in ``catalogue.TYPES[...].omh_schema``.
Samples with no honest representation are skipped (the encoder returns ``None``):

- types without a schema (``omh_schema`` is ``None``: heart-rate variability, distance);
- the diastolic half of a blood-pressure reading: the systolic sample carries it
  (``extra["diastolic"]``) and becomes the one blood-pressure data point; a systolic
  sample without a diastolic value is skipped too, as the schema requires both;
- sleep stages: a night is ONE ``sleep-episode``, made from its ``inBed`` sample (published
  when the night ends), with ``total_sleep_time``, ``latency_to_sleep_onset``,
  ``number_of_awakenings`` and ``is_main_sleep`` from the night's summary; the stages
  themselves are skipped;
- the night's sleeping wrist temperature is a ``body-temperature`` at the ``wrist``
  ``during sleep``, over the night;
- a workout's ``start`` event: the ``physical-activity`` data point is published when
  the workout ends, with its interval.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from biomock.catalogue import TYPES
from biomock.sample import IMPORTED, Sample, format_time

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:biomock:openmhealth")
"""The fixed namespace data point UUIDs are derived in (never change it: ids would move)."""


def data_point_uuid(sample_id: int) -> str:
    """Return the stable UUID of the data point for ``sample_id``."""
    return str(uuid.uuid5(NAMESPACE, str(sample_id)))


def _unit_value(value: float | int | str, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit}


def _heart_rate(sample: Sample) -> dict[str, Any] | None:
    return {"heart_rate": _unit_value(sample.value, "beats/min")}


def _resting_heart_rate(sample: Sample) -> dict[str, Any] | None:
    return {
        "heart_rate": _unit_value(sample.value, "beats/min"),
        "temporal_relationship_to_physical_activity": "at rest",
    }


def _step_count(sample: Sample) -> dict[str, Any] | None:
    return {"step_count": _unit_value(sample.value, "steps")}


def _calories_burned(sample: Sample) -> dict[str, Any] | None:
    return {"kcal_burned": _unit_value(sample.value, "kcal")}


def _oxygen_saturation(sample: Sample) -> dict[str, Any] | None:
    return {
        "oxygen_saturation": _unit_value(sample.value, "%"),
        "system": "peripheral capillary",
        "measurement_method": "pulse oximetry",
    }


def _respiratory_rate(sample: Sample) -> dict[str, Any] | None:
    return {"respiratory_rate": _unit_value(sample.value, "breaths/min")}


def _body_temperature(sample: Sample) -> dict[str, Any] | None:
    return {"body_temperature": _unit_value(sample.value, "C")}


def _wrist_temperature(sample: Sample) -> dict[str, Any] | None:
    return {
        "body_temperature": _unit_value(sample.value, "C"),
        "measurement_location": "wrist",
        "temporal_relationship_to_sleep": "during sleep",
    }


def _body_weight(sample: Sample) -> dict[str, Any] | None:
    return {"body_weight": _unit_value(sample.value, "kg")}


def _blood_pressure(sample: Sample) -> dict[str, Any] | None:
    diastolic = sample.extra.get("diastolic")
    if not isinstance(diastolic, int | float) or isinstance(diastolic, bool):
        return None
    return {
        "systolic_blood_pressure": _unit_value(sample.value, "mmHg"),
        "diastolic_blood_pressure": _unit_value(diastolic, "mmHg"),
    }


def _blood_glucose(sample: Sample) -> dict[str, Any] | None:
    return {"blood_glucose": _unit_value(sample.value, "mg/dL")}


def _sleep_episode(sample: Sample) -> dict[str, Any] | None:
    if sample.value != "inBed" or sample.start_ms is None:
        return None
    extra = sample.extra
    asleep = extra.get("asleep_min")
    if not isinstance(asleep, int | float):  # a night without its summary (a replay)
        asleep = (sample.time_ms - sample.start_ms) / 60_000
    body: dict[str, Any] = {"total_sleep_time": _unit_value(round(asleep, 3), "min")}
    latency = extra.get("latency_min")
    if isinstance(latency, int | float):
        body["latency_to_sleep_onset"] = _unit_value(latency, "min")
    awakenings = extra.get("awakenings")
    if isinstance(awakenings, int) and not isinstance(awakenings, bool):
        body["number_of_awakenings"] = awakenings
    main = extra.get("main_sleep")
    if isinstance(main, bool):
        body["is_main_sleep"] = main
    return body


def _physical_activity(sample: Sample) -> dict[str, Any] | None:
    if sample.event != "end" or sample.start_ms is None:
        return None
    return {"activity_name": str(sample.value)}


_BODIES: dict[str, Callable[[Sample], dict[str, Any] | None]] = {
    "heart_rate": _heart_rate,
    "resting_heart_rate": _resting_heart_rate,
    "steps": _step_count,
    "active_energy_burned": _calories_burned,
    "oxygen_saturation": _oxygen_saturation,
    "respiratory_rate": _respiratory_rate,
    "body_temperature": _body_temperature,
    "sleeping_wrist_temperature": _wrist_temperature,
    "body_mass": _body_weight,
    "blood_pressure_systolic": _blood_pressure,
    "blood_glucose": _blood_glucose,
    "sleep_analysis": _sleep_episode,
    "workout": _physical_activity,
}
"""Body builders by type; a type missing here (or a builder's ``None``) is skipped."""


def _time_frame(sample: Sample) -> dict[str, Any]:
    if sample.start_ms is None:
        return {"date_time": format_time(sample.time_ms)}
    return {
        "time_interval": {
            "start_date_time": format_time(sample.start_ms),
            "end_date_time": format_time(sample.time_ms),
        }
    }


def encode_openmhealth(sample_id: int, sample: Sample) -> dict[str, Any] | None:
    """Return the Open mHealth data point of ``sample``, or ``None`` if it has none."""
    schema = TYPES[sample.type].omh_schema
    build = _BODIES.get(sample.type)
    if schema is None or build is None:
        return None
    body = build(sample)
    if body is None:
        return None
    body["effective_time_frame"] = _time_frame(sample)
    namespace, name, version = schema.split(":")
    point_uuid = data_point_uuid(sample_id)
    created = format_time(sample.time_ms)
    source = sample.source or IMPORTED
    header: dict[str, Any] = {
        "uuid": point_uuid,
        "id": point_uuid,
        "schema_id": {"namespace": namespace, "name": name, "version": version},
        "creation_date_time": created,
        "source_creation_date_time": created,
        "modality": "sensed",
        "acquisition_provenance": {
            "source_name": source.name,
            "source_data_point_id": str(sample_id),
            "source_creation_date_time": created,
            "modality": "sensed",
        },
        "user_id": sample.subject,
    }
    return {"header": header, "body": body}
