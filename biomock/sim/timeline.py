"""What a subject is doing, moment to moment: the day plan, or a scenario's forced activity.

The timeline holds the current segment (and sleep stage), knows when the next one begins,
and emits the event-like samples: a sleep stage when it ends, ``inBed`` when the night
ends, a workout's ``start`` and ``end``.
"""

from __future__ import annotations

from biomock.sample import Sample
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
from biomock.sim.sleep import stage_at

FORCED_SEGMENT_MS = 9 * HOUR_MS
"""A forced sleep or workout is planned in stretches of this length, renewed while it lasts."""


class Timeline:
    """One subject's activity over time.

    Attributes:
        segment: the current segment.
        stage: the current sleep stage's name, ``None`` while awake and up.
        boundary: when the current stage or segment ends (the next event of the timeline).
    """

    def __init__(self, seed: int, name: str, t_ms: int) -> None:
        self._seed = seed
        self._name = name
        self._plans: dict[int, DayPlan] = {}
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
            plan = self._plans[day] = plan_day(self._seed, day)
        return plan

    def meals_between(self, start_ms: int, end_ms: int) -> list[Meal]:
        """The plan's meals with ``start_ms < time <= end_ms``."""
        first = plan_index_at(self._seed, start_ms)
        last = plan_index_at(self._seed, end_ms)
        return [
            meal
            for day in range(first, last + 1)
            for meal in self._plan(day).meals
            if start_ms < meal.time_ms <= end_ms
        ]

    def segment_at(self, t_ms: int, scenario: Scenario) -> Segment:
        """The segment for ``t_ms``: the scenario's forced one, or the plan's."""
        if scenario.force is None:
            plan = self._plan(plan_index_at(self._seed, t_ms))
            return plan.segments[segment_index_at(plan, t_ms)]
        rng = derive_rng(self._seed, "forced", scenario.force, t_ms)
        if scenario.force == "sleep":
            return sleep_segment(rng, t_ms, t_ms + FORCED_SEGMENT_MS)
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
        if announce is not None and segment.workout:
            announce.append(
                Sample(
                    "workout", segment.workout, t_ms, None, self._name, None, scenario.name, "start"
                )
            )

    def close(self, t_ms: int, scenario: Scenario, out: list[Sample]) -> None:
        """End the current segment at ``t_ms``: its last stage and ``inBed``, or workout end."""
        segment = self.segment
        if segment.stages:
            if t_ms > self._stage_start and self.stage is not None:
                out.append(self._sleep(self.stage, self._stage_start, t_ms, scenario))
            if t_ms > self._segment_start:
                out.append(self._sleep("inBed", self._segment_start, t_ms, scenario))
        elif segment.workout:
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
        out.append(self._sleep(stage.name, self._stage_start, t_ms, scenario))
        self._stage_index += 1
        self._stage_start = t_ms
        following = segment.stages[self._stage_index]
        self.stage = following.name
        self.boundary = following.end_ms

    def _sleep(self, value: str, start_ms: int, end_ms: int, scenario: Scenario) -> Sample:
        return Sample("sleep_analysis", value, end_ms, None, self._name, start_ms, scenario.name)
