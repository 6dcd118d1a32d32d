"""The day plan: what a subject is doing when (sleep, sedentary, light, walking, running).

A plan day ``k`` runs from bedtime on local day ``k - 1`` to bedtime on day ``k``: the
night's sleep, then the waking day. Each plan day is drawn from its own seeded stream, so any
moment of any day can be planned without simulating the days before it (``jump`` relies on
this). Times of day are the subject's local time (``biomock.sim.zones``).

People vary: how often and how hard they work out depends on fitness and age; resting heart
rate moves by up to +-3 bpm from day to day and is higher, with lower HRV, after a hard day
or a short night.

Sources of the constants:
    - Exercise intensity as a fraction of heart-rate reserve (Karvonen MJ, Kentala E, Mustala
      O. The effects of training on heart rate; a longitudinal study. Ann Med Exp Biol Fenn
      1957;35:307-315), with ACSM's classes: light 30-39 %, moderate 40-59 %, vigorous 60-89 %
      HRR (Garber CE et al. ACSM position stand, Med Sci Sports Exerc 2011;43:1334-1359).
    - Cadences: walking 100-120 steps/min is moderate intensity (Tudor-Locke C et al. How fast
      is fast enough? Walking cadence (steps/min) as a practical estimate of intensity in
      adults: a narrative review. Br J Sports Med 2018;52:776-788); recreational running
      150-180 steps/min (Heiderscheit BC et al. Effects of step rate manipulation on joint
      mechanics during running. Med Sci Sports Exerc 2011;43:296-302).
    - METs: sleeping 0.95, sitting quietly 1.3, standing/light household 2.0, walking 3.0 mph
      3.5, running 6 mph 9.8: Ainsworth BE et al. 2011 Compendium of Physical Activities. Med
      Sci Sports Exerc 2011;43:1575-1581.
    - Step length about 0.413 x height walking: the rule of thumb pedometer makers and
      walking programmes use (0.413 for women, 0.415 for men); running at 6 mph (2.7 m/s,
      Compendium) at 165 steps/min gives about 0.98 m, 0.56 x height for 1.75 m.
    - Meals and their glucose rises: see ``biomock.sim.glucose``.
    - Workouts: ACSM recommends 3-5 sessions a week (Garber 2011, above); fewer than a quarter
      of adults meet the aerobic guideline, and activity falls with age (US Department of
      Health and Human Services, Physical Activity Guidelines for Americans, 2nd ed., 2018).
      Sedentary and older people mostly walk briskly (moderate, 40-59 % HRR) rather than run.
    - Day-to-day resting heart rate varies by a few bpm; it rises and HRV falls in the day
      after hard exercise or short sleep: Stanley J, Peake JM, Buchheit M. Cardiac
      parasympathetic reactivation following exercise: implications for training
      prescription. Sports Med 2013;43:1259-1277; Plews DJ, Laursen PB, Stanley J, Kilding
      AE, Buchheit M. Training adaptation and heart rate variability in elite endurance
      athletes. Sports Med 2013;43:773-781. The sizes (+1.5 bpm, -12 % HRV each) are model
      choices within their ranges.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from biomock.sim.profiles import Profile
from biomock.sim.seeds import derive_rng
from biomock.sim.sleep import EPOCH_MS, Stage, hypnogram
from biomock.sim.zones import LocalDays

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MINUTE_MS = 60_000

SLEEP, SEDENTARY, LIGHT, WALKING, RUNNING = "sleep", "sedentary", "light", "walking", "running"

INTENSITY = {SLEEP: -0.05, SEDENTARY: 0.05, LIGHT: 0.15, WALKING: 0.32, RUNNING: 0.72}
"""Heart-rate target as a fraction of heart-rate reserve (Karvonen 1957; ACSM classes)."""

METS = {SLEEP: 0.95, SEDENTARY: 1.3, LIGHT: 2.0, WALKING: 3.5, RUNNING: 9.8}
"""Metabolic equivalents (Ainsworth 2011 Compendium)."""

_TWO_PI_PER_DAY = 2.0 * math.pi / DAY_MS
_CIRCADIAN_PEAK_MS = 16 * HOUR_MS  # cosine peak at 16:00, trough at 04:00


def circadian(local_ms: int) -> float:
    """The circadian phase term of a local time (UTC ms + offset), -1 at 04:00, +1 at 16:00."""
    return math.cos(((local_ms % DAY_MS) - _CIRCADIAN_PEAK_MS) * _TWO_PI_PER_DAY)


STEP_LENGTH = {SLEEP: 0.0, SEDENTARY: 0.0, LIGHT: 0.36, WALKING: 0.413, RUNNING: 0.56}
"""Step length as a fraction of height (pedometer rule; running from Compendium speed)."""


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of one activity.

    Attributes:
        start_ms, end_ms: the stretch.
        activity: ``sleep``, ``sedentary``, ``light``, ``walking`` or ``running``.
        intensity: heart-rate target as a fraction of heart-rate reserve.
        cadence: steps per minute during the stretch.
        workout: the workout's activity name if this stretch is a workout.
        stages: the sleep stages, for ``sleep`` stretches.
    """

    start_ms: int
    end_ms: int
    activity: str
    intensity: float
    cadence: float
    workout: str | None = None
    stages: tuple[Stage, ...] = ()


