"""What a subject's devices write: one ``Emitter`` per type and device, and their values.

Each emitter knows its device (the sample's ``source``), when its next reading is due (a
fixed cadence, or the ``watch`` profile's interval) and whether imperfections stop it
(the watch off the wrist, a dropout). Interval types (steps, distance, energy) cover the time
since the device's previous sample of the type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from biomock.catalogue import TYPES
from biomock.sample import JSONScalar, Sample, SampleSource
from biomock.sim.cadence import PHONE_BLOCK_MS, WATCH_MIN_INTERVAL_MS, WatchCadence
from biomock.sim.devices import DEVICES
from biomock.sim.emitter import Emitter, gated
from biomock.sim.imperfect import JITTER_MAX_MS, spo2_artefact
from biomock.sim.schedule import HOUR_MS, SEDENTARY, SLEEP, Segment, circadian
from biomock.sim.seeds import derive_rng
from biomock.sim.timeline import MAIN_SLEEP_MS

if TYPE_CHECKING:
    import random

    from biomock.sim.subject import SubjectSim

RESTING_PERCENTILE = 10
"""Resting heart rate is reported as this percentile of awake, sedentary heart rate."""
_STILL_WINDOW_MS = 300_000  # SDNN is taken over 5 minutes; all of them must be still
_STILL_EXERTION = 0.12
_POINT = frozenset(
    {"heart_rate", "heart_rate_variability_sdnn", "oxygen_saturation", "respiratory_rate"}
)
# HealthKit's heart-rate motion context; shared, never mutated (formats copy extras)
_SEDENTARY: dict[str, JSONScalar] = {"motion_context": "sedentary"}
_ACTIVE: dict[str, JSONScalar] = {"motion_context": "active"}


class Readings:
    """The emitters of one subject and the state their values need."""

    def __init__(
        self,
        subject: SubjectSim,
        cadences_ms: dict[str, int],
        watch: WatchCadence | None,
        rng: random.Random,
    ) -> None:
        self._s = subject
        self._rng = rng
        self._sources = subject.sources
        self._skip_zero = watch is not None or subject.flaws is not None
        self._since: dict[tuple[str, str], int] = {}
        self._rest_counts = [0] * 256
        self._rest_n = 0
        self._last_hr_ms = 0
        self.spans: dict[str, int] = {}
        self.phone_span = 0
        self.emitters: list[Emitter] = []
        table: dict[str, Callable[[int, list[Sample]], None]] = {
            "heart_rate": self._heart_rate,
            "heart_rate_variability_sdnn": self._sdnn,
            "resting_heart_rate": self._resting,
            "steps": self._watch_steps,
            "distance_walking_running": self._watch_distance,
            "active_energy_burned": self._watch_energy,
            "oxygen_saturation": self._spo2,
            "respiratory_rate": self._respiratory,
            "body_temperature": self._temperature,
            "blood_pressure_systolic": self._blood_pressure,
            "blood_glucose": self._glucose,
            "body_mass": self._body_mass,
        }
        flaws = subject.flaws
        for type_name, write in table.items():
            source = self._sources.get(type_name)
            if source is None:
                continue
            cadence = cadences_ms[type_name]
            interval = None if watch is None else watch.interval(type_name)
            if watch is not None and type_name == "body_temperature":
                interval = watch.morning
            gate = None
            if flaws is not None and source.kind == "watch" and type_name != "resting_heart_rate":
                gate = flaws.dropped if type_name in _POINT else flaws.off_wrist
            summary = TYPES[type_name].has_start or type_name in (
                "heart_rate_variability_sdnn",
                "resting_heart_rate",
            )
            if gate is not None:
                discard = self._discard if summary else None  # counted off the wrist: lost
                write = gated(type_name, write, gate, subject.missed, discard)
            self.emitters.append(
                Emitter(type_name, cadence, write, summary=summary, interval=interval)
            )
            shortest = WATCH_MIN_INTERVAL_MS.get(type_name, cadence) if watch else cadence
            self.spans[type_name] = min(JITTER_MAX_MS, int(0.45 * shortest))
        if "phone" in subject.devices:
            low, high = PHONE_BLOCK_MS
            self.emitters.append(
                Emitter(
                    "phone",
                    low,
                    self._phone,
                    summary=True,
                    interval=lambda _t: round(self._rng.uniform(low, high)),
                )
            )
            self.phone_span = min(JITTER_MAX_MS, int(0.45 * low))

    def devices(self) -> list[SampleSource]:
        return [DEVICES[kind] for kind in self._s.devices]

    def _discard(self, type_name: str, t_ms: int) -> None:
        motion = self._s.motion
        {"steps": motion.take_steps, "distance_walking_running": motion.take_distance}.get(
            type_name, motion.take_energy
        )()
        self._since[(type_name, "watch")] = t_ms

    def restart(self, t_ms: int) -> None:
        self._since.clear()
        self._rest_counts = [0] * 256
        self._rest_n = 0
        self._last_hr_ms = t_ms

    def after_segment(self, previous: Segment, t_ms: int, out: list[Sample]) -> None:
        """A segment ended at ``t_ms``: after a night's sleep, the sleeping wrist temperature."""
        source = self._sources.get("sleeping_wrist_temperature")
        if source is None or previous.activity != SLEEP or self._s.timeline.segment.stages:
            return
        start = max(previous.start_ms, self._s.floor)
        if t_ms - start < MAIN_SLEEP_MS:
            return
        value = self._s.vitals.wrist_temperature(t_ms, self._s.scenario)
        out.append(self._sample("sleeping_wrist_temperature", value, t_ms, source, start))

    def count_rest(self, hr: float) -> None:
        self._rest_counts[min(255, int(hr))] += 1
        self._rest_n += 1

    # -- building samples -----------------------------------------------------------------

    def _sample(
        self,
        type_name: str,
        value: float | int | str,
        t_ms: int,
        source: SampleSource | None,
        start_ms: int | None = None,
        extra: dict[str, JSONScalar] | None = None,
    ) -> Sample:
        s = self._s
        unit = TYPES[type_name].unit
        scenario = s.scenario.name
        return Sample(
            type_name, value, t_ms, unit, s.name, start_ms, scenario, None, extra or {}, source
        )

    def _interval(self, type_name: str, kind: str, t_ms: int) -> int:
        key = (type_name, kind)
        start = self._since.get(key, self._s.floor)
        self._since[key] = t_ms
        return start

    # -- the readings ---------------------------------------------------------------------

    def _heart_rate(self, t_ms: int, out: list[Sample]) -> None:
        s = self._s
        value = s.heart.hr
        flaws = s.flaws
        if flaws is not None:
            value += flaws.spike(t_ms - self._last_hr_ms)
        self._last_hr_ms = t_ms
        context = _SEDENTARY if s.timeline.segment.activity in (SLEEP, SEDENTARY) else _ACTIVE
        out.append(
            Sample(
                "heart_rate",
                round(value),
                t_ms,
                "count/min",
                s.name,
                None,
                s.scenario.name,
                None,
                context,
                self._sources["heart_rate"],
            )
        )

    def _still(self, t_ms: int) -> bool:
        s = self._s
        return t_ms - s.still_since >= _STILL_WINDOW_MS and s.heart.exertion < _STILL_EXERTION

    def _sdnn(self, t_ms: int, out: list[Sample]) -> None:
        # Taken only after five minutes of stillness, as a watch does: across a change of
        # activity the window mixes two heart rates and SDNN means nothing.
        name = "heart_rate_variability_sdnn"
        sdnn = self._s.heart.sdnn() if self._still(t_ms) else None
        if sdnn is None:
            self._s.missed.add(name)
            return
        self._s.missed.discard(name)
        out.append(self._sample(name, round(sdnn, 1), t_ms, self._sources[name]))

    def _resting(self, t_ms: int, out: list[Sample]) -> None:
        # Like a watch: a low percentile of the heart rate while awake and sitting still,
        # over the period; the profile's value when there was too little of it.
        s = self._s
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
            scenario = s.scenario
            value = (s.profile.resting_hr + scenario.hr_offset) * scenario.hr_factor
        self._rest_counts = [0] * 256
        self._rest_n = 0
        name = "resting_heart_rate"
        out.append(self._sample(name, round(value), t_ms, self._sources[name]))

    def _motion_sample(
        self, name: str, value: float | int, t_ms: int, kind: str, out: list[Sample]
    ) -> None:
        start = self._interval(name, kind, t_ms)
        if value or not self._skip_zero:
            out.append(self._sample(name, value, t_ms, DEVICES[kind], start))

    def _watch_steps(self, t_ms: int, out: list[Sample]) -> None:
        self._motion_sample("steps", self._s.motion.take_steps(), t_ms, "watch", out)

    def _watch_distance(self, t_ms: int, out: list[Sample]) -> None:
        value = self._s.motion.take_distance()
        self._motion_sample("distance_walking_running", value, t_ms, "watch", out)

    def _watch_energy(self, t_ms: int, out: list[Sample]) -> None:
        value = self._s.motion.take_energy()
        self._motion_sample("active_energy_burned", value, t_ms, "watch", out)

    def _phone(self, t_ms: int, out: list[Sample]) -> None:
        # The phone writes a block only when it counted steps; its energy estimate comes
        # from the same steps, so nothing is written for a block spent sitting.
        phone = self._s.phone
        steps = phone.take_steps()
        distance = phone.take_distance()
        energy = phone.take_energy()
        if steps:
            for name, value in (
                ("steps", steps),
                ("distance_walking_running", distance),
                ("active_energy_burned", energy),
            ):
                self._motion_sample(name, value, t_ms, "phone", out)
        else:
            for name in ("steps", "distance_walking_running", "active_energy_burned"):
                self._since[(name, "phone")] = t_ms

    def _spo2(self, t_ms: int, out: list[Sample]) -> None:
        s = self._s
        name = "oxygen_saturation"
        moving = s.timeline.segment.activity not in (SLEEP, SEDENTARY)
        value = s.vitals.spo2(t_ms, s.asleep(), s.scenario)
        if moving and s.flaws is not None and s.flaws.rng.random() < 0.25:
            value = spo2_artefact(s.flaws.rng)  # taken on the move: the reading is spoiled
        elif moving and s.watch_profile:
            s.missed.add(name)  # a watch waits until the wearer is still
            return
        s.missed.discard(name)
        out.append(self._sample(name, value, t_ms, self._sources[name]))

    def _respiratory(self, t_ms: int, out: list[Sample]) -> None:
        s = self._s
        asleep = s.asleep()
        if s.watch_profile and not asleep:
            return
        heart = s.heart
        value = s.vitals.respiratory_rate(t_ms, heart.fast + heart.slow, asleep, s.scenario)
        name = "respiratory_rate"
        out.append(self._sample(name, value, t_ms, self._sources[name]))

    def _temperature(self, t_ms: int, out: list[Sample]) -> None:
        s = self._s
        value = s.vitals.temperature(t_ms, circadian(s.local_ms(t_ms)), s.scenario)
        name = "body_temperature"
        out.append(self._sample(name, value, t_ms, self._sources[name]))

    def _blood_pressure(self, t_ms: int, out: list[Sample]) -> None:
        s = self._s
        heart = s.heart
        systolic, diastolic = s.vitals.blood_pressure(
            t_ms, heart.fast + heart.slow, s.asleep(), s.scenario
        )
        source = self._sources["blood_pressure_systolic"]
        extra: dict[str, JSONScalar] = {"diastolic": diastolic}
        out.append(self._sample("blood_pressure_systolic", systolic, t_ms, source, None, extra))
        out.append(self._sample("blood_pressure_diastolic", diastolic, t_ms, source))

    def _glucose(self, t_ms: int, out: list[Sample]) -> None:
        s = self._s
        s.eat_until(t_ms)
        value = s.glucose.reading(t_ms, s.vitals.warm, s.scenario)
        out.append(self._sample("blood_glucose", value, t_ms, self._sources["blood_glucose"]))

    def _body_mass(self, t_ms: int, out: list[Sample]) -> None:
        s = self._s
        day = (t_ms + HOUR_MS * 12) // (24 * HOUR_MS)
        wobble = derive_rng(s.seed, "mass", day).gauss(0.0, 0.35)  # water, meals
        value = round(s.profile.weight_kg + wobble, 1)
        out.append(self._sample("body_mass", value, t_ms, self._sources["body_mass"]))
