"""One simulated person: the event loop that advances their state and emits their samples.

The loop moves from event to event in simulated time: a physiology step at least every
second, each reading's instant (a fixed grid in the ``dense`` profile, the intervals of
``biomock.sim.cadence`` in the ``watch`` profile), and the ends of activity segments and
sleep stages. Samples are appended in time order; with imperfections they are published in
release order (late batches after later samples of other sources, see ``imperfect``).
"""

from __future__ import annotations

from collections.abc import Sequence

from biomock.sample import JSONScalar, Sample
from biomock.sim.activity import Motion, Pace
from biomock.sim.cadence import WatchCadence
from biomock.sim.devices import DEFAULT_DEVICES, sources_for
from biomock.sim.emitter import Emitter
from biomock.sim.glucose import MEAL_EFFECT_MS, Glucose
from biomock.sim.heart import DRIFT_MAX, DRIFT_PER_MINUTE, FEVER_BPM_PER_DEGC, Heart
from biomock.sim.imperfect import Flaws
from biomock.sim.profiles import Profile, make_profile
from biomock.sim.readings import Readings
from biomock.sim.release import Release
from biomock.sim.scenarios import DEFAULT_SCENARIO, SCENARIO_SPECS, Scenario
from biomock.sim.schedule import (
    DAY_MS,
    HOUR_MS,
    MINUTE_MS,
    SEDENTARY,
    SLEEP,
    Segment,
    circadian,
)
from biomock.sim.seeds import derive_rng, derive_seed
from biomock.sim.sleep import STAGE_HRV, STAGE_INTENSITY
from biomock.sim.timeline import Timeline
from biomock.sim.vitals import Vitals
from biomock.sim.zones import LocalDays, load_zone, pick_zone

STEP_MS = 1000
"""The physiology advances at least once per simulated second (``dense`` profile)."""
WATCH_STEP_MS = 5000
"""In the ``watch`` profile, at least every 5 s: no reading is closer than that, and the
kinetics are exact exponentials of the step, so only the beat-to-beat detail is coarser."""

_DRIFT_AFTER_MS = 10 * MINUTE_MS
_STILL = (SLEEP, SEDENTARY)
# How often the phone is in a pocket, by activity: usually on walks, often on runs.
_CARRIED = {"light": 0.5, "walking": 0.8, "running": 0.6}


