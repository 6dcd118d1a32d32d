"""Recorder: appends lines, caps the file by size with rotation, flushes on close."""

from __future__ import annotations

from pathlib import Path

from biomock.replay.record import Recorder


def line(k: int) -> bytes:
    return b'{"value":%03d,"type":"heart_rate"}' % k  # 33 bytes + newline


def lines_in(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines() if path.exists() else []


def test_lines_are_appended_and_flushed_on_close(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    recorder = Recorder(path, max_bytes=0, backups=3)
    recorder.write([line(1), line(2)])
    recorder.write([line(3) + b"\n"])
    assert lines_in(path) == []  # still buffered: writes do not hit the disk each time
    recorder.close()
    assert lines_in(path) == [line(1), line(2), line(3)]
    again = Recorder(path, max_bytes=0, backups=3)  # a restart keeps the old lines
    again.write([line(4)])
    again.close()
    assert lines_in(path) == [line(1), line(2), line(3), line(4)]


def test_the_file_rotates_before_it_would_pass_max_bytes(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    recorder = Recorder(path, max_bytes=100, backups=2)  # two 34-byte lines per file
    for k in range(9):
        recorder.write([line(k)])
    recorder.close()
    assert lines_in(path) == [line(8)]
    assert lines_in(tmp_path / "rec.jsonl.1") == [line(6), line(7)]
    assert lines_in(tmp_path / "rec.jsonl.2") == [line(4), line(5)]
    assert not (tmp_path / "rec.jsonl.3").exists()  # the oldest lines were dropped
    for name in ("rec.jsonl", "rec.jsonl.1", "rec.jsonl.2"):
        assert (tmp_path / name).stat().st_size <= 100


def test_rotation_counts_what_the_file_already_held(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    path.write_bytes(line(0) + b"\n" + line(1) + b"\n")
    recorder = Recorder(path, max_bytes=100, backups=1)
    recorder.write([line(2)])
    recorder.close()
    assert lines_in(tmp_path / "rec.jsonl.1") == [line(0), line(1)]
    assert lines_in(path) == [line(2)]


def test_without_backups_the_file_starts_over(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    recorder = Recorder(path, max_bytes=100, backups=0)
    recorder.write([line(k) for k in range(5)])
    recorder.close()
    assert lines_in(path) == [line(4)]
    assert list(tmp_path.iterdir()) == [path]