@dataclass(frozen=True, slots=True)
class Meal:
    """A meal at ``time_ms`` that raises glucose by about ``rise`` mg/dL at its peak."""

    time_ms: int
    rise: float


@dataclass(frozen=True, slots=True)
class DayPlan:
    """Plan day ``index``: from ``start_ms`` (last night's bedtime) to ``end_ms`` (bedtime)."""

    index: int
    start_ms: int
    end_ms: int
    segments: tuple[Segment, ...]
    meals: tuple[Meal, ...]
    rest_offset: float = 0.0
    hrv_factor: float = 1.0


def _round_epoch(ms: float) -> int:
    return round(ms / EPOCH_MS) * EPOCH_MS


def anchors(seed: int, day: int, days: LocalDays) -> tuple[int, int]:
    """Wake-up and bedtime of local day ``day`` (days since 1970-01-01), in epoch ms."""
    rng = derive_rng(seed, "anchors", day)
    midnight = days.midnight(day)
    wake = midnight + _round_epoch(
        min(8.0, max(6.0, rng.gauss(7.0, 0.33))) * HOUR_MS,
    )
    bed = midnight + _round_epoch(min(23.9, max(22.0, rng.gauss(23.0, 0.4))) * HOUR_MS)
    return wake, bed


@dataclass(frozen=True, slots=True)
class WorkoutPlan:
    """Whether day ``k`` has a workout, and what kind."""

    planned: bool
    activity: str
    intensity: float
    cadence: float
    minutes: float


def workout_plan(seed: int, day: int, profile: Profile) -> WorkoutPlan:
    """Day ``day``'s workout, from its own stream (so a day can ask about the one before)."""
    rng = derive_rng(seed, "workout", day)
    weekday = (day + 3) % 7 < 5  # 1970-01-01 was a Thursday
    fitness = profile.fitness
    per_week = max(0.3, 0.4 + 4.6 * fitness - 0.04 * max(0, profile.age - 35))
    chance = min(0.95, per_week / 7.0 * (0.85 if weekday else 1.4))
    planned = rng.random() < chance
    runs = fitness >= 0.35 and not (profile.age > 55 and fitness < 0.6)
    if runs:
        intensity = 0.55 + 0.22 * fitness - 0.002 * max(0, profile.age - 30)
        return WorkoutPlan(
            planned,
            RUNNING,
            intensity + rng.uniform(-0.04, 0.04),
            rng.uniform(155.0, 172.0),
            rng.uniform(25.0, 50.0),
        )
    return WorkoutPlan(
        planned,
        WALKING,
        rng.uniform(0.40, 0.52),
        rng.uniform(110.0, 125.0),
        rng.uniform(30.0, 55.0),
    )


def sleep_segment(
    rng: random.Random, start_ms: int, end_ms: int, age: int = 40, disturbed: bool = False
) -> Segment:
    """A sleep stretch with a fresh hypnogram from ``start_ms`` to ``end_ms``."""
    stages = hypnogram(rng, start_ms, end_ms, age=age, disturbed=disturbed)
    return Segment(start_ms, end_ms, SLEEP, INTENSITY[SLEEP], 0.0, None, stages)


def workout_segment(
    rng: random.Random, start_ms: int, end_ms: int, plan: WorkoutPlan | None = None
) -> Segment:
    """A workout from ``start_ms`` to ``end_ms``: ``plan``'s, or a run at about 72 % HRR."""
    if plan is not None:
        name = "running" if plan.activity == RUNNING else "walking"
        return Segment(start_ms, end_ms, plan.activity, plan.intensity, plan.cadence, name)
    return Segment(
        start_ms,
        end_ms,
        RUNNING,
        INTENSITY[RUNNING] + rng.uniform(-0.06, 0.06),
        rng.uniform(155.0, 172.0),
        "running",
    )


