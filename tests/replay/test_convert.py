"""``biomock convert``: any replayable file to biomock JSONL, with a summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from biomock.convert import convert_command
from biomock.replay import open_replay
from tests.replay.helpers import FIXTURES


@pytest.mark.parametrize("name", ["export.xml", "recording.csv", "recording.jsonl"])
def test_convert_writes_replayable_jsonl_with_ids_from_one(tmp_path: Path, name: str) -> None:
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(convert_command, [str(FIXTURES / name), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["id"] for row in rows] == list(range(1, len(rows) + 1))
    assert [row["timestamp"] for row in rows] == sorted(row["timestamp"] for row in rows)
    assert f"converted {len(rows)} samples" in result.stderr
    # The output replays to the same samples as its source.
    original = open_replay(FIXTURES / name, loop=False, shift_to_now=False, now_ms=0)
    again = open_replay(out, loop=False, shift_to_now=False, now_ms=0)
    end = 2**62
    assert again.advance(end) == original.advance(end)


def test_the_summary_counts_types_and_unknown_types(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(convert_command, [str(FIXTURES / "export.xml"), "-o", str(out)])
    assert "  heart_rate: 2\n" in result.stderr
    assert "  sleep_analysis: 6\n" in result.stderr
    assert "  body_mass: 2\n" in result.stderr
    assert "skipped 1 records of unknown types:" in result.stderr
    assert "  HKQuantityTypeIdentifierBasalEnergyBurned: 1\n" in result.stderr


def test_a_bad_file_is_one_clear_line_and_no_output(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("value,timestamp,type\nfast,2026-01-01T00:00:00Z,heart_rate\n")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(convert_command, [str(bad), "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {bad}: line 2: heart_rate needs a number, got 'fast'\n"
    assert not out.exists()
