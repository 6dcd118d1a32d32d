"""Sleep architecture: a night as a sequence of stages in ~90-minute cycles.

Stages use the Apple Watch vocabulary (``asleepCore`` = N1+N2, ``asleepDeep`` = N3,
``asleepREM``, ``awake``). Durations are whole 30-second epochs, as in sleep scoring.

Sources of the constants:
    - Cycles of about 90 minutes (70-110), slow-wave (deep) sleep mostly in the first third of
      the night, REM periods lengthening towards morning; N1 2-5 %, N2 45-55 %, N3 13-23 %,
      REM 20-25 % of sleep: Carskadon MA, Dement WC. Normal human sleep: an overview. In
      Kryger MH, Roth T, Dement WC (eds), Principles and Practice of Sleep Medicine, 5th ed.,
      2011, pp. 16-26.
    - Sleep latency of 10-20 minutes; wake after sleep onset rising by about 10 minutes a
      decade from 20-40 minutes in young adults, so sleep efficiency of 85-95 %: Ohayon MM,
      Carskadon MA, Guilleminault C, Vitiello MV. Meta-analysis of quantitative sleep
      parameters from childhood to old age in healthy individuals. Sleep 2004;27:1255-1273.
      Brief awakenings after most cycles, usually at the end of REM: Klerman EB, Dijk DJ.
      Age-related reduction in the maximal capacity for sleep. Curr Biol 2008;18:1118-1123.
    - Obstructive sleep apnea fragments sleep: less N3 and REM, more N1 and awakenings (each
      apnea ends in an arousal): Eckert DJ, Malhotra A. Pathophysiology of adult obstructive
      sleep apnea. Proc Am Thorac Soc 2008;5:144-153.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

EPOCH_MS = 30_000
"""Sleep is scored in 30-second epochs (AASM)."""

# Sleep stages shift the heart-rate target (fraction of HRR) and scale beat-to-beat
# variability: lowest and steadiest in deep sleep, higher and more variable in REM
# (Somers 1993; see biomock.sim.heart).
STAGE_INTENSITY = {
    "awake": 0.06,
    "asleepCore": 0.0,
    "asleepDeep": -0.02,
    "asleepREM": 0.03,
    "inBed": 0.0,
}
STAGE_HRV = {"awake": 1.0, "asleepCore": 1.05, "asleepDeep": 1.15, "asleepREM": 0.9, "inBed": 1.0}

# Minutes of deep sleep and of REM in cycle 1, 2, 3, ... before per-night variation: deep
# fades after the first cycles, REM periods lengthen (Carskadon & Dement 2011).
_DEEP_MIN = (36.0, 25.0, 12.0, 5.0)
_REM_MIN = (10.0, 19.0, 26.0, 31.0, 33.0)


@dataclass(frozen=True, slots=True)
class Stage:
    """One sleep stage from ``start_ms`` to ``end_ms``."""

    name: str
    start_ms: int
    end_ms: int


def _epochs(minutes: float) -> int:
    return max(1, round(minutes * 60_000 / EPOCH_MS)) * EPOCH_MS


def hypnogram(
    rng: random.Random, start_ms: int, end_ms: int, *, age: int = 40, disturbed: bool = False
) -> tuple[Stage, ...]:
    """Return the stages of one time in bed from ``start_ms`` (lights off) to ``end_ms``.

    The night begins awake (sleep latency), then runs cycles of core, deep, core and REM
    sleep, usually followed by a brief awakening and now and then a longer one, until
    ``end_ms`` cuts the last one. Older people wake more; ``disturbed`` (obstructive apnea)
    cuts deep and REM sleep and adds awakenings.
    """
    stages: list[Stage] = []
    t = start_ms

    def add(name: str, duration_ms: int) -> bool:
        nonlocal t
        end = min(end_ms, t + duration_ms)
        if end > t:
            if stages and stages[-1].name == name:
                stages[-1] = Stage(name, stages[-1].start_ms, end)
            else:
                stages.append(Stage(name, t, end))
        t = end
        return t < end_ms

    older = max(0, age - 30) / 10.0  # decades past 30: more and longer awakenings
    add("awake", _epochs(rng.uniform(8.0, 25.0)))
    cycle = 0
    long_wake_cycle = rng.randint(2, 4) if rng.random() < 0.5 + 0.08 * older else -1
    while t < end_ms:
        length = rng.uniform(85.0, 105.0) if cycle else rng.uniform(75.0, 95.0)
        deep = _DEEP_MIN[cycle] * rng.uniform(0.8, 1.2) if cycle < len(_DEEP_MIN) else 0.0
        rem = _REM_MIN[min(cycle, len(_REM_MIN) - 1)] * rng.uniform(0.85, 1.15)
        wake = 0.0
        if cycle and rng.random() < 0.9:
            wake = rng.uniform(2.0, 6.0 + 1.0 * older)
        core = max(10.0, length - deep - rem - wake)
        # a long awakening or an apnea's arousals interrupt the cycle rather than replace it
        if cycle == long_wake_cycle:
            wake += rng.uniform(10.0, 30.0)
        if disturbed:
            deep *= 0.35
            rem *= 0.6
            wake += rng.uniform(4.0, 10.0)
        first_core = core * (0.7 if deep else 1.0)
        parts: list[tuple[str, float]] = [("asleepCore", first_core), ("asleepDeep", deep)]
        if disturbed:
            # arousals break up the rest of the cycle
            parts += [("awake", wake / 2), ("asleepCore", core - first_core)]
            parts += [("asleepREM", rem), ("awake", wake / 2)]
        else:
            parts += [("asleepCore", core - first_core), ("asleepREM", rem), ("awake", wake)]
        for name, minutes in parts:
            if minutes >= 0.5 and not add(name, _epochs(minutes)):
                break
        cycle += 1
    return tuple(stages)


def stage_at(stages: tuple[Stage, ...], t_ms: int) -> int:
    """Index of the stage containing ``t_ms`` (the last one if ``t_ms`` is at or past the end)."""
    low, high = 0, len(stages) - 1
    while low < high:
        mid = (low + high + 1) // 2
        if stages[mid].start_ms <= t_ms:
            low = mid
        else:
            high = mid - 1
    return low
