"""Scenarios: named conditions a subject can be switched into, each a set of modifiers.

A scenario either forces what the subject does (``sleep``, ``sleep_apnea``: asleep from the
switch on; ``workout``: a running workout from the switch on) or changes the physiology on
top of the normal day plan (the others). Offsets are approached smoothly (see
``biomock.sim.heart`` and ``biomock.sim.vitals``); the heart rhythm switches at once.

Sources of the constants:
    - Stress: mental stress raises HR by about 10-20 bpm and systolic BP by 10-20 mmHg and
      lowers HRV: Kim HG, Cheon EJ, Bai DS, Lee YH, Koo BH. Stress and heart rate variability:
      a meta-analysis and review of the literature. Psychiatry Investig 2018;15:235-245.
    - Fever: about 8.5 bpm more per degC: Karjalainen J, Viitasalo M. Fever and cardiac rhythm.
      Arch Intern Med 1986;146:1169-1171. Fever is >= 38.0 degC (clinical convention).
    - Atrial fibrillation: irregularly irregular RR with a coefficient of variation well
      above sinus rhythm: Tateno K, Glass L. Automatic detection of atrial fibrillation using
      the coefficient of variation and density histograms of RR and dRR intervals. Med Biol
      Eng Comput 2001;39:664-671. Untreated ventricular rates of 100-160 bpm: January CT et al.
      2014 AHA/ACC/HRS guideline for atrial fibrillation, Circulation 2014;130:e199-e267.
    - Bradycardia < 50-60 bpm and tachycardia > 100 bpm: Kusumoto FM et al. 2018 ACC/AHA/HRS
      guideline on bradycardia, Circulation 2019;140:e382-e482 (uses < 50 bpm).
    - Hypoglycemia level 1 < 70 mg/dL, level 2 < 54 mg/dL, with adrenergic symptoms
      (tachycardia): International Hypoglycaemia Study Group, Diabetes Care 2017;40:155-157.
    - Obstructive sleep apnea, severe when AHI >= 30/h, desaturations of >= 3-4 %: Berry RB
      et al. Rules for scoring respiratory events in sleep (AASM), J Clin Sleep Med
      2012;8:597-619.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Force = Literal["sleep", "workout"]
Rhythm = Literal["sinus", "afib"]


@dataclass(frozen=True, slots=True)
class Scenario:
    """The modifiers one scenario applies.

    Attributes:
        name, description: as served by ``GET /api/scenarios``.
        force: ``sleep`` or ``workout`` to override the day plan, ``None`` to follow it.
        rhythm: ``sinus`` (AR(1) RR intervals) or ``afib`` (independent irregular RR).
        hr_offset: count/min added to the heart-rate target.
        hr_factor: multiplier of the heart rate (bradycardia).
        hrv_factor: multiplier of beat-to-beat variability.
        temperature_offset: degC (fever).
        respiratory_offset: breaths/min.
        systolic_offset, diastolic_offset: mmHg.
        glucose_target: mg/dL the glucose is driven towards, ``None`` for normal regulation.
        apnea: repeated obstructive apneas while asleep.
    """

    name: str
    description: str
    force: Force | None = None
    rhythm: Rhythm = "sinus"
    hr_offset: float = 0.0
    hr_factor: float = 1.0
    hrv_factor: float = 1.0
    temperature_offset: float = 0.0
    respiratory_offset: float = 0.0
    systolic_offset: float = 0.0
    diastolic_offset: float = 0.0
    glucose_target: float | None = None
    apnea: bool = False


_ALL = (
    Scenario("normal_day", "A healthy adult's ordinary day: sleep, work, walks, meals."),
    Scenario(
        "workout",
        "A running workout from now on: heart rate climbs within a minute, steps ~165/min.",
        force="workout",
    ),
    Scenario(
        "sleep", "Asleep from now on, in 90-minute cycles of core, deep and REM sleep.", "sleep"
    ),
    Scenario(
        "stress",
        "Mental stress: heart rate +18 bpm, lower HRV, blood pressure +15/+8 mmHg.",
        hr_offset=18.0,
        hrv_factor=0.5,
        respiratory_offset=3.0,
        systolic_offset=15.0,
        diastolic_offset=8.0,
    ),
    Scenario(
        "fever",
        "Fever of about 38.5-39 degC: heart rate follows it, ~8.5 bpm per degC; faster breathing.",
        hrv_factor=0.6,
        temperature_offset=2.0,
        respiratory_offset=4.0,
    ),
    Scenario(
        "afib",
        "Atrial fibrillation: irregularly irregular beats, heart rate 100-160 bpm.",
        rhythm="afib",
        hr_offset=52.0,
    ),
    Scenario(
        "bradycardia",
        "Sinus bradycardia: heart rate below 50 bpm at rest.",
        hr_factor=0.68,
    ),
    Scenario(
        "tachycardia",
        "Sinus tachycardia: heart rate above 100 bpm at rest, low HRV.",
        hr_offset=48.0,
        hrv_factor=0.4,
        respiratory_offset=2.0,
    ),
    Scenario(
        "hypoglycemia",
        "Low blood glucose (about 50 mg/dL, level 2) with an adrenergic heart-rate rise.",
        hr_offset=14.0,
        hrv_factor=0.7,
        glucose_target=50.0,
    ),
    Scenario(
        "sleep_apnea",
        "Asleep with severe obstructive apnea: repeated SpO2 dips of 4-10 %, arousals that"
        " raise heart rate by 10-20 bpm, fragmented sleep.",
        force="sleep",
        apnea=True,
    ),
)

SCENARIO_SPECS: dict[str, Scenario] = {s.name: s for s in _ALL}
"""Every scenario by name."""

SCENARIOS: dict[str, str] = {s.name: s.description for s in _ALL}
"""Every scenario's one-line description by name (``GET /api/scenarios``)."""

DEFAULT_SCENARIO = "normal_day"
