"""When a device takes its readings: the ``dense`` grid, or a real watch's ``watch`` profile.

``dense`` (the default, the original design): every type on a fixed grid from the start,
heart rate every second, the rest at the catalogue's cadence (or ``--cadences``).

``watch``: what an Apple Watch and its companions write to HealthKit:

- heart rate about every 5 s in a workout, every 3-7 minutes otherwise (Apple Support,
  "Monitor your heart rate with Apple Watch": measured continuously in workouts and
  periodically in the background when still);
- HRV (SDNN) a few times a day, only when still (same article: heart rate variability is
  recorded periodically in the background);
- SpO2 roughly hourly awake when still, every 20-40 minutes asleep (Apple Support, "How to
  use the Blood Oxygen app on Apple Watch": background readings when still, more frequent
  during sleep);
- respiratory rate only asleep, every 5-15 minutes (Apple Support, "Track your sleep on
  Apple Watch and use Sleep on iPhone": respiratory rate is measured while you sleep);
- sleeping wrist temperature once a night, in place of body temperature every 5 minutes
  (Apple, Temperature sensing on Apple Watch, white paper 2022; HealthKit
  ``HKQuantityTypeIdentifierAppleSleepingWristTemperature``); body temperature only from a
  thermometer, once a morning;
- blood pressure 1-2 cuff readings a day, morning and often evening (Muntner P et al.
  Measurement of blood pressure in humans: a scientific statement from the AHA.
  Hypertension 2019;73:e35-e66, home monitoring twice daily);
- glucose every 5 minutes, only from a CGM (Dexcom G7 user guide: a reading every 5 min);
- watch steps, distance and energy in blocks of 2-10 minutes, only while there is
  something to count (HealthKit step samples from Apple Watch); the phone's in blocks of
  3-9 minutes while it is carried, in both profiles.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from biomock.sim.schedule import HOUR_MS, MINUTE_MS

CADENCES = ("dense", "watch")
DEFAULT_CADENCE = "dense"

PHONE_BLOCK_MS = (3 * MINUTE_MS, 9 * MINUTE_MS)
"""How long the phone's step, distance and energy blocks are, in both profiles."""

WATCH_MIN_INTERVAL_MS = {
    "heart_rate": 4_000,
    "heart_rate_variability_sdnn": 15 * MINUTE_MS,
    "oxygen_saturation": 10 * MINUTE_MS,
    "respiratory_rate": 5 * MINUTE_MS,
    "steps": 2 * MINUTE_MS,
    "distance_walking_running": 2 * MINUTE_MS,
    "active_energy_burned": 2 * MINUTE_MS,
}
"""The shortest gap between two readings of a type in the ``watch`` profile (for jitter)."""


def check_cadence(name: str) -> str:
    """Return ``name`` if it is a cadence profile.

    Raises:
        ValueError: for any other name.
    """
    if name not in CADENCES:
        raise ValueError(f"cadence: {name!r} is not one of {', '.join(CADENCES)}")
    return name


class WatchCadence:
    """The ``watch`` profile's next-reading intervals for one subject.

    The callables read the subject's state through the functions they are given: whether
    they are in a workout, asleep, still, and whether the last attempt was skipped.
    """

    def __init__(
        self,
        rng: random.Random,
        *,
        in_workout: Callable[[], bool],
        asleep: Callable[[], bool],
        local_hour: Callable[[int], float],
        missed: Callable[[str], bool],
    ) -> None:
        self._rng = rng
        self._in_workout = in_workout
        self._asleep = asleep
        self._local_hour = local_hour
        self._missed = missed
        self._evening_bp = False

    def _ms(self, low: float, high: float) -> int:
        return round(self._rng.uniform(low, high))

    def heart_rate(self, t_ms: int) -> int:
        if self._in_workout():
            return self._ms(4_000, 6_000)
        return self._ms(3 * MINUTE_MS, 7 * MINUTE_MS)

    def sdnn(self, t_ms: int) -> int:
        if self._missed("heart_rate_variability_sdnn"):
            return self._ms(15 * MINUTE_MS, 20 * MINUTE_MS)
        return self._ms(2 * HOUR_MS, 5 * HOUR_MS)

    def spo2(self, t_ms: int) -> int:
        if self._asleep():
            return self._ms(20 * MINUTE_MS, 40 * MINUTE_MS)
        if self._missed("oxygen_saturation"):
            return self._ms(10 * MINUTE_MS, 15 * MINUTE_MS)
        return self._ms(45 * MINUTE_MS, 90 * MINUTE_MS)

    def respiratory_rate(self, t_ms: int) -> int:
        if self._asleep():
            return self._ms(5 * MINUTE_MS, 15 * MINUTE_MS)
        return 15 * MINUTE_MS  # look again later: only measured asleep

    def motion(self, t_ms: int) -> int:
        return self._ms(2 * MINUTE_MS, 10 * MINUTE_MS)

    def _at_local(self, t_ms: int, hour: float, sd_min: float) -> int:
        """Time from ``t_ms`` to the next ``hour`` local (+- a little), at least an hour on."""
        now = self._local_hour(t_ms)
        wait_h = (hour - now) % 24.0
        if wait_h < 1.0:
            wait_h += 24.0
        return max(HOUR_MS, round(wait_h * HOUR_MS + self._rng.gauss(0.0, sd_min) * MINUTE_MS))

    def blood_pressure(self, t_ms: int) -> int:
        hour = self._local_hour(t_ms)
        if 4.0 <= hour < 14.0 and self._rng.random() < 0.5:
            return self._at_local(t_ms, 21.0, 30.0)  # an evening reading too, today
        return self._at_local(t_ms, 7.75, 20.0)

    def morning(self, t_ms: int) -> int:
        """Once a day, in the morning (thermometer, scale)."""
        return self._at_local(t_ms, 7.5, 25.0)

    def interval(self, type_name: str) -> Callable[[int], int] | None:
        """The next-reading function of ``type_name``; ``None`` keeps the catalogue cadence."""
        table: dict[str, Callable[[int], int]] = {
            "heart_rate": self.heart_rate,
            "heart_rate_variability_sdnn": self.sdnn,
            "oxygen_saturation": self.spo2,
            "respiratory_rate": self.respiratory_rate,
            "steps": self.motion,
            "distance_walking_running": self.motion,
            "active_energy_burned": self.motion,
            "blood_pressure_systolic": self.blood_pressure,
            "body_temperature": self.morning,
            "body_mass": self.morning,
        }
        return table.get(type_name)
