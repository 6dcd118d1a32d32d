"""A sample as the bytes of one bus entry, and back: exact, so every process encodes alike.

Pure: no trio, no I/O. The entry holds the :class:`~biomock.sample.Sample`'s own fields
(not its native JSON), so decoding needs no validation and the round trip is exact:
every process then encodes the same bytes for each format that the leader would have.
"""

from __future__ import annotations

import json
from typing import Any

from biomock.formats.native import encode_native
from biomock.records import dumps
from biomock.sample import Sample, SampleSource


def encode_sample(sample: Sample) -> bytes | None:
    """The entry's bytes; ``None`` if the sample cannot be served natively (no id for it).

    The native check mirrors the hub's: a sample the hub would leave out must not
    spend an id here, or the ids of every process would shift against the bus's.
    """
    try:
        dumps(encode_native(0, sample))
        source = sample.source
        body: list[Any] = [
            sample.type,
            sample.value,
            sample.time_ms,
            sample.unit,
            sample.subject,
            sample.start_ms,
            sample.scenario,
            sample.event,
            dict(sample.extra),
            None if source is None else [source.name, source.device, source.os, source.kind],
        ]
        return dumps({"s": body})
    except (TypeError, ValueError):
        return None


def decode_sample(data: bytes) -> Sample:
    """The sample :func:`encode_sample` encoded.

    Raises:
        ValueError: ``data`` is not an entry of this format.
    """
    try:
        (kind, value, time_ms, unit, subject, start_ms, scenario, event, extra, source) = (
            json.loads(data)["s"]
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"not a bus entry: {error}") from None
    return Sample(
        kind,
        value,
        time_ms,
        unit,
        subject,
        start_ms=start_ms,
        scenario=scenario,
        event=event,
        extra=extra,
        source=None if source is None else SampleSource(*source),
    )
