"""What a subject is doing, moment to moment: the day plan, or a scenario's forced activity.

The timeline holds the current segment (and sleep stage), knows when the next one begins,
and emits the event-like samples: a sleep stage when it ends, ``inBed`` when the night
ends, a workout's ``start`` and ``end``.
"""

from __future__ import annotations

from collections.abc import Callable

from biomock.sample import JSONScalar, Sample, SampleSource
from biomock.sim.profiles import Profile
from biomock.sim.scenarios import Scenario
from biomock.sim.schedule import (
    HOUR_MS,
    INTENSITY,
    SEDENTARY,
    DayPlan,
    Meal,
    Segment,
    plan_day,
    plan_index_at,
    segment_index_at,
    sleep_segment,
    workout_segment,
)
from biomock.sim.seeds import derive_rng
from biomock.sim.sleep import Stage, stage_at
from biomock.sim.zones import LocalDays

FORCED_SEGMENT_MS = 9 * HOUR_MS
"""A forced sleep or workout is planned in stretches of this length, renewed while it lasts."""
MAIN_SLEEP_MS = 3 * HOUR_MS
"""A time in bed this long or longer is the main sleep of its night (Open mHealth)."""


def night_summary(stages: tuple[Stage, ...], start_ms: int, end_ms: int) -> dict[str, JSONScalar]:
    """What the ``inBed`` sample of a night says about it: minutes asleep, latency, awakenings.

    Sleep latency runs from lights off to the first asleep stage; awakenings are the awake
    stages after it (the final one, once up, is not counted).
    """
    asleep = 0
    onset: int | None = None
    awakenings = 0
    for stage in stages:
        begin, end = max(start_ms, stage.start_ms), min(end_ms, stage.end_ms)
        if end <= begin:
            continue
        if stage.name.startswith("asleep"):
            asleep += end - begin
            if onset is None:
                onset = begin
        elif onset is not None and stage.name == "awake" and end < end_ms:
            awakenings += 1
    latency = (onset if onset is not None else end_ms) - start_ms
    return {
        "asleep_min": round(asleep / 60_000, 1),
        "latency_min": round(latency / 60_000, 1),
        "awakenings": awakenings,
        "main_sleep": end_ms - start_ms >= MAIN_SLEEP_MS,
    }


