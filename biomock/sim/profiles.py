"""Who a simulated subject is: age, sex, body size, resting heart rate and fitness.

Sources of the constants:
    - HRmax = 208 - 0.7 x age: Tanaka H, Monahan KD, Seals DR. Age-predicted maximal heart
      rate revisited. J Am Coll Cardiol 2001;37:153-156.
    - Adult heights (men 176 +- 7 cm, women 163 +- 6.5 cm) and BMI around 25 +- 3 kg/m2:
      NCD Risk Factor Collaboration, A century of trends in adult human height, eLife
      2016;5:e13410 (European adults), and WHO BMI classes (18.5-25 normal, 25-30 overweight).
    - Resting heart rate 50-80 bpm, lower in fitter people: Nanchen D. Resting heart rate:
      what is normal? Heart 2018;104:1048-1049 (population mean about 65-70 bpm).
    - Short-term (5 min) SDNN about 50 ms, lower with age: Nunan D, Sandercock GRH, Brodie DA.
      A quantitative systematic review of normal values for short-term heart rate variability
      in healthy adults. Pacing Clin Electrophysiol 2010;33:1407-1417.
    - Fasting glucose 70-99 mg/dL: American Diabetes Association, Standards of Care in
      Diabetes, section 2 (Classification and Diagnosis).
    - Blood pressure below 120/80 mmHg is normal: Whelton PK et al. 2017 ACC/AHA guideline,
      Hypertension 2018;71:e13-e115.
    - Body temperature 36.8 +- 0.4 degC: Mackowiak PA, Wasserman SS, Levine MM. A critical
      appraisal of 98.6 degF. JAMA 1992;268:1578-1580.
    - Resting respiratory rate 12-20 breaths/min in adults (standard clinical reference range).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any, Literal

from biomock.sim.seeds import derive_rng

Sex = Literal["female", "male"]


@dataclass(frozen=True, slots=True)
class Profile:
    """A subject's fixed characteristics; everything else in the simulation derives from them.

    Attributes:
        age: years.
        sex: ``female`` or ``male``.
        height_cm, weight_kg: body size (distance per step and energy scale with them).
        resting_hr: resting heart rate awake, count/min.
        fitness: 0 (sedentary) to 1 (trained); faster recovery, lower resting HR.
        sdnn_ms: the subject's resting short-term SDNN.
        fasting_glucose: mg/dL.
        systolic, diastolic: daytime resting blood pressure, mmHg.
        temperature: mean body temperature, degC.
        respiratory_rate: resting breaths per minute.
        spo2: awake oxygen saturation, percent.
    """

    age: int
    sex: Sex
    height_cm: float
    weight_kg: float
    resting_hr: float
    fitness: float
    sdnn_ms: float
    fasting_glucose: float
    systolic: float
    diastolic: float
    temperature: float
    respiratory_rate: float
    spo2: float

    @property
    def hr_max(self) -> float:
        """Age-predicted maximal heart rate, 208 - 0.7 x age (Tanaka 2001)."""
        return 208.0 - 0.7 * self.age

    def describe(self) -> dict[str, Any]:
        """The profile as JSON-friendly fields (for ``GET /api/subjects``)."""
        fields = asdict(self)
        fields["hr_max"] = round(self.hr_max, 1)
        return fields


def _clip(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def make_profile(seed: int, name: str) -> Profile:
    """Draw a plausible healthy adult for subject ``name`` from the simulation ``seed``."""
    rng: random.Random = derive_rng(seed, name, "profile")
    sex: Sex = "female" if rng.random() < 0.5 else "male"
    age = rng.randint(22, 65)
    fitness = round(rng.random(), 2)
    mean_height = 176.0 if sex == "male" else 163.0
    height = round(_clip(rng.gauss(mean_height, 7.0), mean_height - 15, mean_height + 15), 1)
    bmi = _clip(rng.gauss(25.0, 3.0) - 2.0 * fitness, 19.0, 32.0)
    weight = round(bmi * (height / 100.0) ** 2, 1)
    resting = _clip(rng.gauss(68.0, 5.0) - 12.0 * fitness, 50.0, 80.0)
    sdnn = _clip(rng.gauss(58.0, 8.0) - 0.4 * (age - 22) + 10.0 * fitness, 30.0, 80.0)
    return Profile(
        age=age,
        sex=sex,
        height_cm=height,
        weight_kg=weight,
        resting_hr=round(resting, 1),
        fitness=fitness,
        sdnn_ms=round(sdnn, 1),
        fasting_glucose=round(_clip(rng.gauss(85.0, 4.0), 76.0, 92.0), 1),
        systolic=round(_clip(rng.gauss(114.0, 6.0) + 0.2 * (age - 40), 100.0, 126.0), 1),
        # healthy means below 80 diastolic with room for reading-to-reading variation
        diastolic=round(_clip(rng.gauss(72.0, 4.0), 62.0, 76.0), 1),
        temperature=round(_clip(rng.gauss(36.75, 0.12), 36.45, 37.0), 2),
        respiratory_rate=round(_clip(rng.gauss(14.5, 1.5), 12.0, 17.5), 1),
        spo2=round(_clip(rng.gauss(97.6, 0.5), 96.8, 98.6), 1),
    )
