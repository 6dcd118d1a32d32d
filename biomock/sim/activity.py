"""Movement: steps, distance and active energy accumulated over each reporting interval.

Steps come from the current segment's cadence, distance from step length x height, active
energy from METs above rest: ``(METs - 1) x kg x hours`` kcal, since 1 MET is about
1 kcal/kg/h (Ainsworth 2011 Compendium). Constants are in ``biomock.sim.schedule``.
Fractions are carried over to the next interval, so totals are exact over a day.

Cadence varies from minute to minute around the segment's (an AR(1) factor with a standard
deviation of 5 % running, 8 % walking: pace changes, hills, crossings), as a real step count
does (walking cadence ranges: Tudor-Locke C et al. 2018, see ``biomock.sim.schedule``). The
sizes are model choices that keep a run's per-minute coefficient of variation at 3-6 %.
"""

from __future__ import annotations

import math
import random

from biomock.sim.profiles import Profile
from biomock.sim.schedule import INTENSITY, METS, RUNNING, STEP_LENGTH, Segment

_VARIATION_SD = {RUNNING: 0.05}
_WALK_VARIATION_SD = 0.08
_PHI = 0.5


class Pace:
    """The minute-to-minute cadence factor, shared by every device the subject has on them."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._x = 0.0
        self._next_ms = 0
        self.factor = 1.0

    def at(self, t_ms: int, segment: Segment) -> float:
        """The factor for ``t_ms``; a new one each simulated minute."""
        if t_ms >= self._next_ms:
            self._next_ms = t_ms + 60_000
            sd = _VARIATION_SD.get(segment.activity, _WALK_VARIATION_SD)
            self._x = _PHI * self._x + sd * math.sqrt(1 - _PHI * _PHI) * self._rng.gauss(0, 1)
            self.factor = max(0.6, 1.0 + self._x)
        return self.factor


class Motion:
    """Accumulators of steps (count), distance (m) and active energy (kcal) of one device.

    Attributes:
        total_steps, total_distance, total_energy: everything counted so far (for workout
            totals), never taken.
    """

    def __init__(self, profile: Profile) -> None:
        self._height_m = profile.height_cm / 100.0
        self._kcal_per_met_s = profile.weight_kg / 3600.0
        self.steps = 0.0
        self.distance = 0.0
        self.energy = 0.0
        self.total_distance = 0.0
        self.total_energy = 0.0

    def step(self, dt: float, segment: Segment, pace: float = 1.0) -> None:
        """Add ``dt`` seconds of ``segment``'s activity at ``pace`` times its cadence."""
        if segment.cadence:
            steps = segment.cadence * pace * dt / 60.0
            self.steps += steps
            metres = steps * STEP_LENGTH[segment.activity] * self._height_m
            self.distance += metres
            self.total_distance += metres
        mets = METS[segment.activity]
        if segment.workout:
            mets *= segment.intensity / INTENSITY[segment.activity]
        if mets > 1.0:
            kcal = (mets - 1.0) * self._kcal_per_met_s * dt
            self.energy += kcal
            self.total_energy += kcal

    def reset(self) -> None:
        """Forget what was accumulated (after a jump)."""
        self.steps = self.distance = self.energy = 0.0

    def take_steps(self) -> int:
        """Whole steps of the interval; the fraction carries over."""
        whole = int(self.steps)
        self.steps -= whole
        return whole

    def take_distance(self) -> float:
        """Metres of the interval, to the centimetre; the remainder carries over."""
        # max() turns the -0.0 that rounding a tiny negative leftover gives into 0.0
        value = max(0.0, round(self.distance, 2))
        self.distance -= value
        return value

    def take_energy(self) -> float:
        """Kilocalories of the interval, to 0.01 kcal; the remainder carries over."""
        value = max(0.0, round(self.energy, 2))
        self.energy -= value
        return value
