"""Movement: steps, distance and active energy accumulated over each reporting interval.

Steps come from the current segment's cadence, distance from step length x height, active
energy from METs above rest: ``(METs - 1) x kg x hours`` kcal, since 1 MET is about
1 kcal/kg/h (Ainsworth 2011 Compendium). Constants are in ``biomock.sim.schedule``.
Fractions are carried over to the next interval, so totals are exact over a day.
"""

from __future__ import annotations

from biomock.sim.profiles import Profile
from biomock.sim.schedule import METS, STEP_LENGTH, Segment


class Motion:
    """Accumulators of steps (count), distance (m) and active energy (kcal)."""

    def __init__(self, profile: Profile) -> None:
        self._height_m = profile.height_cm / 100.0
        self._kcal_per_met_s = profile.weight_kg / 3600.0
        self.steps = 0.0
        self.distance = 0.0
        self.energy = 0.0

    def step(self, dt: float, segment: Segment) -> None:
        """Add ``dt`` seconds of ``segment``'s activity."""
        if segment.cadence:
            steps = segment.cadence * dt / 60.0
            self.steps += steps
            self.distance += steps * STEP_LENGTH[segment.activity] * self._height_m
        mets = METS[segment.activity] * (segment.intensity / 0.72 if segment.workout else 1.0)
        if mets > 1.0:
            self.energy += (mets - 1.0) * self._kcal_per_met_s * dt

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
        value = round(self.distance, 2)
        self.distance -= value
        return value

    def take_energy(self) -> float:
        """Kilocalories of the interval, to 0.01 kcal; the remainder carries over."""
        value = round(self.energy, 2)
        self.energy -= value
        return value
