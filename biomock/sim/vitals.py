"""Vital signs: oxygen saturation, respiratory rate, body temperature and blood pressure.

Each is a baseline from the profile plus slow random drift, the effects of sleep, exertion
and the circadian rhythm, and the scenario's offsets (approached smoothly). Obstructive
apneas are simulated second by second while they happen; the rest is computed when a
reading is taken.

Sources of the constants:
    - SpO2 95-100 % awake; about 1 point lower asleep, healthy nadirs rarely below 90 %:
      Gries RE, Brooks LJ. Normal oxyhemoglobin saturation during sleep: how low does it go?
      Chest 1996;110:1489-1492.
    - Apnea: airflow stops for >= 10 s (here 18-40 s), SpO2 falls by 3-4 % or more after a
      circulatory delay and recovers within seconds of an arousal that raises HR: Berry RB et
      al. AASM scoring rules, J Clin Sleep Med 2012;8:597-619. The desaturation rate of
      0.3 %/s after an 8 s delay is a model choice that gives the 4-10 % dips of severe
      obstructive apnea scored by those rules. Each apnea ends in an arousal with a surge of
      heart rate and blood pressure: Somers VK, Dyken ME, Clary MP, Abboud FM. Sympathetic
      neural mechanisms in obstructive sleep apnea. J Clin Invest 1995;96:1897-1904. The
      surge's size, 10-20 bpm within a few beats and back within about 15 s, is the range
      commonly reported for post-apneic tachycardia.
    - Breathing rises with exercise towards 30-50/min at high intensity: Nicolo A, Massaroni C,
      Schena E, Sacchetti M. The importance of respiratory rate monitoring: from healthcare to
      sport and exercise. Sensors 2020;20:6396. Slightly slower in non-REM sleep (same review).
    - Body temperature's circadian rhythm of about +-0.3-0.5 degC, lowest around 04:00-05:00:
      Refinetti R, Menaker M. The circadian rhythm of body temperature. Physiol Behav
      1992;51:613-637. Exercise raises it by up to about 1 degC (same review).
    - Blood pressure falls 10-20 % at night ("dipping"): O'Brien E, Sheridan J, O'Malley K.
      Dippers and non-dippers. Lancet 1988;2:397. Systolic rises with exercise intensity,
      diastolic barely: Fletcher GF et al. Exercise standards for testing and training, AHA,
      Circulation 2013;128:873-934. Reading-to-reading variation of about 5 mmHg systolic:
      Parati G, Ochoa JE, Lombardi C, Bilo G. Assessment and management of blood-pressure
      variability. Nat Rev Cardiol 2013;10:143-155. Systolic pressure reaches 150-180 mmHg in
      hard dynamic exercise in healthy adults (Fletcher 2013, above; a rise of about 10
      mmHg per MET).
    - Sleeping wrist (skin) temperature is about 1.5-2.5 degC below core temperature and
      follows fever: Apple, Temperature sensing on Apple Watch (white paper, 2022); Smarr BL
      et al. Feasibility of continuous fever monitoring using wearable devices. Sci Rep
      2020;10:21640.
    - Drift amplitudes and time constants (SpO2 0.45 %, breathing 0.7/min, temperature
      0.06 degC, blood pressure 4 mmHg, over 15 minutes; scenario offsets reached in 2
      minutes, fever in 30) are model choices, sized to keep a healthy day inside the
      ranges above.
"""

from __future__ import annotations

import math
import random

from biomock.sim.profiles import Profile
from biomock.sim.scenarios import Scenario

_TAU_WARM_S = 600.0
_TAU_DRIFT_S = 900.0
_TAU_FEVER_S = 1800.0
_TAU_OFFSET_S = 120.0
_APNEA_DELAY_S = 8.0
_DESATURATION_PER_S = 0.3
_RESATURATION_TAU_S = 7.0
_AROUSAL_S = 15.0
_AROUSAL_RISE_S = 3.0
_SLEEP_SPO2_DROP = 1.0
_SLEEP_RESP_DROP = 1.0
_RESP_PER_EXERTION = 22.0
_TEMP_CIRCADIAN = 0.35
_TEMP_PER_WARM = 0.8
_BP_DIP = 0.13
_SYSTOLIC_PER_EXERTION = 66.0
_DIASTOLIC_PER_EXERTION = 5.0
_WRIST_BELOW_CORE = 1.9