class SubjectSim:
    """One subject's simulation. See :class:`biomock.sim.Simulator` for the public API."""

    def __init__(
        self,
        name: str,
        seed: int,
        start_ms: int,
        cadences_ms: dict[str, int],
        *,
        cadence: str = "dense",
        imperfect: bool = False,
        devices: Sequence[str] | None = None,
        zone: str | None = None,
    ) -> None:
        self.name = name
        self._seed = self.seed = derive_seed(seed, name)
        self.profile: Profile = make_profile(seed, name)
        self.time_zone = zone or pick_zone(derive_rng(self._seed, "zone"))
        self.days = LocalDays(load_zone(self.time_zone))
        self.devices = tuple(devices or DEFAULT_DEVICES)
        self.watch_profile = cadence == "watch"
        self._step_ms = WATCH_STEP_MS if self.watch_profile else STEP_MS
        self.sources = sources_for(self.devices, dense=not self.watch_profile)
        rng = derive_rng(self._seed, "noise")
        self._start = start_ms
        self.scenario: Scenario = SCENARIO_SPECS[DEFAULT_SCENARIO]
        self.heart = Heart(self.profile, rng, start_ms)
        self.pace = Pace(derive_rng(self._seed, "pace"))
        self.motion = Motion(self.profile)
        self.phone = Motion(self.profile)
        self.vitals = Vitals(self.profile, rng, start_ms)
        self.glucose = Glucose(self.profile, rng, start_ms)
        self.timeline = Timeline(
            self._seed,
            name,
            start_ms,
            self.profile,
            self.days,
            self.sources.get("sleep_analysis"),
            self.sources.get("workout"),
        )
        self.timeline.workout_totals = self._workout_totals
        self._workout_mark = (0.0, 0.0)
        self.flaws = Flaws(self._seed, self.timeline.plan_at) if imperfect else None
        self.missed: set[str] = set()
        self.carried = False
        self._phone_factor = 1.0
        self._moving = False
        self.still_since = start_ms
        self._offset_ms = 0
        self._plan_index: int | None = None
        watch = None
        if self.watch_profile:
            watch = WatchCadence(
                derive_rng(self._seed, "cadence"),
                in_workout=lambda: self.timeline.segment.workout is not None,
                asleep=self.asleep,
                local_hour=self.local_hour,
                missed=self.missed.__contains__,
            )
        self.readings = Readings(self, cadences_ms, watch, derive_rng(self._seed, "phone"))
        self._emitters: list[Emitter] = self.readings.emitters
        self._next = [0] * len(self._emitters)
        types = [emitter.type for emitter in self._emitters]
        self._hr_index = types.index("heart_rate") if "heart_rate" in types else None
        self._pending: list[Sample] = []
        self._release: Release | None = None
        if self.flaws is not None:
            self._release = Release(self.flaws, self.readings.spans, self.readings.phone_span)
        self._t = start_ms
        self._now = start_ms
        self.floor = start_ms
        self._next_tick = start_ms
        self._next_emit = start_ms
        self._meals_until = start_ms
        self._restart(start_ms, first=True)

    # -- starting, jumping, switching ----------------------------------------------------

    def _restart(self, t_ms: int, *, first: bool) -> None:
        """Place the subject at ``t_ms`` in the steady state of what the plan has them doing."""
        self._pending = []
        if self._release is not None:
            self._release.clear()
        self._t = t_ms
        self._now = t_ms
        self.floor = t_ms
        ticks = (t_ms - self._start) // self._step_ms + 1
        self._next_tick = self._start + ticks * self._step_ms
        for i, emitter in enumerate(self._emitters):
            self._next[i] = emitter.first(self._start, t_ms, first)
        self._next_emit = min(self._next, default=2**62)
        self.readings.restart(t_ms)
        timeline = self.timeline
        current = timeline.segment
        if self.scenario.force and not first and current.start_ms <= t_ms < current.end_ms:
            segment = current
        else:
            segment = timeline.segment_at(t_ms, self.scenario)
        timeline.enter(segment, t_ms, self.scenario, None)
        self._entered(segment, t_ms, None)
        intensity = segment.intensity
        if segment.stages:
            intensity += STAGE_INTENSITY[timeline.stage or "awake"]
        self.heart.settle(intensity, self.scenario)
        self.heart.restart_beats(t_ms)
        self.motion.reset()
        self.phone.reset()
        self.vitals.settle(intensity, self.scenario, t_ms)
        self.glucose.settle(self.scenario, t_ms)
        self.glucose.meals = []
        self._meals_until = t_ms - MEAL_EFFECT_MS
        self.eat_until(t_ms)

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
        previous = self.timeline.segment
        if changes_activity:
            self.timeline.close(self._now, old, self._pending)
        self.scenario = scenario
        if changes_activity:
            segment = self.timeline.segment_at(self._now, scenario)
            self.timeline.enter(segment, self._now, scenario, self._pending)
            self._entered(segment, self._now, previous)

    def _entered(self, segment: Segment, t_ms: int, previous: Segment | None) -> None:
        """Follow a new segment: the day's offsets, the zone's, the phone, stillness."""
        plan = self.timeline.plan
        if plan is not None and plan.index != self._plan_index:
            self._plan_index = plan.index
            self.heart.set_day(plan.rest_offset, plan.hrv_factor)
            self._offset_ms = self.days.offset(t_ms)
        if segment.workout is not None:
            self._workout_mark = (self.motion.total_distance, self.motion.total_energy)
        moving = segment.activity not in _STILL
        if previous is None or moving or previous.activity != segment.activity or self._moving:
            self.still_since = t_ms
        self._moving = moving
        if segment.cadence:
            rng = derive_rng(self._seed, "carried", segment.start_ms)
            self.carried = rng.random() < _CARRIED.get(segment.activity, 0.5)
            self._phone_factor = rng.uniform(0.9, 1.03)
        else:
            self.carried = False
        if self.watch_profile and segment.workout is not None and self._hr_index is not None:
            # a workout turns on continuous heart rate at once
            due = t_ms + 5_000
            if self._next[self._hr_index] > due:
                self._next[self._hr_index] = due
                self._next_emit = min(self._next_emit, due)

    # -- the loop -------------------------------------------------------------------------

    def advance(self, until_ms: int) -> list[Sample]:
        """Every sample due by ``until_ms`` not returned before, in publication order.

        Without imperfections that is time order; with them, a late batch comes after
        samples of other sources with later timestamps.
        """
        if self._release is None:
            return self._advance(until_ms)
        return [sample for _, _, sample in self._release.due(self._advance(until_ms), until_ms)]

    def advance_keyed(self, until_ms: int) -> list[tuple[int, int, Sample]]:
        """Like :meth:`advance`, each sample with its (release, time) sort key."""
        if self._release is None:
            return [(s.time_ms, s.time_ms, s) for s in self._advance(until_ms)]
        return self._release.due(self._advance(until_ms), until_ms)

    def _advance(self, until_ms: int) -> list[Sample]:
        out = self._pending
        self._pending = []
        if until_ms < self._now:
            return out
        timeline = self.timeline
        emitters = self._emitters
        nexts = self._next
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
                previous = timeline.segment
                timeline.cross(t, self.scenario, out)
                if timeline.segment is not previous:
                    self._entered(timeline.segment, t, previous)
                    self.readings.after_segment(previous, t, out)
            if t == self._next_tick:
                self._next_tick += self._step_ms
            if t == self._next_emit:
                for i, emitter in enumerate(emitters):
                    if nexts[i] == t:
                        nexts[i] = t + emitter.run(t, out)
                self._next_emit = min(nexts)
        self._now = until_ms
        return out

    def _step(self, t_ms: int) -> None:
        dt = (t_ms - self._t) / 1000.0
        self._t = t_ms
        seg = self.timeline.segment
        scenario = self.scenario
        intensity = seg.intensity
        if seg.workout is not None:
            into = t_ms - seg.start_ms - _DRIFT_AFTER_MS
            if into > 0:
                intensity += min(DRIFT_MAX, DRIFT_PER_MINUTE * into / MINUTE_MS)
        hrv = 1.0
        extra_bpm = 0.0
        stage = self.timeline.stage
        vitals = self.vitals
        if stage is not None:
            intensity += STAGE_INTENSITY[stage]
            hrv = STAGE_HRV[stage]
            if scenario.apnea or vitals.deficit:
                extra_bpm = vitals.step_apnea(t_ms, dt, scenario.apnea and stage != "awake")
        elif vitals.deficit:
            vitals.step_apnea(t_ms, dt, False)
        fever = vitals.fever
        if fever:
            extra_bpm += FEVER_BPM_PER_DEGC * fever
        heart = self.heart
        heart.step(t_ms, dt, intensity, circadian(t_ms + self._offset_ms), hrv, scenario, extra_bpm)
        vitals.step(dt, heart.fast + heart.slow, scenario)
        if seg.activity != SLEEP:
            pace = self.pace.at(t_ms, seg) if seg.cadence else 1.0
            self.motion.step(dt, seg, pace)
            if self.carried:
                self.phone.step(dt, seg, pace * self._phone_factor)
            if seg.activity == SEDENTARY:
                self.readings.count_rest(heart.hr)

    def _workout_totals(self) -> dict[str, JSONScalar]:
        distance, energy = self._workout_mark
        return {
            "total_energy_kcal": round(self.motion.total_energy - energy, 1),
            "total_distance_m": round(self.motion.total_distance - distance, 1),
        }

    # -- what the readings ask about ------------------------------------------------------

    def asleep(self) -> bool:
        stage = self.timeline.stage
        return stage is not None and stage != "awake"

    def local_hour(self, t_ms: int) -> float:
        return ((t_ms + self.days.offset(t_ms)) % DAY_MS) / HOUR_MS

    def local_ms(self, t_ms: int) -> int:
        return t_ms + self._offset_ms

    def eat_until(self, t_ms: int) -> None:
        """Eat the plan's meals up to ``t_ms`` unless asleep (a forced sleep skips meals)."""
        start = self._meals_until
        if t_ms <= start:
            return
        self._meals_until = t_ms
        if self.timeline.segment.activity == SLEEP and self.scenario.force == "sleep":
            return
        for meal in self.timeline.meals_between(start, t_ms):
            self.glucose.eat(meal)

    def describe(self) -> dict[str, object]:
        """Name, profile, devices, time zone and scenario (``GET /api/subjects``)."""
        return {
            "name": self.name,
            **self.profile.describe(),
            "time_zone": self.time_zone,
            "devices": [source.as_json() for source in self.readings.devices()],
            "scenario": self.scenario.name,
        }
