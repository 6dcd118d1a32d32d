"""One simulated person: the event loop that advances their state and emits their samples.

The loop moves from event to event in simulated time: a physiology step at least every
second, each type's reporting instants (exact multiples of its cadence from the start),
and the ends of activity segments and sleep stages. Samples are appended in time order.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from biomock.catalogue import TYPES
from biomock.sample import Sample
from biomock.sim.activity import Motion
from biomock.sim.glucose import MEAL_EFFECT_MS, Glucose
from biomock.sim.heart import Heart
from biomock.sim.profiles import Profile, make_profile
from biomock.sim.scenarios import DEFAULT_SCENARIO, SCENARIO_SPECS, Scenario
from biomock.sim.schedule import (
    DAY_MS,
    HOUR_MS,
    SEDENTARY,
    SLEEP,
)
from biomock.sim.seeds import derive_rng, derive_seed
from biomock.sim.timeline import Timeline
from biomock.sim.vitals import Vitals

STEP_MS = 1000
"""The physiology advances at least once per simulated second."""

# Sleep stages shift the heart-rate target (fraction of HRR) and scale beat-to-beat
# variability: lowest and steadiest in deep sleep, higher and more variable in REM
# (Somers 1993; see biomock.sim.heart).
_STAGE_INTENSITY = {
    "awake": 0.06,
    "asleepCore": 0.0,
    "asleepDeep": -0.02,
    "asleepREM": 0.03,
    "inBed": 0.0,
}
_STAGE_HRV = {"awake": 1.0, "asleepCore": 1.05, "asleepDeep": 1.15, "asleepREM": 0.9, "inBed": 1.0}
RESTING_PERCENTILE = 10
"""Resting heart rate is reported as this percentile of awake, sedentary heart rate."""
_TWO_PI_PER_DAY = 2.0 * math.pi / DAY_MS
_CIRCADIAN_PEAK_MS = 16 * HOUR_MS  # cosine peak at 16:00, trough at 04:00

# Types whose samples summarise the interval before them: the first comes one cadence in.
_SUMMARY = {
    "heart_rate_variability_sdnn",
    "resting_heart_rate",
    "steps",
    "distance_walking_running",
    "active_energy_burned",
}


def circadian(t_ms: int) -> float:
    """The circadian phase term, -1 at 04:00 and +1 at 16:00 (UTC)."""
    return math.cos(((t_ms % DAY_MS) - _CIRCADIAN_PEAK_MS) * _TWO_PI_PER_DAY)


class SubjectSim:
    """One subject's simulation. See :class:`biomock.sim.Simulator` for the public API."""

    def __init__(self, name: str, seed: int, start_ms: int, cadences_ms: dict[str, int]) -> None:
        self.name = name
        self._seed = derive_seed(seed, name)
        self.profile: Profile = make_profile(seed, name)
        rng = derive_rng(self._seed, "noise")
        self._rng = rng
        self._start = start_ms
        self.scenario: Scenario = SCENARIO_SPECS[DEFAULT_SCENARIO]
        self.heart = Heart(self.profile, rng, start_ms)
        self.motion = Motion(self.profile)
        self.vitals = Vitals(self.profile, rng, start_ms)
        self.glucose = Glucose(self.profile, rng, start_ms)
        self._emitters: list[tuple[int, Callable[[int, list[Sample]], None], bool]] = []
        table: dict[str, Callable[[int, list[Sample]], None]] = {
            "heart_rate": self._emit_heart_rate,
            "heart_rate_variability_sdnn": self._emit_sdnn,
            "resting_heart_rate": self._emit_resting,
            "steps": self._emit_steps,
            "distance_walking_running": self._emit_distance,
            "active_energy_burned": self._emit_energy,
            "oxygen_saturation": self._emit_spo2,
            "respiratory_rate": self._emit_respiratory,
            "body_temperature": self._emit_temperature,
            "blood_pressure_systolic": self._emit_blood_pressure,
            "blood_glucose": self._emit_glucose,
        }
        for type_name, emit in table.items():
            self._emitters.append((cadences_ms[type_name], emit, type_name in _SUMMARY))
        self._cadence = {name: cadences_ms[name] for name in table}
        self._next = [0] * len(self._emitters)
        self._pending: list[Sample] = []
        self.timeline = Timeline(self._seed, name, start_ms)
        self._t = start_ms
        self._now = start_ms
        self._floor = start_ms
        self._next_tick = start_ms
        self._next_emit = start_ms
        self._meals_until = start_ms
        self._rest_counts = [0] * 256
        self._rest_n = 0
        self._restart(start_ms, first=True)

    # -- starting, jumping, switching ----------------------------------------------------

    def _restart(self, t_ms: int, *, first: bool) -> None:
        """Place the subject at ``t_ms`` in the steady state of what the plan has them doing."""
        self._pending = []
        self._t = t_ms
        self._now = t_ms
        self._floor = t_ms
        ticks = (t_ms - self._start) // STEP_MS + 1
        self._next_tick = self._start + ticks * STEP_MS
        for i, (cadence, _, summary) in enumerate(self._emitters):
            if first:
                self._next[i] = self._start + (cadence if summary else 0)
            else:
                # point types may report at t_ms itself; summaries need time after it
                j = -(-(t_ms - self._start) // cadence)
                if summary and self._start + j * cadence <= t_ms:
                    j += 1
                self._next[i] = self._start + j * cadence
        self._next_emit = min(self._next)
        timeline = self.timeline
        current = timeline.segment
        if self.scenario.force and not first and current.start_ms <= t_ms < current.end_ms:
            segment = current
        else:
            segment = timeline.segment_at(t_ms, self.scenario)
        timeline.enter(segment, t_ms, self.scenario, None)
        intensity = segment.intensity
        if segment.stages:
            intensity += _STAGE_INTENSITY[timeline.stage or "awake"]
        self.heart.settle(intensity, self.scenario)
        self.heart.restart_beats(t_ms)
        self.motion.reset()
        self.vitals.settle(intensity, self.scenario, t_ms)
        self.glucose.settle(self.scenario, t_ms)
        self.glucose.meals = []
        self._meals_until = t_ms - MEAL_EFFECT_MS
        self._eat_until(t_ms)
        self._rest_counts = [0] * 256
        self._rest_n = 0

    def jump(self, to_ms: int) -> None:
        """Move to ``to_ms``: nothing before it is emitted, the day plan restarts there."""
        if to_ms > self._now:
            self._restart(to_ms, first=False)

    def set_scenario(self, scenario: Scenario) -> None:
        """Switch to ``scenario`` at the current simulated time."""
        old = self.scenario
        if scenario is old:
            return
        changes_activity = scenario.force != old.force
        if changes_activity:
            self.timeline.close(self._now, old, self._pending)
        self.scenario = scenario
        if changes_activity:
            segment = self.timeline.segment_at(self._now, scenario)
            self.timeline.enter(segment, self._now, scenario, self._pending)

    # -- the loop -------------------------------------------------------------------------

    def advance(self, until_ms: int) -> list[Sample]:
        """Every sample with ``time_ms <= until_ms`` not returned before, in time order."""
        out = self._pending
        self._pending = []
        if until_ms < self._now:
            return out
        timeline = self.timeline
        while True:
            t = self._next_tick
            if self._next_emit < t:
                t = self._next_emit
            if timeline.boundary < t:
                t = timeline.boundary
            if t > until_ms:
                break
            if t > self._t:
                self._step(t)
            if t == timeline.boundary:
                timeline.cross(t, self.scenario, out)
            if t == self._next_tick:
                self._next_tick += STEP_MS
            if t == self._next_emit:
                nexts = self._next
                for i, (cadence, emit, _) in enumerate(self._emitters):
                    if nexts[i] == t:
                        emit(t, out)
                        nexts[i] = t + cadence
                self._next_emit = min(nexts)
        self._now = until_ms
        return out

    def _step(self, t_ms: int) -> None:
        dt = (t_ms - self._t) / 1000.0
        self._t = t_ms
        seg = self.timeline.segment
        scenario = self.scenario
        intensity = seg.intensity
        hrv = 1.0
        stage = self.timeline.stage
        if stage is not None:
            intensity += _STAGE_INTENSITY[stage]
            hrv = _STAGE_HRV[stage]
            if scenario.apnea or self.vitals.deficit:
                intensity += self.vitals.step_apnea(t_ms, dt, scenario.apnea and stage != "awake")
        elif self.vitals.deficit:
            self.vitals.step_apnea(t_ms, dt, False)
        heart = self.heart
        heart.step(t_ms, dt, intensity, circadian(t_ms), hrv, scenario)
        self.vitals.step(dt, heart.fast + heart.slow)
        if seg.activity != SLEEP:
            self.motion.step(dt, seg)
            if seg.activity == SEDENTARY:
                self._rest_counts[min(255, int(heart.hr))] += 1
                self._rest_n += 1

    def _asleep(self) -> bool:
        stage = self.timeline.stage
        return stage is not None and stage != "awake"

    def _eat_until(self, t_ms: int) -> None:
        """Eat the plan's meals up to ``t_ms`` unless asleep (a forced sleep skips meals)."""
        start = self._meals_until
        if t_ms <= start:
            return
        self._meals_until = t_ms
        if self.timeline.segment.activity == SLEEP and self.scenario.force == "sleep":
            return
        for meal in self.timeline.meals_between(start, t_ms):
            self.glucose.eat(meal)

    # -- emitters -------------------------------------------------------------------------

    def _sample(self, type_name: str, value: float | int | str, t_ms: int) -> Sample:
        return Sample(
            type_name, value, t_ms, TYPES[type_name].unit, self.name, None, self.scenario.name
        )

    def _interval_start(self, type_name: str, t_ms: int) -> int:
        return max(self._floor, t_ms - self._cadence[type_name])

    def _emit_heart_rate(self, t_ms: int, out: list[Sample]) -> None:
        out.append(
            Sample(
                "heart_rate",
                round(self.heart.hr),
                t_ms,
                "count/min",
                self.name,
                None,
                self.scenario.name,
            )
        )

    def _emit_sdnn(self, t_ms: int, out: list[Sample]) -> None:
        sdnn = self.heart.sdnn()
        if sdnn is not None:
            out.append(self._sample("heart_rate_variability_sdnn", round(sdnn, 1), t_ms))

    def _emit_resting(self, t_ms: int, out: list[Sample]) -> None:
        # Like a watch: a low percentile of the heart rate while awake and sitting still,
        # over the period; the profile's value when there was too little of it.
        if self._rest_n >= 600:
            rank = self._rest_n * RESTING_PERCENTILE / 100.0
            seen = 0
            value = 0.0
            for bpm, count in enumerate(self._rest_counts):
                seen += count
                if seen >= rank:
                    value = float(bpm)
                    break
        else:
            value = (self.profile.resting_hr + self.scenario.hr_offset) * self.scenario.hr_factor
        self._rest_counts = [0] * 256
        self._rest_n = 0
        out.append(self._sample("resting_heart_rate", round(value), t_ms))

    def _emit_steps(self, t_ms: int, out: list[Sample]) -> None:
        sample = Sample(
            "steps",
            self.motion.take_steps(),
            t_ms,
            "count",
            self.name,
            self._interval_start("steps", t_ms),
            self.scenario.name,
        )
        out.append(sample)

    def _emit_distance(self, t_ms: int, out: list[Sample]) -> None:
        name = "distance_walking_running"
        out.append(
            Sample(
                name,
                self.motion.take_distance(),
                t_ms,
                "m",
                self.name,
                self._interval_start(name, t_ms),
                self.scenario.name,
            )
        )

    def _emit_energy(self, t_ms: int, out: list[Sample]) -> None:
        name = "active_energy_burned"
        out.append(
            Sample(
                name,
                self.motion.take_energy(),
                t_ms,
                "kcal",
                self.name,
                self._interval_start(name, t_ms),
                self.scenario.name,
            )
        )

    def _emit_spo2(self, t_ms: int, out: list[Sample]) -> None:
        value = self.vitals.spo2(t_ms, self._asleep(), self.scenario)
        out.append(self._sample("oxygen_saturation", value, t_ms))

    def _emit_respiratory(self, t_ms: int, out: list[Sample]) -> None:
        heart = self.heart
        value = self.vitals.respiratory_rate(
            t_ms, heart.fast + heart.slow, self._asleep(), self.scenario
        )
        out.append(self._sample("respiratory_rate", value, t_ms))

    def _emit_temperature(self, t_ms: int, out: list[Sample]) -> None:
        value = self.vitals.temperature(t_ms, circadian(t_ms), self.scenario)
        out.append(self._sample("body_temperature", value, t_ms))

    def _emit_blood_pressure(self, t_ms: int, out: list[Sample]) -> None:
        heart = self.heart
        systolic, diastolic = self.vitals.blood_pressure(
            t_ms, heart.fast + heart.slow, self._asleep(), self.scenario
        )
        scenario = self.scenario.name
        out.append(
            Sample(
                "blood_pressure_systolic",
                systolic,
                t_ms,
                "mmHg",
                self.name,
                None,
                scenario,
                None,
                {"diastolic": diastolic},
            )
        )
        out.append(
            Sample("blood_pressure_diastolic", diastolic, t_ms, "mmHg", self.name, None, scenario)
        )

    def _emit_glucose(self, t_ms: int, out: list[Sample]) -> None:
        self._eat_until(t_ms)
        value = self.glucose.reading(t_ms, self.vitals.warm, self.scenario)
        out.append(self._sample("blood_glucose", value, t_ms))

    def describe(self) -> dict[str, object]:
        """Name, profile and current scenario (``GET /api/subjects``)."""
        return {"name": self.name, **self.profile.describe(), "scenario": self.scenario.name}
