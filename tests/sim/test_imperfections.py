"""Realistic imperfections: gaps, jitter, late batches and artefacts, at their documented rates."""

from __future__ import annotations

import itertools
import json
import statistics
from collections import defaultdict
from collections.abc import Iterator

import pytest

from biomock.filter import Filter
from biomock.hub import Hub
from biomock.sample import Sample
from biomock.sim import Simulator, make_profile
from biomock.sim.imperfect import plan_flaws
from biomock.sim.schedule import SEDENTARY, plan_day
from biomock.sim.seeds import derive_seed
from biomock.sim.zones import LocalDays, load_zone
from tests.sim.conftest import DAY, SEED, START

MINUTE = 60_000
HOUR = 3_600_000


def test_gaps_and_late_batches_come_at_their_documented_rates() -> None:
    charging, showers, dropouts, holds, days = [], 0, 0, [], 0
    for name in ("a", "b", "c"):
        seed = derive_seed(SEED, name)
        profile = make_profile(SEED, name)
        local = LocalDays(load_zone("Europe/Berlin"))
        for day in range(20_000, 20_100):
            plan = plan_day(seed, day, profile, local)
            flaws = plan_flaws(seed, plan)
            days += 1
            sitting = [(s.start_ms, s.end_ms) for s in plan.segments if s.activity == SEDENTARY]
            for start, end in flaws.off:
                assert any(a <= start and end <= b for a, b in sitting), "off the wrist sitting"
            lengths = sorted(end - start for start, end in flaws.off)
            if lengths and lengths[-1] >= 30 * MINUTE:
                charging.append(lengths.pop())
            showers += len(lengths)
            dropouts += len(flaws.dropouts)
            holds += [(end - start, release - end) for start, end, release in flaws.holds]
    assert len(charging) >= 0.95 * days  # one a day, unless no hour is spent sitting
    assert all(30 * MINUTE <= g <= 90 * MINUTE for g in charging)
    assert 0.6 <= showers / days <= 0.9  # a shower gap 3 days in 4
    assert 1.6 <= dropouts / days <= 2.4  # 0-4 a day, 2 on average
    assert 2.8 <= len(holds) / days <= 4.4  # 0.15 an hour
    assert all(1_000 <= delay <= 20_000 for _, delay in holds)
    assert 15 * MINUTE <= statistics.median(length for length, _ in holds) <= 35 * MINUTE


@pytest.fixture(scope="module")
def published() -> Iterator[list[tuple[int, Sample, int]]]:
    """Two people over two days, watch profile, realistic: (id, sample, published at)."""
    hub = Hub(capacity=200_000, id_base=1000, max_subscribers=10, retry_ms=3000)
    start = START
    sim = Simulator(
        start, seed=SEED, subjects=["ana", "ben"], cadence="watch", imperfections="realistic"
    )
    rows = []
    for tick in range(1, 2 * 24 * 60 + 1):  # the generator's ticks, a minute apart
        now = start + tick * MINUTE
        batch = sim.advance(now)
        assert all(s.time_ms <= now for s in batch), "never a sample from the future"
        for record in hub.publish(batch):
            rows.append((record.id, record.sample, now))
    yield rows


def test_late_batches_arrive_after_their_time_with_ids_still_increasing(
    published: list[tuple[int, Sample, int]],
) -> None:
    ids = [i for i, _, _ in published]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    late = [(s, at) for _, s, at in published if at - s.time_ms > 5 * MINUTE]
    assert len(late) >= 20, "a watch that syncs in batches publishes samples late"
    assert {s.source.kind for s, _ in late if s.source} == {"watch"}
    times = [s.time_ms for _, s, _ in published]
    assert times != sorted(times), "late samples come after later samples of other sources"
    by_source: dict[tuple[str, str], list[int]] = defaultdict(list)
    for _, s, _ in published:
        if s.source is not None:
            by_source[(s.subject, s.source.kind)].append(s.time_ms)
    for key, source_times in by_source.items():
        assert source_times == sorted(source_times), f"{key} out of order"


