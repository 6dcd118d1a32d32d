"""The heart: heart rate with first-order kinetics, beat-to-beat RR intervals and SDNN.

The heart-rate target is set through heart-rate reserve (Karvonen 1957):
``HR = rest + intensity x (HRmax - rest)``, with a circadian term, a slow random drift and
the scenario's offsets. Two first-order components approach it: a fast (vagal) one and a
slow (sympathetic, metabolic) one, which together give a realistic rise and recovery.
Beats are drawn from the current rate: sinus rhythm as an AR(1) process on RR intervals,
atrial fibrillation as independent, widely spread intervals. SDNN is the standard deviation
of the RR intervals of the last five minutes.

Sources of the constants:
    - On-kinetics time constant of about 30 s at moderate intensity (here 25-35 s) and a fast
      vagal recovery component of 30-60 s followed by a slow one of several minutes: Pierpont
      GL, Stolpman DR, Gornick CC. Heart rate recovery post-exercise as an index of parasympathetic
      activity. J Auton Nerv Syst 2000;80:169-174; Imai K et al. Vagally mediated heart rate
      recovery after exercise is accelerated in athletes but blunted in patients with chronic
      heart failure. J Am Coll Cardiol 1994;24:1529-1535 (fitter people recover faster).
    - One-minute heart-rate recovery of 12-40 bpm in healthy people (<= 12 is abnormal): Cole CR,
      Blackstone EH, Pashkow FJ, Snader CE, Lauer MS. Heart-rate recovery immediately after
      exercise as a predictor of mortality. N Engl J Med 1999;341:1351-1357.
    - Circadian amplitude of about 3-5 bpm, lowest in the early morning: Degaute JP, van de Borne
      P, Linkowski P, Van Cauter E. Quantitative analysis of the 24-hour blood pressure and heart
      rate patterns in young men. Hypertension 1991;18:199-210.
    - Sleeping heart rate about 8-10 bpm below resting awake, lowest in deep sleep and more
      variable in REM: Somers VK, Dyken ME, Mark AL, Abboud FM. Sympathetic-nerve activity
      during sleep in normal subjects. N Engl J Med 1993;328:303-307.
    - RR intervals as a stochastic process with LF/HF structure: McSharry PE, Clifford GD,
      Tarassenko L, Smith LA. A dynamical model for generating synthetic electrocardiogram
      signals. IEEE Trans Biomed Eng 2003;50:289-294 (an AR(1) with phi = 0.6 keeps RMSSD near
      0.9 x SD, as in resting recordings: RMSSD 42 +- 15 ms, SDNN 50 +- 16 ms, Nunan 2010).
    - HRV falls steeply with exercise intensity: Tulppo MP et al. Quantitative beat-to-beat
      analysis of heart rate dynamics during exercise. Am J Physiol 1996;271:H244-H252.
    - SDNN over 5-minute windows: Task Force of the ESC and NASPE. Heart rate variability:
      standards of measurement. Circulation 1996;93:1043-1065.
    - Atrial fibrillation RR coefficient of variation about 0.2: Tateno & Glass 2001 (see
      ``biomock.sim.scenarios``).
    - Fever raises heart rate by about 8.5 bpm per degC, so it follows the temperature on
      its time constant: Karjalainen & Viitasalo 1986 (see ``biomock.sim.scenarios``).
    - Cardiovascular drift: at a constant workload heart rate climbs 10-15 % between the
      10th and the 60th minute: Coyle EF, Gonzalez-Alonso J. Cardiovascular drift during
      prolonged exercise: new perspectives. Exerc Sport Sci Rev 2001;29:88-92.
    - The beat-to-beat scale is set so that SDNN awake and seated comes out at the profile's
      own value (Nunan 2010's resting norms), a little above it in deep sleep.
"""

from __future__ import annotations

import math
import random
from collections import deque

from biomock.sim.profiles import Profile
from biomock.sim.scenarios import Scenario

SDNN_WINDOW_MS = 300_000
"""Short-term HRV is computed over 5 minutes (Task Force 1996)."""

