"""CSV and JSONL recordings: what a good row becomes, and how a bad one is reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from biomock.replay import ReplayError, open_replay
from biomock.replay.source import load
from biomock.replay.store import from_row
from biomock.sample import Sample
from tests.replay.helpers import FIXTURES, ms, read_until_error


def samples_of(path: Path) -> list[Sample]:
    store, _ = load(path)
    return [from_row(row) for row in store.rows()]


def test_csv_rows_become_samples_in_catalogue_units() -> None:
    samples = samples_of(FIXTURES / "recording.csv")
    got = [(s.subject, s.type, s.value, s.unit, s.time_ms) for s in samples]
    t0 = ms("2026-01-01T00:00:00Z")
    assert got == [
        ("alice", "heart_rate", 72, "count/min", t0),
        ("bob", "heart_rate", 64, "count/min", t0),
        ("alice", "heart_rate", 73, "count/min", t0 + 1000),
        ("bob", "body_temperature", 37.0, "degC", t0 + 1500),
        ("alice", "sleep_analysis", "asleepCore", None, t0 + 2000),
        ("bob", "oxygen_saturation", 97, "%", t0 + 2000),
        ("alice", "blood_glucose", 99.0857, "mg/dL", t0 + 3000),
        ("bob", "steps", 120, "count", t0 + 3000),  # no offset: UTC
    ]


def test_jsonl_keeps_every_native_field_but_the_id() -> None:
    samples = samples_of(FIXTURES / "recording.jsonl")
    assert [s.subject for s in samples[:2]] == ["default", "athlete"]
    assert samples[0].scenario == "resting"
    systolic = next(s for s in samples if s.type == "blood_pressure_systolic")
    assert dict(systolic.extra) == {"diastolic": 76}
    steps = next(s for s in samples if s.type == "steps")
    assert (steps.start_ms, steps.time_ms) == (
        ms("2026-01-01T00:00:00Z"),
        ms("2026-01-01T00:01:00Z"),
    )
    workout = [(s.event, s.start_ms is not None) for s in samples if s.type == "workout"]
    assert workout == [("start", False), ("end", True)]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


CSV_HEADER = "value,timestamp,type,unit,subject\n"
GOOD_ROW = "70,2026-01-01T00:00:00Z,heart_rate,count/min,alice\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("value,time,type\n" + GOOD_ROW, r"line 1: header lacks column\(s\) timestamp"),
        ("value,timestamp,type,colour\n1,2,3,4\n", r"line 1: unexpected or repeated column"),
        (
            CSV_HEADER + GOOD_ROW + "fast,2026-01-01T00:00:01Z,heart_rate,,alice\n",
            r"line 3: heart_rate needs a number, got 'fast'",
        ),
        (
            CSV_HEADER + GOOD_ROW + "70,yesterday,heart_rate,,alice\n",
            r"line 3: timestamp 'yesterday' is not an ISO 8601 date-time",
        ),
        (
            CSV_HEADER + GOOD_ROW + "70,2026-01-01T00:00:01Z,hart_rate,,alice\n",
            r"line 3: unknown type 'hart_rate'; valid: heart_rate, ",
        ),
        (
            CSV_HEADER + GOOD_ROW + "70,2026-01-01T00:00:01Z,heart_rate\n",
            r"line 3: expected 5 fields, got 3",
        ),
        (
            CSV_HEADER + "dozing,2026-01-01T00:00:01Z,sleep_analysis,,alice\n",
            r"line 2: sleep stage 'dozing' is not one of inBed, ",
        ),
        (
            CSV_HEADER + "70,2026-01-01T00:00:01Z,heart_rate,kg,alice\n",
            r"line 2: unit 'kg' is not a unit of heart_rate",
        ),
        (
            CSV_HEADER + "nan,2026-01-01T00:00:01Z,heart_rate,,alice\n",
            r"line 2: heart_rate needs a finite number",
        ),
        (
            CSV_HEADER + GOOD_ROW + "70,3000-01-01T00:00:00Z,heart_rate,,alice\n",
            r"line 3: timestamp .* must be in the years 1970 to 2999",
        ),
        ("", r"empty file; expected a header row"),
    ],
)
def test_a_bad_csv_row_is_named_by_its_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "recording.csv", text)
    with pytest.raises(ReplayError, match=message) as raised:
        open_replay(path, loop=False, shift_to_now=False, now_ms=0)
    assert str(raised.value).startswith(f"{path}: ")


JSON_ROW = '{"value":70,"timestamp":"2026-01-01T00:00:00.000Z","type":"heart_rate"}\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            JSON_ROW + '{"value":70,"timestamp":"2026-01-01T00:00:01.000Z","ty',
            r"line 2: not valid JSON",
        ),
        (JSON_ROW + "[1, 2]\n", r"line 2: expected a JSON object, got list"),
        (
            JSON_ROW + '{"value":"70","timestamp":"2026-01-01T00:00:01Z","type":"heart_rate"}\n',
            r"line 2: heart_rate needs a number, got '70'",
        ),
        (
            JSON_ROW + '{"value":true,"timestamp":"2026-01-01T00:00:01Z","type":"heart_rate"}\n',
            r"line 2: heart_rate needs a number, got True",
        ),
        (JSON_ROW + '{"value":70,"type":"heart_rate"}\n', r"line 2: missing key 'timestamp'"),
        (
            JSON_ROW + '{"value":"running","timestamp":"2026-01-01T00:00:01Z","type":"workout"}\n',
            r"line 2: workout needs event 'start' or 'end', got None",
        ),
        (
            JSON_ROW + '{"value":70,"timestamp":"2026-01-01T00:00:01Z","type":"heart_rate",'
            '"unit":"count/min","extra":{"a":1}}\n',
            r"line 2: key 'extra' must hold a number, string, boolean or null",
        ),
        (
            JSON_ROW + '{"value":5,"timestamp":"2026-01-01T00:00:01Z","type":"steps",'
            '"start":"2026-01-01T00:00:02Z"}\n',
            r"line 2: start .* is after timestamp",
        ),
        (
            JSON_ROW + '{"value":70,"timestamp":"9999-12-31T23:59:59Z","type":"heart_rate"}\n',
            r"line 2: timestamp '9999-12-31T23:59:59Z' must be in the years 1970 to 2999",
        ),
        (
            JSON_ROW + '{"value":70,"timestamp":"1969-12-31T23:59:59Z","type":"heart_rate"}\n',
            r"line 2: timestamp .* must be in the years 1970 to 2999",
        ),
        (
            JSON_ROW + '{"value":5,"timestamp":"2026-01-01T00:00:01Z","type":"steps",'
            '"start":"1900-01-01T00:00:00Z"}\n',
            r"line 2: start .* must be in the years 1970 to 2999",
        ),
    ],
)
def test_a_bad_jsonl_row_is_named_by_its_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "recording.jsonl", text)
    with pytest.raises(ReplayError, match=message):
        open_replay(path, loop=False, shift_to_now=False, now_ms=0)


def test_rows_before_a_bad_one_never_leave_open_replay(tmp_path: Path) -> None:
    path = write(tmp_path, "recording.jsonl", JSON_ROW * 3 + "garbage\n")
    got, error = read_until_error(path)
    assert len(got) == 3  # the reader streams...
    assert error is not None
    with pytest.raises(ReplayError, match="line 4"):  # ...but a replay is checked whole first
        open_replay(path, loop=False, shift_to_now=False, now_ms=0)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing.jsonl", r"missing\.jsonl: no such file"),
        ("recording.parquet", r"cannot tell the format from the name"),
    ],
)
def test_files_that_cannot_be_replayed_at_all(tmp_path: Path, name: str, message: str) -> None:
    if name.endswith(".parquet"):
        write(tmp_path, name, "PAR1")
    with pytest.raises(ReplayError, match=message):
        open_replay(tmp_path / name, loop=False, shift_to_now=False, now_ms=0)


def test_an_empty_recording_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "recording.csv", CSV_HEADER)
    with pytest.raises(ReplayError, match="no samples to replay"):
        open_replay(path, loop=False, shift_to_now=False, now_ms=0)


def test_a_spreadsheet_csv_with_bom_and_crlf_reads(tmp_path: Path) -> None:
    path = tmp_path / "recording.csv"
    path.write_bytes(b"\xef\xbb\xbfvalue,timestamp,type\r\n70,2026-01-01T00:00:00Z,heart_rate\r\n")
    (sample,) = samples_of(path)
    assert (sample.value, sample.subject, sample.unit) == (70, "default", "count/min")