def test_history_and_resume_hold_late_samples_in_id_order() -> None:
    hub = Hub(capacity=100_000, id_base=1000, max_subscribers=10, retry_ms=3000)
    sim = Simulator(START, seed=SEED, subjects=["ana"], cadence="watch", imperfections="realistic")
    for tick in range(1, 12 * 60 + 1):
        hub.publish(sim.advance(START + tick * MINUTE))
    middle = hub.next_id - 200
    items, _ = hub.history(Filter(), after_id=middle, limit=1000)
    assert [r.id for r in items] == list(range(middle + 1, hub.next_id))
    with hub.subscribe(Filter(), last_event_id=middle) as sub:
        frames = [f for f in sub.initial.split(b"\n\n") if f.startswith(b"id: ")]
    resumed = [int(f.split(b"\n")[0][4:]) for f in frames]
    assert resumed == list(range(middle + 1, hub.next_id))
    bodies = [json.loads(f.split(b"data: ", 1)[1]) for f in frames]
    assert all("source" in body for body in bodies)


def test_watch_samples_stop_while_charging(published: list[tuple[int, Sample, int]]) -> None:
    # no watch reading inside a gap: charging, shower (all types) or dropouts (spot readings)
    sim = Simulator(START, seed=SEED, subjects=["ana"], cadence="watch", imperfections="realistic")
    ana = [s for _, s, _ in published if s.subject == "ana"]
    zone = sim.describe_subjects()[0]["time_zone"]
    local = LocalDays(load_zone(zone))
    seed = derive_seed(SEED, "ana")
    profile = make_profile(SEED, "ana")
    gaps = []
    for day in range(local.day_of(START), local.day_of(START + 2 * DAY) + 1):
        gaps += plan_flaws(seed, plan_day(seed, day, profile, local)).off
    assert len(gaps) >= 2
    for start, end in gaps:
        inside = [
            s
            for s in ana
            if start + 30_000 < s.time_ms < end - 30_000  # jitter moves edges by up to 30 s
            and s.source is not None
            and s.source.kind == "watch"
            and s.type not in ("sleep_analysis", "workout")
        ]
        assert inside == []


@pytest.fixture(scope="module")
def dense_day() -> Iterator[list[Sample]]:
    sim = Simulator(START, seed=SEED, subjects=["ana"], imperfections="realistic")
    yield sim.advance(START + DAY)


def test_jitter_moves_timestamps_off_the_grid_without_reordering(dense_day: list[Sample]) -> None:
    heart = [s.time_ms for s in dense_day if s.type == "heart_rate"]
    assert sum(t % 1000 != 0 for t in heart) > 0.95 * len(heart)
    steps = [s for s in dense_day if s.type == "steps" and s.source and s.source.kind == "watch"]
    offsets = [(s.time_ms - START) % MINUTE for s in steps]
    assert max(offsets) > 10_000 and statistics.median(offsets) > 1_000  # seconds, not ms
    by_type: dict[tuple[str, str], list[int]] = defaultdict(list)
    for s in dense_day:
        assert s.source is not None
        by_type[(s.type, s.source.kind)].append(s.time_ms)
    for (type_name, _), times in by_type.items():
        if type_name == "sleep_analysis":  # the last stage and inBed end together
            assert times == sorted(times)
        else:
            assert all(a < b for a, b in itertools.pairwise(times))
    for a, b in itertools.pairwise(steps):
        assert b.start_ms is not None and b.start_ms >= a.time_ms  # intervals never overlap


def test_motion_artefacts_and_no_zero_steps(dense_day: list[Sample]) -> None:
    assert all(int(s.value) > 0 for s in dense_day if s.type == "steps")
    spo2 = [s for s in dense_day if s.type == "oxygen_saturation"]
    assert any(85 <= int(s.value) <= 90 for s in spo2), "an SpO2 of 88 while moving"
    heart = [float(s.value) for s in dense_day if s.type == "heart_rate"]
    jumps = sum(b - a > 20 for a, b in itertools.pairwise(heart))
    assert 1 <= jumps <= 12, "a brief spike now and then"
