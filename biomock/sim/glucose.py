"""Blood glucose: a fasting baseline, meal responses, slow drift, exercise and scenarios.

Each meal adds ``rise x x^2 x exp(2 (1 - x))`` with ``x = minutes since the meal / 45``: a
curve that starts slowly, peaks 45 minutes after eating and is back within 4 mg/dL of
baseline after 2.5 hours. Readings are like a CGM's: every 5 minutes, whole mg/dL.

Sources of the constants:
    - Fasting 70-99 mg/dL; healthy post-meal peaks below 140 mg/dL, back to baseline within
      2-3 hours: American Diabetes Association, Postprandial blood glucose (consensus
      statement), Diabetes Care 2001;24:775-778.
    - Peaks 30-60 minutes after a meal with rises of about 20-40 mg/dL in healthy adults:
      Freckmann G et al. Continuous glucose profiles in healthy subjects under everyday life
      conditions and after different meals. J Diabetes Sci Technol 2007;1:695-703.
    - Glucose falls modestly during moderate exercise in the fed state (here up to ~10 mg/dL):
      Colberg SR et al. Physical activity/exercise and diabetes: a position statement of the
      ADA. Diabetes Care 2016;39:2065-2079.
    - Hypoglycemia levels: see ``biomock.sim.scenarios``.
    - The slow drift (SD 3 mg/dL, 30 min) and reading noise (SD 1.5 mg/dL) are model choices,
      sized to keep a healthy day inside the ranges above.
"""

from __future__ import annotations

import math
import random

from biomock.sim.profiles import Profile
from biomock.sim.scenarios import Scenario
from biomock.sim.schedule import HOUR_MS, Meal

PEAK_MS = 45 * 60_000
MEAL_EFFECT_MS = 4 * HOUR_MS
_DRIFT_SD = 3.0
_TAU_DRIFT_S = 1800.0
_TAU_SCENARIO_S = 900.0
_SENSOR_SD = 1.5
_EXERCISE_DROP = 14.0


def meal_response(meal: Meal, t_ms: int) -> float:
    """mg/dL that ``meal`` adds at ``t_ms``."""
    elapsed = t_ms - meal.time_ms
    if elapsed <= 0 or elapsed >= MEAL_EFFECT_MS:
        return 0.0
    x = elapsed / PEAK_MS
    return meal.rise * x * x * math.exp(2.0 * (1.0 - x))


class Glucose:
    """A subject's glucose state, updated lazily when a reading is taken."""

    def __init__(self, profile: Profile, rng: random.Random, t_ms: int) -> None:
        self._rng = rng
        self._base = profile.fasting_glucose
        self._drift = 0.0
        self._low = 0.0  # 0..1, how far a hypoglycemia scenario has pulled glucose down
        self._last_ms = t_ms
        self.meals: list[Meal] = []

    def eat(self, meal: Meal) -> None:
        self.meals.append(meal)

    def settle(self, scenario: Scenario, t_ms: int) -> None:
        """After a jump: the scenario's level is reached, the drift is kept."""
        self._low = 1.0 if scenario.glucose_target is not None else 0.0
        self._last_ms = t_ms

    def reading(self, t_ms: int, warm: float, scenario: Scenario) -> int:
        """A CGM reading at ``t_ms``; ``warm`` is the recent exertion (0..1)."""
        dt = max(0.0, (t_ms - self._last_ms) / 1000.0)
        self._last_ms = t_ms
        decay = math.exp(-dt / _TAU_DRIFT_S)
        rng = self._rng
        self._drift = self._drift * decay + _DRIFT_SD * math.sqrt(1.0 - decay * decay) * rng.gauss(
            0.0, 1.0
        )
        target_low = 1.0 if scenario.glucose_target is not None else 0.0
        self._low += (target_low - self._low) * (1.0 - math.exp(-dt / _TAU_SCENARIO_S))
        self.meals = [m for m in self.meals if t_ms - m.time_ms < MEAL_EFFECT_MS]
        value = self._base + self._drift - _EXERCISE_DROP * warm
        for meal in self.meals:
            value += meal_response(meal, t_ms)
        if self._low > 0.0:
            low_level = scenario.glucose_target if scenario.glucose_target is not None else 50.0
            value = value * (1.0 - self._low) + low_level * self._low
        value += _SENSOR_SD * rng.gauss(0.0, 1.0)
        return round(min(400.0, max(40.0, value)))
