"""Apple Health exports: every record kind, units, dates, and the zip around them."""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path

import pytest

from biomock.catalogue import SLEEP_STAGES, TYPES
from biomock.replay import ReplayError, open_replay
from biomock.replay.apple import read_apple_health
from biomock.replay.apple_values import apple_time
from biomock.replay.source import load
from biomock.replay.store import from_row
from biomock.sample import Sample
from tests.replay.helpers import FIXTURES, ms

EXPORT = FIXTURES / "export.xml"


def samples_of(path: Path) -> tuple[list[Sample], Counter[str]]:
    store, unknown = load(path)
    return [from_row(row) for row in store.rows()], unknown


def test_every_record_kind_is_mapped_to_the_catalogue() -> None:
    samples, unknown = samples_of(EXPORT)
    by_type: dict[str, list[Sample]] = {}
    for sample in samples:
        by_type.setdefault(sample.type, []).append(sample)
        assert sample.unit == TYPES[sample.type].unit
        assert sample.subject == "default"

    heart = by_type["heart_rate"]
    assert [(s.value, s.time_ms) for s in heart] == [
        (72, ms("2024-03-01T15:14:22Z")),
        (75.5, ms("2024-03-01T15:19:22Z")),
    ]
    assert by_type["oxygen_saturation"][0].value == 97.0  # stored as the fraction 0.97
    assert by_type["body_temperature"][0].value == 37.0  # 98.6 degF
    assert by_type["blood_glucose"][0].value == pytest.approx(99.09, abs=0.01)  # 5.5 mmol/L
    assert by_type["respiratory_rate"][0].value == 14.5
    assert by_type["heart_rate_variability_sdnn"][0].value == 48.25
    assert by_type["resting_heart_rate"][0].value == 58
    assert [s.value for s in by_type["distance_walking_running"]] == [610.0, 4988.9664]
    assert [s.value for s in by_type["active_energy_burned"]] == [31.5, 10.0]  # Cal, kJ
    (steps,) = by_type["steps"]
    assert (steps.value, steps.start_ms, steps.time_ms) == (
        812,
        ms("2024-03-01T15:30:00Z"),
        ms("2024-03-01T15:39:00Z"),
    )
    assert [s.value for s in by_type["body_mass"]] == [61.2, 61.6]
    assert unknown == Counter({"HKQuantityTypeIdentifierBasalEnergyBurned": 1})


def test_each_sleep_stage_is_published_when_it_ends() -> None:
    samples, _ = samples_of(EXPORT)
    sleep = [s for s in samples if s.type == "sleep_analysis"]
    assert sorted(s.value for s in sleep) == sorted(SLEEP_STAGES)
    assert sleep[0].value == "inBed"
    assert (sleep[0].start_ms, sleep[0].time_ms) == (
        ms("2024-03-01T07:00:00Z"),
        ms("2024-03-01T07:20:00Z"),
    )
    assert all(s.start_ms is not None and s.start_ms < s.time_ms for s in sleep)


def test_a_workout_starts_and_ends() -> None:
    samples, _ = samples_of(EXPORT)
    start, end = (s for s in samples if s.type == "workout")
    assert (start.value, start.event, start.time_ms, start.start_ms) == (
        "running",
        "start",
        ms("2024-03-02T02:00:00Z"),
        None,
    )
    assert (end.value, end.event, end.time_ms, end.start_ms) == (
        "running",
        "end",
        ms("2024-03-02T02:42:00Z"),
        ms("2024-03-02T02:00:00Z"),
    )


def test_blood_pressure_is_one_reading_each_not_double_counted() -> None:
    # The 08:00 reading is in the export twice (a correlation and loose records, as
    # Apple writes it); the 20:00 one only as loose records.
    samples, _ = samples_of(EXPORT)
    readings = [
        (s.type, s.value, s.time_ms, dict(s.extra)) for s in samples if "pressure" in s.type
    ]
    morning, evening = ms("2024-03-01T16:00:00Z"), ms("2024-03-02T04:00:00Z")
    assert readings == [
        ("blood_pressure_systolic", 118, morning, {"diastolic": 76}),
        ("blood_pressure_diastolic", 76, morning, {}),
        ("blood_pressure_systolic", 124, evening, {"diastolic": 81}),
        ("blood_pressure_diastolic", 81, evening, {}),
    ]


def test_samples_come_in_timestamp_order_though_the_file_is_grouped_by_type() -> None:
    samples, _ = samples_of(EXPORT)
    times = [s.time_ms for s in samples]
    assert times == sorted(times)
    assert len(samples) == 27  # 25, and the two body mass readings since biomock has the type


