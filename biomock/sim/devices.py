"""The devices a subject wears and carries, and which device records which type.

By default a subject has an Apple Watch, an iPhone, a continuous glucose monitor and a blood
pressure cuff; any subject can be given another set (``watch``, ``phone``, ``cgm``,
``bp_cuff``, ``thermometer``, ``scale``). A type is recorded only by a device that measures
it, so a subject without a CGM has no glucose and one without a watch has no heart rate.

Sources:
    - What each device records: Apple, HealthKit documentation (``HKSourceRevision``,
      ``HKDevice``: name, model, software version), Apple Support "Monitor your heart rate
      with Apple Watch", "Track your sleep on Apple Watch"; the iPhone's motion
      coprocessor counts steps and distance when it is carried (Apple Support "Use the
      Health app on your iPhone"). Dexcom G7 and Omron cuffs write glucose and blood
      pressure to HealthKit through their apps, under their own source names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from biomock.sample import SampleSource

WATCH = SampleSource("Apple Watch", "Watch7,1", "11.2", "watch")
PHONE = SampleSource("iPhone", "iPhone16,1", "18.2", "phone")
CGM = SampleSource("Dexcom G7", "G7", "2.4.1", "cgm")
BP_CUFF = SampleSource("OMRON connect", "BP7450", "7.12", "bp_cuff")
THERMOMETER = SampleSource("Withings Thermo", "SCT01", "2.1", "thermometer")
SCALE = SampleSource("Withings Body+", "WBS05", "1.9", "scale")

DEVICES: dict[str, SampleSource] = {
    d.kind: d for d in (WATCH, PHONE, CGM, BP_CUFF, THERMOMETER, SCALE)
}
"""Every device kind a subject can have, with the model it stands for."""

DEFAULT_DEVICES = ("watch", "phone", "cgm", "bp_cuff")
"""What a subject has unless configured otherwise."""

MEASURES: dict[str, tuple[str, ...]] = {
    "heart_rate": ("watch",),
    "heart_rate_variability_sdnn": ("watch",),
    "resting_heart_rate": ("watch",),
    "steps": ("watch", "phone"),
    "distance_walking_running": ("watch", "phone"),
    "active_energy_burned": ("watch", "phone"),
    "oxygen_saturation": ("watch",),
    "respiratory_rate": ("watch",),
    "body_temperature": ("thermometer", "watch"),
    "sleeping_wrist_temperature": ("watch",),
    "blood_pressure_systolic": ("bp_cuff",),
    "blood_pressure_diastolic": ("bp_cuff",),
    "blood_glucose": ("cgm",),
    "body_mass": ("scale",),
    "sleep_analysis": ("watch", "phone"),
    "workout": ("watch",),
}
"""The device kinds that record each type, the preferred one first.

``body_temperature`` comes from a thermometer when there is one; in the ``dense`` cadence
profile (the original design's continuous sensor) the watch stands in for it.
"""


def parse_devices(text: str) -> dict[str, tuple[str, ...]]:
    """Parse ``alice=watch+cgm;bob=phone`` into each named subject's device kinds.

    Raises:
        ValueError: for a malformed item, an unknown kind or a subject without devices.
    """
    result: dict[str, tuple[str, ...]] = {}
    for item in text.split(";"):
        if not item.strip():
            continue
        name, sep, kinds_text = item.partition("=")
        kinds = tuple(k.strip() for k in kinds_text.split("+") if k.strip())
        if not sep or not name.strip() or not kinds:
            raise ValueError(
                f"devices: {item.strip()!r} is not SUBJECT=KIND+KIND (e.g. alice=watch+cgm)"
            )
        for kind in kinds:
            if kind not in DEVICES:
                raise ValueError(f"devices: unknown device {kind!r}; valid: {', '.join(DEVICES)}")
        result[name.strip()] = tuple(dict.fromkeys(kinds))
    return result


def check_devices(devices: Mapping[str, Sequence[str]], subjects: Sequence[str]) -> None:
    """Check that every configured subject exists and every kind is known.

    Raises:
        ValueError: naming the first unknown subject or device kind.
    """
    for name, kinds in devices.items():
        if name not in subjects:
            raise ValueError(f"devices: unknown subject {name!r}; valid: {', '.join(subjects)}")
        if not kinds:
            raise ValueError(f"devices: subject {name!r} needs at least one device")
        for kind in kinds:
            if kind not in DEVICES:
                raise ValueError(f"devices: unknown device {kind!r}; valid: {', '.join(DEVICES)}")


def sources_for(kinds: Sequence[str], *, dense: bool) -> dict[str, SampleSource]:
    """The device that records each type for a subject with ``kinds``; absent: not recorded.

    Steps, distance and energy map to the watch here; the phone's come on their own.
    """
    result: dict[str, SampleSource] = {}
    for type_name, preferred in MEASURES.items():
        for kind in preferred:
            if kind not in kinds:
                continue
            if type_name == "body_temperature" and kind == "watch" and not dense:
                continue  # a real watch has no core temperature: only the night's wrist one
            if kind == "phone" and type_name != "sleep_analysis":
                continue
            result[type_name] = DEVICES[kind]
            break
    return result
