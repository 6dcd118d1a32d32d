"""Shared simulated days: simulated once per test session, read by many tests."""

from __future__ import annotations

import bisect
import gc
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from biomock.sample import Sample, parse_time
from biomock.sim import Simulator, make_profile
from biomock.sim.schedule import DayPlan, plan_day
from biomock.sim.seeds import derive_seed
from biomock.sim.zones import LocalDays, load_zone

START = parse_time("2026-01-05T00:00:00Z")  # a Monday
DAY = 86_400_000
DAYS = 3
SEED = 11
SUBJECTS = ["default", "ana", "ben"]


@dataclass
class Series:
    """One subject's samples, by type, plus the intervals of sleep and workouts."""

    samples: list[Sample]
    name: str = "default"
    seed: int = 0
    time_zone: str = "UTC"
    by_type: dict[str, list[Sample]] = field(default_factory=lambda: defaultdict(list))
    phone: dict[str, list[Sample]] = field(default_factory=lambda: defaultdict(list))
    asleep: list[tuple[int, int]] = field(default_factory=list)
    in_bed: list[tuple[int, int]] = field(default_factory=list)
    workouts: list[tuple[int, int]] = field(default_factory=list)
    _times: dict[str, list[int]] = field(default_factory=dict)
    days: LocalDays = field(init=False)

    def __post_init__(self) -> None:
        self.days = LocalDays(load_zone(self.time_zone))
        for sample in self.samples:
            # the phone's overlapping step blocks are kept apart: by_type is one device each
            if sample.source is not None and sample.source.kind == "phone":
                self.phone[sample.type].append(sample)
                continue
            self.by_type[sample.type].append(sample)
            assert sample.start_ms is not None or sample.type not in ("sleep_analysis",)
            if sample.type == "sleep_analysis" and sample.start_ms is not None:
                span = (sample.start_ms, sample.time_ms)
                if sample.value in ("asleepCore", "asleepDeep", "asleepREM"):
                    self.asleep.append(span)
                elif sample.value == "inBed":
                    self.in_bed.append(span)
            if sample.type == "workout" and sample.event == "end":
                assert sample.start_ms is not None
                self.workouts.append((sample.start_ms, sample.time_ms))

    def between(self, type_name: str, start_ms: int, end_ms: int) -> list[float]:
        """Values of ``type_name`` with ``start_ms <= time_ms <= end_ms``."""
        times = self._times.get(type_name)
        if times is None:
            times = self._times[type_name] = [s.time_ms for s in self.by_type[type_name]]
        low = bisect.bisect_left(times, start_ms)
        high = bisect.bisect_right(times, end_ms)
        return [float(s.value) for s in self.by_type[type_name][low:high]]  # type: ignore[arg-type]

    def local_hour(self, t_ms: int) -> float:
        """The hour of day in the subject's own time zone."""
        return ((t_ms + self.days.offset(t_ms)) % DAY) / 3_600_000

    def local_midnight(self, t_ms: int) -> int:
        """The UTC ms of the local midnight that begins the local day of ``t_ms``."""
        return self.days.midnight(self.days.day_of(t_ms))

    def plan(self, day: int) -> DayPlan:
        """The subject's plan for local day ``day`` (days since 1970-01-01)."""
        profile = make_profile(self.seed, self.name)
        return plan_day(derive_seed(self.seed, self.name), day, profile, self.days)

    def values(self, type_name: str) -> list[float]:
        return [float(s.value) for s in self.by_type[type_name]]  # type: ignore[arg-type]

    def is_asleep(self, t_ms: int) -> bool:
        return _inside(self.asleep, t_ms)

    def is_in_bed(self, t_ms: int) -> bool:
        return _inside(self.in_bed, t_ms)

    def in_workout(self, t_ms: int) -> bool:
        return _inside(self.workouts, t_ms)


def _inside(spans: list[tuple[int, int]], t_ms: int) -> bool:
    """Whether ``t_ms`` is in one of ``spans`` (sorted, not overlapping)."""
    i = bisect.bisect_right(spans, (t_ms, 2**62)) - 1
    return i >= 0 and spans[i][0] <= t_ms < spans[i][1]


def simulate(
    *,
    seed: int = SEED,
    subjects: list[str] | None = None,
    start_ms: int = START,
    duration_ms: int = DAY,
    scenario: str | None = None,
    cadence: str = "dense",
    imperfections: str = "off",
) -> dict[str, Series]:
    """Simulate and split the samples by subject."""
    names = subjects or ["default"]
    sim = Simulator(
        start_ms, seed=seed, subjects=names, cadence=cadence, imperfections=imperfections
    )
    if scenario is not None:
        for name in names:
            sim.set_scenario(name, scenario)
    samples = sim.advance(start_ms + duration_ms)
    zones = {info["name"]: info["time_zone"] for info in sim.describe_subjects()}
    return {
        name: Series([s for s in samples if s.subject == name], name, seed, zones[name])
        for name in names
    }


@pytest.fixture(scope="package")
def days() -> Iterator[dict[str, Series]]:
    """Three subjects over three ordinary days (Monday to Wednesday).

    Shared by this package's tests only, and freed after them: a million live objects
    would make the garbage collector pause the real-time tests that run later.
    """
    series = simulate(subjects=SUBJECTS, duration_ms=DAYS * DAY)
    yield series
    series.clear()
    gc.collect()
