"""ReplaySource: order, pacing by advance(), jump, shift to now, loop; the spill sort."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import pytest

from biomock.replay import ReplaySource, open_replay
from biomock.replay.store import from_row, sort_samples
from biomock.sample import Sample
from tests.replay.helpers import FIXTURES, ms

T0 = ms("2026-01-01T00:00:00Z")


def heart(time_ms: int, value: int, subject: str = "default") -> Sample:
    return Sample("heart_rate", value, time_ms, "count/min", subject)


def source_of(samples: list[Sample], **options: bool | int) -> ReplaySource:
    settings = {"loop": False, "shift_to_now": False, "now_ms": 0, **options}
    return ReplaySource(sort_samples(samples), **settings)  # type: ignore[arg-type]


def test_advance_returns_what_is_due_in_order_then_finishes() -> None:
    source = source_of([heart(T0 + 2000, 3), heart(T0, 1), heart(T0 + 1000, 2)])
    assert source.start_ms == T0
    assert not source.finished
    assert [s.value for s in source.advance(T0 + 999)] == [1]
    assert source.advance(T0 + 999) == []
    assert [s.value for s in source.advance(T0 + 5000)] == [2, 3]
    assert source.finished
    assert source.advance(T0 + 10_000) == []


def test_subjects_are_kept_apart() -> None:
    csv = open_replay(FIXTURES / "recording.csv", loop=False, shift_to_now=False, now_ms=0)
    assert csv.subjects == ["alice", "bob"]
    samples = csv.advance(ms("2026-01-02T00:00:00Z"))
    assert {s.subject for s in samples if s.type == "body_temperature"} == {"bob"}
    assert [s.value for s in samples if s.subject == "alice" and s.type == "heart_rate"] == [72, 73]


def test_shift_to_now_moves_every_time_and_interval_start() -> None:
    now = ms("2030-06-01T12:00:00Z")
    source = open_replay(FIXTURES / "recording.jsonl", loop=False, shift_to_now=True, now_ms=now)
    assert source.start_ms == now
    samples = source.advance(now + 3_600_000)
    assert samples[0].time_ms == now
    steps = next(s for s in samples if s.type == "steps")
    assert (steps.start_ms, steps.time_ms) == (now, now + 60_000)


def test_jump_skips_without_returning_the_skipped_samples() -> None:
    source = source_of([heart(T0 + k * 1000, k) for k in range(10)])
    source.jump(T0 + 4000)
    assert [s.value for s in source.advance(T0 + 5000)] == [4, 5]


def test_loop_starts_over_with_times_moved_on_by_the_span() -> None:
    source = source_of([heart(T0 + k * 1000, k) for k in range(3)], loop=True)
    samples = source.advance(T0 + 8000)
    assert [s.value for s in samples] == [0, 1, 2, 0, 1, 2, 0, 1, 2]
    times = [s.time_ms for s in samples]
    assert times == [T0 + k * 1000 for k in range(9)]  # span 2 s plus one period of rest
    assert not source.finished


def test_jump_far_ahead_in_a_loop_lands_in_the_right_lap() -> None:
    source = source_of([heart(T0 + k * 1000, k) for k in range(3)], loop=True)
    source.jump(T0 + 3_000_000_001)
    (first,) = source.advance(T0 + 3_000_001_000)
    assert (first.value, first.time_ms) == (1, T0 + 3_000_001_000)


@pytest.mark.parametrize("run_size", [1, 3, 7, 1000])
def test_spilled_sort_equals_the_in_memory_sort_and_is_stable(run_size: int) -> None:
    rng = random.Random(5)
    samples = [heart(T0 + rng.randrange(20) * 1000, k) for k in range(200)]
    store = sort_samples(samples, run_size=run_size)
    got = [from_row(row) for row in store.rows()]
    assert got == sorted(samples, key=lambda s: s.time_ms)  # sorted() is stable
    assert list(store.rows()) == list(store.rows())  # readable again, for --loop
    assert store.spilled == (run_size < 200)
    assert (store.first_ms, store.last_ms, store.count) == (T0, T0 + 19_000, 200)
    store.close()


def test_a_spilled_recording_replays_like_a_small_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    lines = [
        f'{{"value":{k},"timestamp":"2026-01-01T00:{k // 60:02d}:{k % 60:02d}Z",'
        f'"type":"heart_rate","subject":"s{k % 3}"}}'
        for k in reversed(range(500))
    ]
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(lines) + "\n")
    caplog.set_level(logging.INFO, "biomock.replay")
    small = open_replay(path, loop=False, shift_to_now=False, now_ms=0)
    assert "500 samples, 3 subject(s), in memory" in caplog.text
    monkeypatch.setattr("biomock.replay.store.RUN_SIZE", 64)
    spilled = open_replay(path, loop=False, shift_to_now=False, now_ms=0)
    assert "500 samples, 3 subject(s), spilled to a temporary file" in caplog.text
    end = T0 + 600_000
    assert spilled.advance(end) == small.advance(end)
    assert spilled.subjects == small.subjects == ["s1", "s0", "s2"]  # as first met in the file
