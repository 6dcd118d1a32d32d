"""Realistic imperfections (``imperfections = "realistic"``): data as a real watch delivers it.

Everything is seeded from the subject's seed and the plan day, so it is reproducible and
independent of how ``advance`` is called. Rates, per subject and day:

- a charging gap of 30-90 minutes off the wrist, once a day, while sitting;
- a shower gap of 8-20 minutes on 3 days in 4, while sitting;
- 0-4 dropouts (2 on average) of 2-12 minutes, when spot readings (heart rate, HRV, SpO2,
  breathing) fail;
- late batches: each hour, with probability 0.15, the watch stops syncing for 10-45
  minutes; what it recorded meanwhile is published in one batch 1-20 s after the end
  (about 3.6 batches a day), in time order, after samples of other sources with later
  timestamps;
- timestamp jitter of 100 ms up to 30 s (never more than 45 % of the shortest gap
  between two readings of the type, so a source's samples never change order);
- motion artefacts: an SpO2 reading taken while moving reads 85-90 %, and about four
  heart-rate readings a day spike by 25-45 bpm;
- no zero-step samples: a device with nothing to count writes nothing.

Sources: gaps while charging (about an hour a day) and in the shower, and batch syncing
from the watch to the phone: Apple Support, "Charge your Apple Watch" and "If your Apple
Watch isn't syncing with your iPhone"; dropouts and motion artefacts of optical sensors:
Bent B, Goldstein BA, Kibbe WA, Dunn JP. Investigating sources of inaccuracy in wearable
optical heart rate sensors. npj Digit Med 2020;3:18. The rates are model choices.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable
from dataclasses import dataclass

from biomock.sim.schedule import HOUR_MS, MINUTE_MS, SEDENTARY, DayPlan
from biomock.sim.seeds import derive_rng

IMPERFECTIONS = ("off", "realistic")
JITTER_MIN_MS = 100
JITTER_MAX_MS = 30_000
HOLD_CHANCE_PER_HOUR = 0.15
SPIKES_PER_DAY = 4.0


def check_imperfections(name: str) -> str:
    """Return ``name`` if it is an imperfections setting.

    Raises:
        ValueError: for any other name.
    """
    if name not in IMPERFECTIONS:
        raise ValueError(f"imperfections: {name!r} is not one of {', '.join(IMPERFECTIONS)}")
    return name


@dataclass(frozen=True, slots=True)
class DayFlaws:
    """One plan day's windows, each sorted: ``off`` (watch off the wrist: charging, shower),
    ``dropouts`` (spot readings fail), ``holds`` (start, end, release) of late batches."""

    off: tuple[tuple[int, int], ...]
    dropouts: tuple[tuple[int, int], ...]
    holds: tuple[tuple[int, int, int], ...]


def _inside(windows: tuple[tuple[int, int], ...], t_ms: int) -> bool:
    i = bisect.bisect_right(windows, (t_ms, 2**62)) - 1
    return i >= 0 and windows[i][0] <= t_ms < windows[i][1]


def plan_flaws(seed: int, plan: DayPlan) -> DayFlaws:
    """The imperfections of plan day ``plan``."""
    rng = derive_rng(seed, "flaws", plan.index)
    sitting = [s for s in plan.segments if s.activity == SEDENTARY]
    off: list[tuple[int, int]] = []
    for length_min, chance in ((rng.uniform(30, 90), 1.0), (rng.uniform(8, 20), 0.75)):
        length = round(length_min * MINUTE_MS)
        fits = [s for s in sitting if s.end_ms - s.start_ms >= length + 10 * MINUTE_MS]
        if rng.random() < chance and fits:
            segment = rng.choice(fits)
            start = round(rng.uniform(segment.start_ms + 5 * MINUTE_MS, segment.end_ms - length))
            off.append((start, start + length))
    dropouts: list[tuple[int, int]] = []
    span = plan.end_ms - plan.start_ms
    for _ in range(rng.randint(0, 4)):
        start = plan.start_ms + round(rng.random() * span)
        dropouts.append((start, start + round(rng.uniform(2, 12) * MINUTE_MS)))
    holds: list[tuple[int, int, int]] = []
    hour = plan.start_ms
    while hour < plan.end_ms:
        if rng.random() < HOLD_CHANCE_PER_HOUR:
            start = hour + round(rng.random() * HOUR_MS)
            # a hold never crosses into the next plan day, whose windows are drawn apart
            end = min(plan.end_ms - 20_000, start + round(rng.uniform(10, 45) * MINUTE_MS))
            if not holds or start >= holds[-1][2]:
                holds.append((start, end, end + round(rng.uniform(1_000, 20_000))))
        hour += HOUR_MS
    return DayFlaws(tuple(sorted(off)), tuple(sorted(dropouts)), tuple(holds))


def jitter_ms(key: int, t_ms: int, span_ms: int) -> int:
    """A reproducible offset of ``JITTER_MIN_MS`` up to ``span_ms`` for the instant ``t_ms``.

    A function of the instant (not a random stream), so that an interval's start moves
    exactly as the previous interval's end did and intervals stay back to back.
    """
    if span_ms <= JITTER_MIN_MS:
        return 0
    mixed = ((t_ms * 0x9E3779B1 + key * 0x85EBCA77) ^ (t_ms >> 13)) & 0xFFFFFFFF
    mixed = (mixed * 0xC2B2AE35) & 0xFFFFFFFF
    return JITTER_MIN_MS + mixed % (span_ms - JITTER_MIN_MS)


class Flaws:
    """One subject's imperfections: which plan day's windows apply at a time, and artefacts."""

    def __init__(self, seed: int, plan_for: Callable[[int], DayPlan]) -> None:
        self._seed = seed
        self._plan_for = plan_for
        self.rng = derive_rng(seed, "artefacts")
        self._lo = 0
        self._hi = 0
        self._day = DayFlaws((), (), ())
        # Most instants are in no window: remember the clear stretch around the last one
        # asked about, so the common answer costs one comparison (called for every reading).
        self._clear = (0, 0)
        self._unheld = (0, 0)

    @staticmethod
    def _stretch(windows: list[tuple[int, int]], t_ms: int, lo: int, hi: int) -> tuple[int, int]:
        """The stretch around ``t_ms`` (in no window) up to the windows on either side."""
        before = max((end for _, end in windows if end <= t_ms), default=lo)
        after = min((start for start, _ in windows if start > t_ms), default=hi)
        return before, after

    def _at(self, t_ms: int) -> DayFlaws:
        if not self._lo <= t_ms < self._hi:
            plan = self._plan_for(t_ms)
            self._lo, self._hi = plan.start_ms, plan.end_ms
            self._day = plan_flaws(self._seed, plan)
        return self._day

    def off_wrist(self, t_ms: int) -> bool:
        """Whether the watch is off the wrist (charging, shower) at ``t_ms``."""
        return _inside(self._at(t_ms).off, t_ms)

    def dropped(self, t_ms: int) -> bool:
        """Whether a spot reading at ``t_ms`` fails (off the wrist, or a dropout)."""
        low, high = self._clear
        if low <= t_ms < high:
            return False
        day = self._at(t_ms)
        if _inside(day.off, t_ms) or _inside(day.dropouts, t_ms):
            return True
        self._clear = self._stretch([*day.off, *day.dropouts], t_ms, self._lo, self._hi)
        return False

    def release(self, t_ms: int) -> int:
        """When a watch sample stamped ``t_ms`` is published: at once, or with a late batch."""
        low, high = self._unheld
        if low <= t_ms < high:
            return t_ms
        holds = self._at(t_ms).holds
        i = bisect.bisect_right(holds, (t_ms, 2**62, 0)) - 1
        # what the watch records until the sync itself goes in the same batch
        if i >= 0 and holds[i][0] <= t_ms < holds[i][2]:
            return holds[i][2]
        spans = [(start, release) for start, _, release in holds]
        self._unheld = self._stretch(spans, t_ms, self._lo, self._hi)
        return t_ms

    def flaws(self, t_ms: int) -> DayFlaws:
        """The windows of the plan day containing ``t_ms`` (for tests and plots)."""
        return self._at(t_ms)

    def spike(self, interval_ms: int) -> float:
        """A heart-rate reading's motion-artefact spike, bpm (usually 0)."""
        chance = SPIKES_PER_DAY * interval_ms / (24 * HOUR_MS)
        if self.rng.random() < chance:
            return self.rng.uniform(25.0, 45.0)
        return 0.0


def spo2_artefact(rng: random.Random) -> int:
    """An SpO2 reading spoiled by movement."""
    return rng.randint(85, 90)
