"""Turning the elements of an Apple Health export into samples: types, units, dates, values."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime

from biomock.catalogue import TYPES
from biomock.replay.units import to_canonical
from biomock.sample import Sample, SampleSource, check_time_range

HEALTHKIT_TYPES = {t.healthkit: t.name for t in TYPES.values() if t.name != "workout"}
"""Record type identifier -> biomock type name."""

SLEEP_VALUES = {
    "HKCategoryValueSleepAnalysisInBed": "inBed",
    "HKCategoryValueSleepAnalysisAwake": "awake",
    # Exports from before iOS 16 have one "asleep" value for every stage.
    "HKCategoryValueSleepAnalysisAsleep": "asleepUnspecified",
    "HKCategoryValueSleepAnalysisAsleepUnspecified": "asleepUnspecified",
    "HKCategoryValueSleepAnalysisAsleepCore": "asleepCore",
    "HKCategoryValueSleepAnalysisAsleepDeep": "asleepDeep",
    "HKCategoryValueSleepAnalysisAsleepREM": "asleepREM",
}

BLOOD_PRESSURE = "HKCorrelationTypeIdentifierBloodPressure"
SYSTOLIC = TYPES["blood_pressure_systolic"].healthkit
DIASTOLIC = TYPES["blood_pressure_diastolic"].healthkit

_UNITS = {t.name: t.unit for t in TYPES.values()}
_INTERVALS = frozenset(t.name for t in TYPES.values() if t.kind == "interval")
_WORKOUT_PREFIX = "HKWorkoutActivityType"


def apple_time(text: str) -> int:
    """Parse Apple's ``2024-03-01 07:14:22 -0800`` into epoch milliseconds.

    Raises:
        ValueError: if ``text`` is not such a date.
    """
    # Called twice per record of a gigabyte export: the shape is checked here and
    # the digits by the C fromisoformat, about twice as fast as a regular expression.
    if len(text) == 25 and text[10] == " " and text[19] == " " and text[20] in "+-":
        try:
            moment = datetime.fromisoformat(text[:19] + text[20:])
        except ValueError:
            pass
        else:
            return check_time_range(int(moment.timestamp()) * 1000, f"date {text!r}")
    raise ValueError(f"date {text!r} is not like '2024-03-01 07:14:22 -0800'")


_SOURCES: dict[tuple[str | None, str | None, str | None], SampleSource | None] = {}


def record_source(attrib: Mapping[str, str]) -> SampleSource | None:
    """The recording device of a ``Record``: its ``sourceName``, ``device`` and version.

    An export names the same few sources millions of times, so each is built once.
    """
    key = (attrib.get("sourceName"), attrib.get("sourceVersion"), attrib.get("device"))
    cached = _SOURCES.get(key, False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    name, version, device = key
    source = None
    if name:
        # device looks like "<<HKDevice: 0x..>, name:Apple Watch, ..., hardware:Watch6,1, ...>"
        fields = dict(
            part.strip().split(":", 1) for part in (device or "").split(", ") if ":" in part
        )
        model = fields.get("hardware") or fields.get("model") or "unknown"
        lowered = name.lower()
        kind = "watch" if "watch" in lowered else "phone" if "iphone" in lowered else "import"
        source = SampleSource(name, model.rstrip(">"), version or "unknown", kind)
    if len(_SOURCES) < 1000:
        _SOURCES[key] = source
    return source


def record_sample(name: str, attrib: Mapping[str, str]) -> Sample:
    """Return the sample of a ``Record`` of the biomock type ``name``.

    Raises:
        ValueError: saying what is wrong with the record.
    """
    # Called for every record of a gigabyte export: kept to plain look-ups.
    start_text = attrib.get("startDate")
    end_text = attrib.get("endDate")
    text = attrib.get("value")
    if start_text is None or end_text is None or text is None:
        raise ValueError("lacks one of the startDate, endDate and value attributes")
    start_ms = apple_time(start_text)
    end_ms = start_ms if end_text == start_text else apple_time(end_text)
    if start_ms > end_ms:
        raise ValueError("startDate is after endDate")
    unit = _UNITS[name]
    if unit is None:
        stage = SLEEP_VALUES.get(text)
        if stage is None:
            raise ValueError(f"sleep value {text!r} is not a known sleep stage")
        return Sample(
            name, stage, end_ms, None, "default", start_ms, None, None, {}, record_source(attrib)
        )
    value = _number(text)
    given = attrib.get("unit")
    if given is None:
        raise ValueError("lacks the unit attribute")
    if name == "oxygen_saturation" and given == "%":
        # HealthKit stores percentages as fractions; the catalogue's unit is percent.
        value = round(value * 100, 4)
    elif given != unit:
        value = to_canonical(name, value, given)
    start = start_ms if name in _INTERVALS else None
    source = record_source(attrib)
    return Sample(name, value, end_ms, unit, "default", start, None, None, {}, source)


def workout_samples(attrib: Mapping[str, str]) -> tuple[Sample, Sample]:
    """Return a ``Workout``'s start and end events, the activity as their value.

    ``HKWorkoutActivityTypeTraditionalStrengthTraining`` becomes
    ``traditionalStrengthTraining``, the name HealthKit's API gives it.

    Raises:
        ValueError: saying what is wrong with the workout.
    """
    kind = _attribute(attrib, "workoutActivityType").removeprefix(_WORKOUT_PREFIX)
    if not kind:
        raise ValueError("workoutActivityType is empty")
    name = kind[0].lower() + kind[1:]
    start_ms = apple_time(_attribute(attrib, "startDate"))
    end_ms = apple_time(_attribute(attrib, "endDate"))
    if start_ms > end_ms:
        raise ValueError("startDate is after endDate")
    source = record_source(attrib)
    return (
        Sample("workout", name, start_ms, None, event="start", source=source),
        Sample("workout", name, end_ms, None, start_ms=start_ms, event="end", source=source),
    )


def bp_key(sample: Sample) -> tuple[str, int, float | int | str]:
    """What makes two blood pressure records the same reading."""
    return (sample.type, sample.time_ms, sample.value)


def blood_pressure(systolic: Sample, diastolic: Sample | None) -> list[Sample]:
    """Return one reading as the stream carries it: systolic (with the diastolic value) first."""
    if diastolic is None:
        return [systolic]
    first = Sample(
        systolic.type,
        systolic.value,
        systolic.time_ms,
        systolic.unit,
        systolic.subject,
        extra={"diastolic": diastolic.value},
    )
    return [first, diastolic]


def pair_loose_readings(loose: Iterable[Sample]) -> list[Sample]:
    """Pair blood pressure records found outside a correlation by their time."""
    systolic: dict[int, Sample] = {}
    diastolic: dict[int, Sample] = {}
    for sample in loose:
        side = systolic if sample.type == "blood_pressure_systolic" else diastolic
        side.setdefault(sample.time_ms, sample)
    out: list[Sample] = []
    for time_ms in sorted(systolic.keys() | diastolic.keys()):
        upper, lower = systolic.get(time_ms), diastolic.get(time_ms)
        if upper is None:
            assert lower is not None
            out.append(lower)
        else:
            out.extend(blood_pressure(upper, lower))
    return out


def _attribute(attrib: Mapping[str, str], key: str) -> str:
    value = attrib.get(key)
    if value is None:
        raise ValueError(f"lacks the {key} attribute")
    return value


def _number(text: str) -> float | int:
    if text.isascii() and text.isdigit():  # counts: no exception raised per decimal value
        return int(text)
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"value {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"value {text!r} is not a finite number")
    return value
