"""Pure, seeded physiology: simulated people wearing a watch.

Plain synchronous code (no trio, no I/O, no wall clock): :class:`Simulator` turns advancing
simulated time into samples. Modules: ``profiles`` (who), ``schedule`` (the day plan),
``sleep`` (stages), ``heart`` (HR, RR, SDNN), ``activity`` (steps, distance, energy),
``vitals`` (SpO2, breathing, temperature, blood pressure), ``glucose``, ``scenarios``,
``devices`` (who records what), ``zones`` (local days), ``cadence`` (dense or watch
readings), ``imperfect`` (realistic gaps and delays), ``readings`` (what devices write),
``subject`` (one person's event loop) and ``simulator`` (many people, the ``Source``).
"""

from biomock.sim.cadence import CADENCES
from biomock.sim.devices import DEVICES, parse_devices
from biomock.sim.imperfect import IMPERFECTIONS
from biomock.sim.profiles import Profile, make_profile
from biomock.sim.scenarios import DEFAULT_SCENARIO, SCENARIOS
from biomock.sim.simulator import (
    MAX_SUBJECTS,
    Simulator,
    UnknownScenario,
    UnknownSubject,
    is_subject_name,
    parse_cadences,
    subject_names,
)
from biomock.sim.zones import parse_time_zones

__all__ = [
    "CADENCES",
    "DEFAULT_SCENARIO",
    "DEVICES",
    "IMPERFECTIONS",
    "MAX_SUBJECTS",
    "SCENARIOS",
    "Profile",
    "Simulator",
    "UnknownScenario",
    "UnknownSubject",
    "is_subject_name",
    "make_profile",
    "parse_cadences",
    "parse_devices",
    "parse_time_zones",
    "subject_names",
]
