"""``biomock generate``: reproducible files of simulated samples."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from click.testing import CliRunner

from biomock.generate import generate_command, parse_duration


def test_same_inputs_give_the_same_bytes(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["--seed", "42", "--subjects", "2", "--duration", "2h"]
    first = runner.invoke(generate_command, args)
    second = runner.invoke(generate_command, args)
    assert first.exit_code == 0, first.output
    assert first.stdout_bytes == second.stdout_bytes
    out = tmp_path / "day.jsonl"
    third = runner.invoke(generate_command, [*args, "-o", str(out)])
    assert third.exit_code == 0
    assert out.read_bytes() == first.stdout_bytes
    other = runner.invoke(generate_command, ["--seed", "43", "--subjects", "2", "--duration", "2h"])
    assert other.stdout_bytes != first.stdout_bytes


def test_output_is_native_json_lines_numbered_from_one() -> None:
    result = CliRunner().invoke(
        generate_command,
        ["--subjects", "alice,bob", "--duration", "10m", "--start", "2026-02-03T10:00:00Z"],
    )
    lines = result.stdout_bytes.decode().splitlines()
    assert ", " not in lines[0] and ": " not in lines[0]  # compact
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == list(range(1, len(records) + 1))
    assert records[0]["timestamp"] == "2026-02-03T10:00:00.000Z"
    assert list(records[0])[:6] == ["value", "timestamp", "type", "id", "unit", "subject"]
    assert {r["subject"] for r in records} == {"alice", "bob"}
    assert sum(r["type"] == "heart_rate" for r in records) == 2 * 601
    assert records[-1]["timestamp"] == "2026-02-03T10:10:00.000Z"


def test_malformed_input_is_a_clear_error() -> None:
    runner = CliRunner()
    cases = {
        ("--duration", "7x"): "is not a duration",
        ("--duration", "0d"): "longer than zero",
        ("--duration", "400d"): "at most 366 days",
        ("--subjects", "0"): "a count must be 1 to 1000",
        ("--subjects", "a b"): "is not a count or a name",
        ("--start", "yesterday"): "is not an ISO 8601 time",
        ("--format", "csv"): "'csv' is not 'jsonl'",
    }
    for args, message in cases.items():
        result = runner.invoke(generate_command, list(args))
        assert result.exit_code == 2, args
        assert message in result.output, result.output
        assert "Traceback" not in result.output


def test_parse_duration() -> None:
    assert parse_duration("90s") == 90_000
    assert parse_duration("1d12h") == 36 * 3_600_000
    assert parse_duration("2w") == 14 * 86_400_000


def test_a_scenario_fixture_in_the_watch_profile_with_imperfections_is_reproducible() -> None:
    runner = CliRunner()
    args = ["--scenario", "afib", "--cadence", "watch", "--imperfections", "realistic"]
    args += ["--duration", "1d", "--seed", "7"]
    first = runner.invoke(generate_command, args)
    second = runner.invoke(generate_command, args)
    assert first.exit_code == 0, first.output
    assert first.stdout_bytes == second.stdout_bytes
    records = [json.loads(line) for line in first.stdout_bytes.decode().splitlines()]
    assert {r["scenario"] for r in records} == {"afib"}
    heart = [r for r in records if r["type"] == "heart_rate"]
    assert 150 <= len(heart) <= 600, "a watch reads heart rate every few minutes, not every second"
    assert statistics.median(r["value"] for r in heart) >= 100  # afib's fast rate
    assert all(r["source"]["kind"] for r in records)
    dense = runner.invoke(generate_command, ["--scenario", "afib", "--duration", "1d"])
    assert dense.stdout_bytes.count(b"\n") > 50 * len(records)


def test_per_type_cadences_devices_and_zones_from_the_command_line() -> None:
    args = ["--duration", "1h", "--cadences", "heart_rate=5", "--devices", "default=watch"]
    result = CliRunner().invoke(generate_command, [*args, "--time-zones", "default=Asia/Tokyo"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout_bytes.decode().splitlines()]
    assert sum(r["type"] == "heart_rate" for r in records) == 721
    assert {r["source"]["kind"] for r in records} == {"watch"}
    bad = CliRunner().invoke(generate_command, ["--devices", "bob=watch"])
    assert bad.exit_code == 2 and "unknown subject 'bob'" in bad.output
    bad = CliRunner().invoke(generate_command, ["--time-zones", "default=Mars/Base"])
    assert bad.exit_code == 2 and "not an IANA time zone" in bad.output
