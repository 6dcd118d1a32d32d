"""The native format: the original value, timestamp and type keys plus biomock's fields."""

from __future__ import annotations

from typing import Any

from biomock.sample import IMPORTED, Sample, format_time


def encode_native(sample_id: int, sample: Sample) -> dict[str, Any]:
    """Return the native JSON object of ``sample`` numbered ``sample_id``.

    Key order is part of the contract's readability: the original three keys
    first, then ``id``, ``unit``, ``subject``, then optional fields, then ``source``.
    """
    body: dict[str, Any] = {
        "value": sample.value,
        "timestamp": format_time(sample.time_ms),
        "type": sample.type,
        "id": sample_id,
        "unit": sample.unit,
        "subject": sample.subject,
    }
    if sample.start_ms is not None:
        body["start"] = format_time(sample.start_ms)
    if sample.scenario is not None:
        body["scenario"] = sample.scenario
    if sample.event is not None:
        body["event"] = sample.event
    if sample.extra:
        body.update(sample.extra)
    body["source"] = (sample.source or IMPORTED).as_json()
    return body