_TAU_ON_FAST = 25.0
_TAU_ON_SLOW = 35.0
_TAU_OFF_SLOW = 300.0
_TAU_DRIFT = 120.0
_DRIFT_SD = 2.5  # bpm, slow spontaneous wandering of the rate
_TAU_SCENARIO = 40.0
_PHI = 0.6
_AFIB_CV = 0.2
_CIRCADIAN_BPM = 2.0  # on top of the separate sleep effect; together about 3-5 bpm
_RR_MIN, _RR_MAX = 270.0, 2000.0
_SEATED = 0.05  # the seated intensity (schedule.INTENSITY), where SDNN is the profile's
_BEAT_SCALE = 0.93  # the slow drift adds the rest of the seated SDNN
FEVER_BPM_PER_DEGC = 8.5
DRIFT_PER_MINUTE = 0.0025
"""Cardiac drift: extra fraction of heart-rate reserve per minute of workout after the 10th."""
DRIFT_MAX = 0.12
_AFIB_RR_MIN = 330.0  # conducted beats above ~180/min are rare in AF (AV-node refractoriness)


class Heart:
    """One subject's heart. Plain state, advanced by :meth:`step`; no clock of its own.

    Attributes:
        hr: the current (beat-averaged) heart rate, count/min.
        exertion: the current load as a fraction of heart-rate reserve (fast + slow parts).
    """

    def __init__(self, profile: Profile, rng: random.Random, t_ms: int) -> None:
        self._rng = rng
        self._rest = profile.resting_hr
        self._hr_max = profile.hr_max
        self._hrr = profile.hr_max - profile.resting_hr
        self._beat_sd = _BEAT_SCALE * profile.sdnn_ms
        self._day_rest = 0.0
        self._day_hrv = 1.0
        self._fast_share = 0.50 + 0.12 * profile.fitness
        self._tau_off_fast = 45.0 - 12.0 * profile.fitness
        self._cache: dict[float, tuple[float, ...]] = {}
        self.fast = 0.0
        self.slow = 0.0
        self._drift = 0.0
        self._offset = 0.0
        self._factor = 1.0
        self._x = 0.0
        self._rr = [60_000.0 / self._rest] * 3
        self._next_beat = float(t_ms)
        self.window: deque[tuple[float, float]] = deque()
        self.rate = self._rest

    def settle(self, intensity: float, scenario: Scenario) -> None:
        """Put the heart in the steady state of ``intensity`` under ``scenario`` (after a jump)."""
        self.fast = self._fast_share * intensity
        self.slow = (1.0 - self._fast_share) * intensity
        self._offset = scenario.hr_offset
        self._factor = scenario.hr_factor
        self._drift = 0.0
        self._x = 0.0
        rate = (self._rest + intensity * self._hrr + self._offset) * self._factor
        self.rate = min(self._hr_max, max(35.0, rate))
        self._rr = [60_000.0 / self.rate] * 3
        self.window.clear()

    def set_day(self, rest_offset: float, hrv_factor: float) -> None:
        """Today's resting heart rate offset (bpm) and HRV factor (see ``schedule.DayPlan``)."""
        self._day_rest = rest_offset
        self._day_hrv = hrv_factor

    @property
    def exertion(self) -> float:
        return self.fast + self.slow

    @property
    def hr(self) -> float:
        """The heart rate a watch shows: the mean of the last three beats."""
        return 180_000.0 / (self._rr[0] + self._rr[1] + self._rr[2])

    def _factors(self, dt: float) -> tuple[float, ...]:
        cached = self._cache.get(dt)
        if cached is None:
            drift = math.exp(-dt / _TAU_DRIFT)
            cached = (
                1.0 - math.exp(-dt / _TAU_ON_FAST),
                1.0 - math.exp(-dt / self._tau_off_fast),
                1.0 - math.exp(-dt / _TAU_ON_SLOW),
                1.0 - math.exp(-dt / _TAU_OFF_SLOW),
                drift,
                _DRIFT_SD * math.sqrt(1.0 - drift * drift),
                1.0 - math.exp(-dt / _TAU_SCENARIO),
            )
            self._cache[dt] = cached
        return cached

    def step(
        self,
        t_ms: int,
        dt: float,
        intensity: float,
        circadian: float,
        hrv_scale: float,
        scenario: Scenario,
        extra_bpm: float = 0.0,
    ) -> None:
        """Advance by ``dt`` seconds to ``t_ms`` towards ``intensity`` (fraction of HRR).

        Args:
            circadian: the circadian phase term in -1..1 (lowest at 04:00 local time).
            hrv_scale: multiplier of beat-to-beat variability (sleep stage).
            extra_bpm: added to the rate as it is (fever, an apnea's arousal surge).
        """
        on_fast, off_fast, on_slow, off_slow, drift, drift_sd, follow = self._factors(dt)
        fast_target = self._fast_share * intensity
        slow_target = intensity - fast_target
        self.fast += (fast_target - self.fast) * (on_fast if fast_target > self.fast else off_fast)
        self.slow += (slow_target - self.slow) * (on_slow if slow_target > self.slow else off_slow)
        rng = self._rng
        self._drift = self._drift * drift + drift_sd * rng.gauss(0.0, 1.0)
        self._offset += (scenario.hr_offset - self._offset) * follow
        self._factor += (scenario.hr_factor - self._factor) * follow
        rate = (
            self._rest
            + self._day_rest
            + extra_bpm
            + (self.fast + self.slow) * self._hrr
            + _CIRCADIAN_BPM * circadian
            + self._drift
            + self._offset
        ) * self._factor
        rate = min(self._hr_max, max(35.0, rate))
        self.rate = rate

        next_beat = self._next_beat
        if next_beat > t_ms:
            return
        mean_rr = 60_000.0 / rate
        window = self.window
        rr_list = self._rr
        if scenario.rhythm == "afib":
            while next_beat <= t_ms:
                rr = mean_rr * (1.0 + _AFIB_CV * max(-2.0, min(2.0, rng.gauss(0.0, 1.0))))
                rr = min(_RR_MAX, max(_AFIB_RR_MIN, rr))
                window.append((next_beat, rr))
                rr_list[2] = rr_list[1]
                rr_list[1] = rr_list[0]
                rr_list[0] = rr
                next_beat += rr
        else:
            sd = (
                self._beat_sd
                * hrv_scale
                * self._day_hrv
                * scenario.hrv_factor
                * math.exp(-4.0 * (max(0.0, self.fast + self.slow) - _SEATED))
                * math.sqrt(mean_rr / 900.0)
            )
            innovation = sd * 0.8  # sqrt(1 - phi^2) for phi = 0.6
            x = self._x
            while next_beat <= t_ms:
                x = _PHI * x + innovation * rng.gauss(0.0, 1.0)
                rr = min(_RR_MAX, max(_RR_MIN, mean_rr + x))
                window.append((next_beat, rr))
                rr_list[2] = rr_list[1]
                rr_list[1] = rr_list[0]
                rr_list[0] = rr
                next_beat += rr
            self._x = x
        self._next_beat = next_beat
        horizon = t_ms - SDNN_WINDOW_MS
        while window[0][0] <= horizon:
            window.popleft()

    def restart_beats(self, t_ms: int) -> None:
        """Start the beat sequence afresh at ``t_ms`` (after a jump)."""
        self._next_beat = float(t_ms)
        self.window.clear()

    def sdnn(self) -> float | None:
        """SDNN of the last five minutes of RR intervals, ms; ``None`` with too few beats."""
        n = len(self.window)
        if n < 30:
            return None
        total = 0.0
        total_sq = 0.0
        for _, rr in self.window:
            total += rr
            total_sq += rr * rr
        mean = total / n
        return math.sqrt(max(0.0, total_sq / n - mean * mean))

    def rr_intervals(self) -> list[float]:
        """The RR intervals of the last five minutes, ms (for analysis and tests)."""
        return [rr for _, rr in self.window]
