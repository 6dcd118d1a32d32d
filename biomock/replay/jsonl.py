"""Reading biomock JSONL: one native sample object per line, as ``biomock generate`` writes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from biomock.replay.errors import ReplayError
from biomock.replay.rows import STANDARD_KEYS, make_sample
from biomock.sample import JSONScalar, Sample


def read_jsonl(path: Path) -> Iterator[Sample]:
    """Yield the samples of a JSONL recording in file order; blank lines are skipped.

    Ids in the file are not kept: the hub gives replayed samples fresh ones.
    Keys beyond the native ones (a systolic sample's ``diastolic``) are kept.

    Raises:
        ReplayError: naming the file and line of the first malformed row.
    """
    try:
        with path.open("rb") as file:
            for number, line in enumerate(file, start=1):
                if not line.strip():
                    continue
                try:
                    yield _sample(line)
                except ValueError as error:
                    raise ReplayError(f"{path}: line {number}: {error}") from None
    except OSError as error:
        raise ReplayError(f"{path}: cannot read: {error.strerror}") from None


def _sample(line: bytes) -> Sample:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON ({error.msg}, column {error.colno})") from None
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    if not isinstance(row, dict):
        raise ValueError(f"expected a JSON object, got {type(row).__name__}")
    for key in ("value", "timestamp", "type"):
        if key not in row:
            raise ValueError(f"missing key {key!r}")
    extra: dict[str, JSONScalar] = {}
    for key, value in row.items():
        if key in STANDARD_KEYS:
            continue
        if isinstance(value, dict | list):
            raise ValueError(f"key {key!r} must hold a number, string, boolean or null")
        extra[key] = value
    return make_sample(
        row["type"],
        row["value"],
        row["timestamp"],
        unit=row.get("unit"),
        subject=row.get("subject"),
        start=row.get("start"),
        scenario=row.get("scenario"),
        event=row.get("event"),
        extra=extra,
        source=row.get("source"),
    )