def plan_day(seed: int, day: int, profile: Profile, days: LocalDays) -> DayPlan:
    """Plan day ``day``: last night's sleep, then the waking day until bedtime."""
    rng = derive_rng(seed, "day", day)
    _, last_bed = anchors(seed, day - 1, days)
    wake, bed = anchors(seed, day, days)
    midnight = days.midnight(day)
    weekday = (day + 3) % 7 < 5  # 1970-01-01 was a Thursday
    walk_cadence = rng.uniform(100.0, 118.0)
    workout = workout_plan(seed, day, profile)

    # (start, duration, activity) candidates in order of priority; overlaps are dropped.
    wanted: list[tuple[int, int, str]] = []

    def at(hours: float, jitter_min: float) -> int:
        return midnight + _round_epoch(hours * HOUR_MS + rng.gauss(0.0, jitter_min) * MINUTE_MS)

    def minutes(low: float, high: float) -> int:
        return _round_epoch(rng.uniform(low, high) * MINUTE_MS)

    workout_at: int | None = None
    if workout.planned:
        workout_at = at(18.25, 40.0) if weekday else at(10.0, 60.0)
        warm = minutes(4.0, 6.0)
        run = _round_epoch(workout.minutes * MINUTE_MS)
        wanted.append((workout_at - warm, warm, LIGHT))
        wanted.append((workout_at, run, "workout"))
        wanted.append((workout_at + run, minutes(4.0, 7.0), LIGHT))
    wanted.append((wake + MINUTE_MS, minutes(15.0, 30.0), LIGHT))
    if weekday:
        wanted.append((at(8.25, 12.0), minutes(10.0, 20.0), WALKING))
        wanted.append((at(12.0, 10.0), minutes(10.0, 20.0), WALKING))
        wanted.append((at(17.5, 15.0), minutes(10.0, 20.0), WALKING))
    else:
        wanted.append((at(11.0, 45.0), minutes(30.0, 70.0), WALKING))
        wanted.append((at(15.5, 60.0), minutes(30.0, 90.0), LIGHT))
    hour = 9.0
    while hour < 21.5:
        wanted.append((at(hour, 15.0), minutes(3.0, 10.0), LIGHT))
        hour += rng.uniform(0.8, 1.6)

    chosen: list[tuple[int, int, str]] = []
    for start, duration, activity in wanted:
        end = start + duration
        if start < wake or end > bed:
            continue
        if any(start < c_end and c_start < end for c_start, c_end, _ in chosen):
            continue
        chosen.append((start, end, activity))
    chosen.sort()

    night = sleep_segment(derive_rng(seed, "night", day), last_bed, wake, profile.age)
    segments: list[Segment] = [night]
    t = wake
    for start, end, activity in chosen:
        if start > t:
            segments.append(Segment(t, start, SEDENTARY, INTENSITY[SEDENTARY], 0.0))
        if activity == "workout":
            segments.append(workout_segment(rng, start, end, workout))
        else:
            cadence = {LIGHT: rng.uniform(35.0, 55.0), WALKING: walk_cadence}[activity]
            intensity = INTENSITY[activity] + rng.uniform(-0.03, 0.03)
            segments.append(Segment(start, end, activity, intensity, cadence))
        t = end
    if bed > t:
        segments.append(Segment(t, bed, SEDENTARY, INTENSITY[SEDENTARY], 0.0))

    breakfast = wake + minutes(25.0, 45.0)
    dinner = at(19.5, 25.0)
    if workout_at is not None and weekday and abs(dinner - workout_at) < 90 * MINUTE_MS:
        dinner = workout_at + 90 * MINUTE_MS
    meals = (
        Meal(breakfast, rng.uniform(22.0, 32.0)),
        Meal(at(12.75, 15.0), rng.uniform(26.0, 36.0)),
        Meal(min(dinner, bed - HOUR_MS), rng.uniform(26.0, 36.0)),
    )
    hard_yesterday = workout_plan(seed, day - 1, profile).planned
    short_night = wake - last_bed < 6.5 * HOUR_MS
    rest_offset = rng.gauss(0.0, 1.2) + 1.5 * hard_yesterday + 1.5 * short_night
    hrv_factor = 1.0 - 0.12 * hard_yesterday - 0.12 * short_night + rng.gauss(0.0, 0.05)
    return DayPlan(
        day,
        last_bed,
        bed,
        tuple(segments),
        meals,
        max(-3.0, min(3.0, rest_offset)),
        max(0.6, min(1.2, hrv_factor)),
    )


def plan_index_at(seed: int, t_ms: int, days: LocalDays) -> int:
    """The plan day containing ``t_ms`` (from the previous bedtime to this day's bedtime)."""
    day = days.day_of(t_ms)
    if t_ms >= anchors(seed, day, days)[1]:
        return day + 1
    if t_ms < anchors(seed, day - 1, days)[1]:
        return day - 1
    return day


def segment_index_at(plan: DayPlan, t_ms: int) -> int:
    """Index of the segment of ``plan`` containing ``t_ms``."""
    low, high = 0, len(plan.segments) - 1
    while low < high:
        mid = (low + high + 1) // 2
        if plan.segments[mid].start_ms <= t_ms:
            low = mid
        else:
            high = mid - 1
    return low