def test_samples_keep_the_source_the_export_names() -> None:
    samples, _ = samples_of(EXPORT)
    sleep = next(s for s in samples if s.type == "sleep_analysis")
    assert sleep.source is not None
    assert (sleep.source.name, sleep.source.kind) == ("Anna\u2019s Apple Watch", "watch")
    mass = next(s for s in samples if s.type == "body_mass")
    assert mass.source is not None and mass.source.name == "Scale"


def test_export_zip_reads_like_the_xml_inside(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as out:
        out.writestr("apple_health_export/export_cda.xml", "<ClinicalDocument/>")
        out.write(EXPORT, "apple_health_export/export.xml")
    assert samples_of(archive) == samples_of(EXPORT)


def test_zip_without_an_export_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("notes.txt", "hello")
    with pytest.raises(ReplayError, match=r"export\.zip: no export\.xml inside the zip"):
        open_replay(archive, loop=False, shift_to_now=False, now_ms=0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01 07:14:22 -0800", "2024-03-01T15:14:22Z"),
        ("2024-03-01 07:14:22 +0000", "2024-03-01T07:14:22Z"),
        ("2024-03-01 01:00:00 +0530", "2024-02-29T19:30:00Z"),
    ],
)
def test_apple_dates_keep_their_offset(text: str, expected: str) -> None:
    assert apple_time(text) == ms(expected)


@pytest.mark.parametrize(
    "text", ["2024-03-01T07:14:22 -0800", "2024-02-30 07:14:22 -0800", "2024-03-01 25:00:00 -0800"]
)
def test_malformed_apple_dates_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="date"):
        apple_time(text)


def _export_with(tmp_path: Path, records: str, root: str = "HealthData") -> Path:
    path = tmp_path / "export.xml"
    path.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} locale="en_US">\n'
        ' <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Watch" unit="count/min" '
        'startDate="2024-03-01 07:00:00 -0800" endDate="2024-03-01 07:00:00 -0800" value="70"/>\n'
        f"{records}</{root}>\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (
            'type="HKQuantityTypeIdentifierHeartRate" unit="count/min" value="fast"',
            r"<Record> 2 \(type 'HKQuantityTypeIdentifierHeartRate', startDate '2024-03-01 "
            r"08:00:00 -0800'\): value 'fast' is not a number",
        ),
        (
            'type="HKQuantityTypeIdentifierHeartRate" unit="kg" value="70"',
            r"<Record> 2 .*unit 'kg' is not a unit of heart_rate",
        ),
        (
            'type="HKCategoryTypeIdentifierSleepAnalysis" value="HKCategoryValueSleepAnalysisNap"',
            r"<Record> 2 .*sleep value 'HKCategoryValueSleepAnalysisNap' is not a known sleep",
        ),
        (
            'type="HKQuantityTypeIdentifierStepCount" unit="count"',
            r"<Record> 2 .*lacks one of the startDate, endDate and value attributes",
        ),
    ],
)
def test_a_bad_record_is_named_and_nothing_is_replayed(
    tmp_path: Path, record: str, message: str
) -> None:
    dates = 'startDate="2024-03-01 08:00:00 -0800" endDate="2024-03-01 08:00:00 -0800"'
    path = _export_with(tmp_path, f' <Record {record} sourceName="Watch" {dates}/>\n')
    with pytest.raises(ReplayError, match=message):
        open_replay(path, loop=False, shift_to_now=False, now_ms=0)


def test_a_bad_date_is_named(tmp_path: Path) -> None:
    path = _export_with(
        tmp_path,
        ' <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Watch" unit="count/min" '
        'startDate="yesterday" endDate="2024-03-01 08:00:00 -0800" value="70"/>\n',
    )
    with pytest.raises(ReplayError, match=r"<Record> 2 .*date 'yesterday' is not like"):
        list(read_apple_health(path, Counter()))


def test_another_root_element_is_refused(tmp_path: Path) -> None:
    path = _export_with(tmp_path, "", root="ClinicalDocument")
    with pytest.raises(ReplayError, match="root element is <ClinicalDocument>"):
        list(read_apple_health(path, Counter()))


def test_unknown_types_are_one_log_line_at_start_up(caplog: pytest.LogCaptureFixture) -> None:
    open_replay(EXPORT, loop=False, shift_to_now=False, now_ms=0)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        f"replay {EXPORT}: skipped 1 records of unknown types: "
        "HKQuantityTypeIdentifierBasalEnergyBurned (1)"
    ]
