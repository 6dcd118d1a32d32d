"""The simulator: many subjects behind the ``Source`` protocol the generator drives."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from operator import attrgetter, itemgetter
from typing import Any

from biomock.catalogue import TYPES
from biomock.sample import Sample
from biomock.sim.cadence import DEFAULT_CADENCE, check_cadence
from biomock.sim.devices import check_devices
from biomock.sim.imperfect import check_imperfections
from biomock.sim.scenarios import SCENARIO_SPECS
from biomock.sim.subject import SubjectSim
from biomock.sim.zones import load_zone

MAX_SUBJECTS = 1000
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_BY_TIME = attrgetter("time_ms")
_BY_KEY = itemgetter(0, 1)


class UnknownSubject(LookupError):
    """A subject name the simulation does not have."""


class UnknownScenario(ValueError):
    """A scenario name that does not exist."""


def is_subject_name(name: str) -> bool:
    """Whether ``name`` can name a subject: 1-64 letters, digits, '.', '_' or '-', starting
    with a letter or digit."""
    return _NAME.match(name) is not None


def subject_names(spec: str) -> list[str]:
    """Turn ``--subjects`` into names: ``"3"`` gives three (the first is ``default``),
    ``"alice,bob"`` gives those.

    Raises:
        ValueError: for a count outside 1..1000, an empty or malformed name, or a repeat.
    """
    text = spec.strip()
    if text.isdigit():
        count = int(text)
        if not 1 <= count <= MAX_SUBJECTS:
            raise ValueError(f"subjects: a count must be 1 to {MAX_SUBJECTS}, got {count}")
        return ["default", *(f"subject-{i}" for i in range(2, count + 1))]
    names = [part.strip() for part in text.split(",")]
    for name in names:
        if not _NAME.match(name):
            raise ValueError(
                f"subjects: {name!r} is not a count or a name (names are 1-64 letters, digits,"
                " '.', '_' or '-', starting with a letter or digit; separate them with commas)"
            )
    if len(set(names)) != len(names):
        raise ValueError(f"subjects: names must be distinct, got {text!r}")
    if len(names) > MAX_SUBJECTS:
        raise ValueError(f"subjects: at most {MAX_SUBJECTS}, got {len(names)}")
    return names


def parse_cadences(text: str) -> dict[str, float]:
    """Parse ``heart_rate=0.5,steps=30`` (seconds of simulated time) into a mapping.

    Raises:
        ValueError: for a malformed item, an unknown or event-driven type, or a cadence
            outside 0.001 s to 7 days.
    """
    cadences: dict[str, float] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        name, sep, seconds = item.partition("=")
        try:
            if not sep:
                raise ValueError
            cadences[name.strip()] = float(seconds)
        except ValueError:
            raise ValueError(
                f"cadence: {item.strip()!r} is not TYPE=SECONDS (e.g. heart_rate=1,steps=60)"
            ) from None
    _cadences_ms(cadences)
    return cadences


def _cadences_ms(cadences: Mapping[str, float] | None) -> dict[str, int]:
    result: dict[str, int] = {}
    for name, sample_type in TYPES.items():
        if sample_type.cadence_s is not None:
            result[name] = round(sample_type.cadence_s * 1000)
    for name, seconds in (cadences or {}).items():
        if name not in result:
            valid = ", ".join(result)
            raise ValueError(f"cadence: unknown or event-driven type {name!r}; valid: {valid}")
        if not (math.isfinite(seconds) and 0.001 <= seconds <= 7 * 86400):
            raise ValueError(
                f"cadence: {name} must be 0.001 to 604800 seconds of simulated time, got {seconds}"
            )
        result[name] = round(seconds * 1000)
    return result


class Simulator:
    """Simulated people wearing a watch: realistic, seeded, reproducible samples.

    Every subject's randomness comes from ``(seed, subject name)``, so the same seed, subjects
    and cadences give the same samples, byte for byte, however ``advance`` is called.

    Args:
        start_ms: where the simulated time begins (epoch ms).
        seed: the simulation seed.
        subjects: the subjects' names (see :func:`subject_names`).
        cadences: seconds of simulated time between samples, by type name; the rest use the
            catalogue's. ``blood_pressure_diastolic`` always comes with the systolic reading.
            Only the ``dense`` profile reads them.
        cadence: ``dense`` (every type on a fixed grid, heart rate every second) or ``watch``
            (when a real watch takes its readings; see ``biomock.sim.cadence``).
        imperfections: ``off`` or ``realistic`` (gaps, jitter, late batches, artefacts; see
            ``biomock.sim.imperfect``).
        devices: device kinds by subject name (``watch``, ``phone``, ``cgm``, ``bp_cuff``,
            ``thermometer``, ``scale``); others get ``devices.DEFAULT_DEVICES``.
        time_zones: IANA zone names by subject name; others get a seeded one.

    Raises:
        ValueError: for no subjects, repeated names, a bad cadence, profile, device or zone.
    """

    def __init__(
        self,
        start_ms: int,
        *,
        seed: int,
        subjects: list[str],
        cadences: Mapping[str, float] | None = None,
        cadence: str = DEFAULT_CADENCE,
        imperfections: str = "off",
        devices: Mapping[str, Sequence[str]] | None = None,
        time_zones: Mapping[str, str] | None = None,
    ) -> None:
        if not subjects:
            raise ValueError("subjects: at least one subject is needed")
        if len(set(subjects)) != len(subjects):
            raise ValueError("subjects: names must be distinct")
        cadences_ms = _cadences_ms(cadences)
        check_cadence(cadence)
        imperfect = check_imperfections(imperfections) == "realistic"
        devices = devices or {}
        check_devices(devices, subjects)
        zones = time_zones or {}
        for name, zone in zones.items():
            if name not in subjects:
                raise ValueError(f"time zones: unknown subject {name!r}")
            load_zone(zone)
        self.seed = seed
        self._start_ms = start_ms
        self._now = start_ms
        self._imperfect = imperfect
        self.cadence = cadence
        self.imperfections = imperfections
        self._subjects = {
            name: SubjectSim(
                name,
                seed,
                start_ms,
                cadences_ms,
                cadence=cadence,
                imperfect=imperfect,
                devices=devices.get(name),
                zone=zones.get(name),
            )
            for name in subjects
        }

    @property
    def start_ms(self) -> int:
        return self._start_ms

    @property
    def subjects(self) -> list[str]:
        return list(self._subjects)

    @property
    def finished(self) -> bool:
        return False

    @property
    def now_ms(self) -> int:
        """The simulated time reached so far: a scenario switched now applies after it."""
        return self._now

    def advance(self, until_ms: int) -> list[Sample]:
        """Every sample with ``time_ms <= until_ms`` not returned before, in publication order.

        That is time order, except with realistic imperfections: a watch's late batch is
        published when it syncs, after samples with later timestamps (ids follow publication).
        """
        self._now = max(self._now, until_ms)
        if self._imperfect:
            keyed = [
                item
                for subject in self._subjects.values()
                for item in subject.advance_keyed(until_ms)
            ]
            keyed.sort(key=_BY_KEY)
            return [sample for _, _, sample in keyed]
        subjects = iter(self._subjects.values())
        out = next(subjects).advance(until_ms)
        merged = False
        for subject in subjects:
            out.extend(subject.advance(until_ms))
            merged = True
        if merged:
            out.sort(key=_BY_TIME)
        return out

    def jump(self, to_ms: int) -> None:
        """Move to ``to_ms`` without returning the samples of the skipped time.

        Each subject restarts its day plan at ``to_ms`` in the steady state of what it is
        doing then, so a jump of any length costs the same.
        """
        if to_ms <= self._now:
            return
        self._now = to_ms
        for subject in self._subjects.values():
            subject.jump(to_ms)

    def set_scenario(self, subject: str, scenario: str) -> None:
        """Switch ``subject`` to ``scenario`` from the current simulated time on.

        Raises:
            UnknownSubject: no such subject (nothing changes).
            UnknownScenario: no such scenario (nothing changes).
        """
        sim = self._subjects.get(subject)
        if sim is None:
            raise UnknownSubject(f"unknown subject {subject!r}; valid: {', '.join(self._subjects)}")
        spec = SCENARIO_SPECS.get(scenario)
        if spec is None:
            raise UnknownScenario(
                f"unknown scenario {scenario!r}; valid: {', '.join(SCENARIO_SPECS)}"
            )
        sim.set_scenario(spec)

    def scenario_of(self, subject: str) -> str:
        """The scenario ``subject`` is in.

        Raises:
            UnknownSubject: no such subject.
        """
        sim = self._subjects.get(subject)
        if sim is None:
            raise UnknownSubject(f"unknown subject {subject!r}; valid: {', '.join(self._subjects)}")
        return sim.scenario.name

    def describe_subjects(self) -> list[dict[str, Any]]:
        """Each subject's name, profile, time zone, devices and scenario (``GET /api/subjects``)."""
        return [sim.describe() for sim in self._subjects.values()]