class Timeline:
    """One subject's activity over time.

    Attributes:
        segment: the current segment.
        stage: the current sleep stage's name, ``None`` while awake and up.
        boundary: when the current stage or segment ends (the next event of the timeline).
    """

    def __init__(
        self,
        seed: int,
        name: str,
        t_ms: int,
        profile: Profile,
        days: LocalDays,
        sleep_source: SampleSource | None = None,
        workout_source: SampleSource | None = None,
    ) -> None:
        self._seed = seed
        self._name = name
        self._profile = profile
        self._days = days
        self._source = sleep_source
        self._workout_source = workout_source
        # a phone knows only the time in bed (its bedtime schedule), not the stages
        self._stages = sleep_source is not None and sleep_source.kind != "phone"
        self.workout_totals: Callable[[], dict[str, JSONScalar]] = dict
        self._plans: dict[int, DayPlan] = {}
        self.plan: DayPlan | None = None
        self.segment = Segment(t_ms, t_ms, SEDENTARY, INTENSITY[SEDENTARY], 0.0)
        self.stage: str | None = None
        self.boundary = t_ms
        self._segment_start = t_ms
        self._stage_index = 0
        self._stage_start = t_ms

    def _plan(self, day: int) -> DayPlan:
        plan = self._plans.get(day)
        if plan is None:
            if len(self._plans) > 4:
                self._plans.clear()
            plan = self._plans[day] = plan_day(self._seed, day, self._profile, self._days)
        return plan

    def plan_at(self, t_ms: int) -> DayPlan:
        """The plan day containing ``t_ms``."""
        return self._plan(plan_index_at(self._seed, t_ms, self._days))

    def meals_between(self, start_ms: int, end_ms: int) -> list[Meal]:
        """The plan's meals with ``start_ms < time <= end_ms``."""
        first = plan_index_at(self._seed, start_ms, self._days)
        last = plan_index_at(self._seed, end_ms, self._days)
        return [
            meal
            for day in range(first, last + 1)
            for meal in self._plan(day).meals
            if start_ms < meal.time_ms <= end_ms
        ]

    def segment_at(self, t_ms: int, scenario: Scenario) -> Segment:
        """The segment for ``t_ms``: the scenario's forced one, or the plan's."""
        plan = self._plan(plan_index_at(self._seed, t_ms, self._days))
        self.plan = plan
        if scenario.force is None:
            return plan.segments[segment_index_at(plan, t_ms)]
        rng = derive_rng(self._seed, "forced", scenario.force, t_ms)
        if scenario.force == "sleep":
            end = t_ms + FORCED_SEGMENT_MS
            return sleep_segment(rng, t_ms, end, self._profile.age, disturbed=scenario.apnea)
        return workout_segment(rng, t_ms, t_ms + FORCED_SEGMENT_MS)

    def enter(
        self, segment: Segment, t_ms: int, scenario: Scenario, announce: list[Sample] | None
    ) -> None:
        """Make ``segment`` current from ``t_ms``; a workout's start goes to ``announce``."""
        self.segment = segment
        self._segment_start = t_ms
        if segment.stages:
            self._stage_index = stage_at(segment.stages, t_ms)
            self._stage_start = t_ms
            stage = segment.stages[self._stage_index]
            self.stage = stage.name
            self.boundary = stage.end_ms
        else:
            self.stage = None
            self.boundary = segment.end_ms
        if announce is not None and segment.workout and self._workout_source is not None:
            announce.append(
                Sample(
                    "workout",
                    segment.workout,
                    t_ms,
                    None,
                    self._name,
                    None,
                    scenario.name,
                    "start",
                    {},
                    self._workout_source,
                )
            )

    def close(self, t_ms: int, scenario: Scenario, out: list[Sample]) -> None:
        """End the current segment at ``t_ms``: its last stage and ``inBed``, or workout end."""
        segment = self.segment
        if segment.stages:
            if t_ms > self._stage_start and self.stage is not None and self._stages:
                out.append(self._sleep(self.stage, self._stage_start, t_ms, scenario))
            if t_ms > self._segment_start and self._source is not None:
                summary = night_summary(segment.stages, self._segment_start, t_ms)
                out.append(self._sleep("inBed", self._segment_start, t_ms, scenario, summary))
        elif segment.workout and self._workout_source is not None:
            totals = self.workout_totals()
            totals["duration_s"] = round((t_ms - self._segment_start) / 1000, 3)
            out.append(
                Sample(
                    "workout",
                    segment.workout,
                    t_ms,
                    None,
                    self._name,
                    self._segment_start,
                    scenario.name,
                    "end",
                    totals,
                    self._workout_source,
                )
            )

    def cross(self, t_ms: int, scenario: Scenario, out: list[Sample]) -> None:
        """Pass :attr:`boundary` (``t_ms``): the next stage, or the next segment."""
        segment = self.segment
        if t_ms >= segment.end_ms:
            self.close(t_ms, scenario, out)
            self.enter(self.segment_at(t_ms, scenario), t_ms, scenario, out)
            return
        stage = segment.stages[self._stage_index]
        if self._stages:
            out.append(self._sleep(stage.name, self._stage_start, t_ms, scenario))
        self._stage_index += 1
        self._stage_start = t_ms
        following = segment.stages[self._stage_index]
        self.stage = following.name
        self.boundary = following.end_ms

    def _sleep(
        self,
        value: str,
        start_ms: int,
        end_ms: int,
        scenario: Scenario,
        extra: dict[str, JSONScalar] | None = None,
    ) -> Sample:
        return Sample(
            "sleep_analysis",
            value,
            end_ms,
            None,
            self._name,
            start_ms,
            scenario.name,
            None,
            extra or {},
            self._source,
        )