class Vitals:
    """SpO2, breathing, temperature and blood pressure of one subject."""

    def __init__(self, profile: Profile, rng: random.Random, t_ms: int) -> None:
        self._profile = profile
        self._rng = rng
        self.warm = 0.0  # exertion smoothed over ~10 minutes
        self._warm_cache: dict[float, float] = {}
        self.deficit = 0.0  # SpO2 points below normal from apneas
        self._in_apnea = False
        self._surge = 15.0
        self._fever_cache: dict[float, float] = {}
        self._phase_start_ms = t_ms
        self._phase_end_ms = t_ms
        self._last_ms = t_ms
        self._spo2_drift = 0.0
        self._resp_drift = 0.0
        self._temp_drift = 0.0
        self._bp_drift = 0.0
        self._fever = 0.0
        self._resp_offset = 0.0
        self._sys_offset = 0.0
        self._dia_offset = 0.0

    def settle(self, exertion: float, scenario: Scenario, t_ms: int) -> None:
        """After a jump: smoothed states at their targets, no apnea in progress."""
        self.warm = max(0.0, exertion)
        self.deficit = 0.0
        self._in_apnea = False
        self._phase_end_ms = t_ms
        self._last_ms = t_ms
        self._fever = scenario.temperature_offset
        self._resp_offset = scenario.respiratory_offset
        self._sys_offset = scenario.systolic_offset
        self._dia_offset = scenario.diastolic_offset

    @property
    def fever(self) -> float:
        """degC above normal from fever, on the way to the scenario's offset."""
        return self._fever

    def step(self, dt: float, exertion: float, scenario: Scenario) -> None:
        """Follow exertion and fever (called every simulated step)."""
        follow = self._warm_cache.get(dt)
        if follow is None:
            follow = self._warm_cache[dt] = 1.0 - math.exp(-dt / _TAU_WARM_S)
        self.warm += (max(0.0, exertion) - self.warm) * follow
        target = scenario.temperature_offset
        if target != self._fever:
            fever = self._fever_cache.get(dt)
            if fever is None:
                fever = self._fever_cache[dt] = 1.0 - math.exp(-dt / _TAU_FEVER_S)
            self._fever += (target - self._fever) * fever
            if abs(target - self._fever) < 1e-4:
                self._fever = target

    def step_apnea(self, t_ms: int, dt: float, active: bool) -> float:
        """Advance obstructive apneas to ``t_ms``; return the arousal's heart-rate surge, bpm.

        Args:
            active: apneas happen (the scenario has them and the subject is asleep).
        """
        rng = self._rng
        if active and t_ms >= self._phase_end_ms:
            self._phase_start_ms = t_ms
            self._in_apnea = not self._in_apnea
            seconds = rng.uniform(18.0, 40.0) if self._in_apnea else rng.uniform(15.0, 35.0)
            self._phase_end_ms = t_ms + round(seconds * 1000.0)
            if not self._in_apnea:
                self._surge = rng.uniform(10.0, 20.0)
        if not active:
            self._in_apnea = False
        if self._in_apnea:
            if t_ms - self._phase_start_ms > _APNEA_DELAY_S * 1000.0:
                self.deficit += _DESATURATION_PER_S * dt
            return 0.0
        self.deficit *= math.exp(-dt / _RESATURATION_TAU_S)
        if self.deficit < 0.01:
            self.deficit = 0.0
        since = (t_ms - self._phase_start_ms) / 1000.0
        if active and since < _AROUSAL_S:
            # up within a few beats, then back over the rest of the arousal
            if since < _AROUSAL_RISE_S:
                return self._surge * since / _AROUSAL_RISE_S
            return self._surge * (_AROUSAL_S - since) / (_AROUSAL_S - _AROUSAL_RISE_S)
        return 0.0

    def _update(self, t_ms: int, scenario: Scenario) -> None:
        dt = (t_ms - self._last_ms) / 1000.0
        if dt <= 0.0:
            return
        self._last_ms = t_ms
        rng = self._rng
        decay = math.exp(-dt / _TAU_DRIFT_S)
        noise = math.sqrt(1.0 - decay * decay)
        self._spo2_drift = self._spo2_drift * decay + 0.45 * noise * rng.gauss(0.0, 1.0)
        self._resp_drift = self._resp_drift * decay + 0.7 * noise * rng.gauss(0.0, 1.0)
        self._temp_drift = self._temp_drift * decay + 0.06 * noise * rng.gauss(0.0, 1.0)
        self._bp_drift = self._bp_drift * decay + 4.0 * noise * rng.gauss(0.0, 1.0)
        follow = 1.0 - math.exp(-dt / _TAU_OFFSET_S)
        self._resp_offset += (scenario.respiratory_offset - self._resp_offset) * follow
        self._sys_offset += (scenario.systolic_offset - self._sys_offset) * follow
        self._dia_offset += (scenario.diastolic_offset - self._dia_offset) * follow

    def spo2(self, t_ms: int, asleep: bool, scenario: Scenario) -> int:
        """Oxygen saturation, whole percent as a pulse oximeter shows it."""
        self._update(t_ms, scenario)
        value = self._profile.spo2 + self._spo2_drift - self.deficit
        if asleep:
            value -= _SLEEP_SPO2_DROP
        return round(min(100.0, max(70.0, value)))

    def respiratory_rate(
        self, t_ms: int, exertion: float, asleep: bool, scenario: Scenario
    ) -> float:
        """Breaths per minute, to 0.1."""
        self._update(t_ms, scenario)
        value = (
            self._profile.respiratory_rate
            + _RESP_PER_EXERTION * max(0.0, exertion)
            + self._resp_offset
            + self._resp_drift
        )
        if asleep:
            value -= _SLEEP_RESP_DROP
        return round(min(60.0, max(6.0, value)), 1)

    def temperature(self, t_ms: int, circadian: float, scenario: Scenario) -> float:
        """Body temperature, degC to 0.01."""
        self._update(t_ms, scenario)
        value = (
            self._profile.temperature
            + _TEMP_CIRCADIAN * circadian
            + _TEMP_PER_WARM * self.warm
            + self._fever
            + self._temp_drift
        )
        return round(value, 2)

    def blood_pressure(
        self, t_ms: int, exertion: float, asleep: bool, scenario: Scenario
    ) -> tuple[int, int]:
        """One cuff reading: (systolic, diastolic), whole mmHg."""
        self._update(t_ms, scenario)
        rng = self._rng
        load = max(0.0, exertion)
        common = rng.gauss(0.0, 1.0)
        systolic = (
            self._profile.systolic
            + _SYSTOLIC_PER_EXERTION * load
            + self._sys_offset
            + self._bp_drift
            + 3.0 * common
            + 2.0 * rng.gauss(0.0, 1.0)
        )
        diastolic = (
            self._profile.diastolic
            + _DIASTOLIC_PER_EXERTION * load
            + self._dia_offset
            + 0.4 * self._bp_drift
            + 1.5 * common
            + 1.2 * rng.gauss(0.0, 1.0)
        )
        if asleep:
            systolic *= 1.0 - _BP_DIP
            diastolic *= 1.0 - _BP_DIP - 0.02
        systolic_int = round(systolic)
        return systolic_int, min(round(diastolic), systolic_int - 20)

    def wrist_temperature(self, t_ms: int, scenario: Scenario) -> float:
        """The night's sleeping wrist temperature, degC to 0.01 (taken at wake-up)."""
        self._update(t_ms, scenario)
        value = (
            self._profile.temperature
            - _WRIST_BELOW_CORE
            + self._fever
            + 2.0 * self._temp_drift
            + 0.1 * self._rng.gauss(0.0, 1.0)
        )
        return round(value, 2)
