"""Reading CSV recordings: the original columns ``value,timestamp,type`` plus optional ones."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from biomock.replay.errors import ReplayError
from biomock.replay.rows import make_sample
from biomock.sample import Sample

REQUIRED_COLUMNS = ("value", "timestamp", "type")
OPTIONAL_COLUMNS = ("unit", "subject", "start", "event")


def read_csv(path: Path) -> Iterator[Sample]:
    """Yield the samples of a CSV recording in file order.

    The header row is required; ``unit`` and ``subject`` columns are optional
    (as are ``start`` for intervals and ``event`` for workouts). Timestamps are
    ISO 8601, without an offset meaning UTC.

    Raises:
        ReplayError: naming the file and line of a bad header or the first bad row.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file)
            try:
                header = next(reader)
            except StopIteration:
                raise ReplayError(f"{path}: empty file; expected a header row") from None
            columns = _columns(path, [name.strip() for name in header])
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(columns):
                    raise ReplayError(
                        f"{path}: line {reader.line_num}: "
                        f"expected {len(columns)} fields, got {len(row)}"
                    )
                fields = dict(zip(columns, (cell.strip() for cell in row), strict=True))
                try:
                    yield make_sample(
                        fields["type"],
                        fields["value"],
                        fields["timestamp"],
                        unit=fields.get("unit"),
                        subject=fields.get("subject"),
                        start=fields.get("start"),
                        event=fields.get("event"),
                        text=True,
                    )
                except ValueError as error:
                    raise ReplayError(f"{path}: line {reader.line_num}: {error}") from None
    except UnicodeDecodeError:
        raise ReplayError(f"{path}: not UTF-8 text") from None
    except csv.Error as error:
        raise ReplayError(f"{path}: malformed CSV: {error}") from None
    except OSError as error:
        raise ReplayError(f"{path}: cannot read: {error.strerror}") from None


def _columns(path: Path, header: list[str]) -> list[str]:
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise ReplayError(
            f"{path}: line 1: header lacks column(s) {', '.join(missing)}; "
            f"expected {','.join(REQUIRED_COLUMNS)} with optional {','.join(OPTIONAL_COLUMNS)}"
        )
    unknown = [name for name in header if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown or len(set(header)) != len(header):
        raise ReplayError(
            f"{path}: line 1: unexpected or repeated column(s) in header: {', '.join(header)}"
        )
    return header
