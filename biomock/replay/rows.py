"""Checking one row of a JSONL or CSV recording and turning it into a :class:`Sample`.

Both readers hand their fields here, so a row means the same in either file
and is refused for the same reasons with the same words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from biomock.catalogue import SLEEP_STAGES, TYPES
from biomock.replay.units import to_canonical
from biomock.sample import IMPORTED, JSONScalar, Sample, SampleSource, check_time_range, parse_time

WORKOUT_EVENTS = ("start", "end")
STANDARD_KEYS = frozenset(
    {"value", "timestamp", "type", "id", "unit", "subject", "start", "scenario", "event", "source"}
)
_SOURCE_KEYS = ("name", "device", "os", "kind")


def make_sample(
    type_name: object,
    value: object,
    timestamp: object,
    *,
    unit: object = None,
    subject: object = None,
    start: object = None,
    scenario: object = None,
    event: object = None,
    extra: Mapping[str, JSONScalar] | None = None,
    text: bool = False,
    source: object = None,
) -> Sample:
    """Check one row's fields against the catalogue and return its sample.

    Quantities are converted to the catalogue unit when ``unit`` names another
    unit of the same quantity (``degF``, ``mmol/L``, ``km``...). With ``text``
    (a CSV cell) a quantity's value may be a number's text; in JSON it must be
    a number.

    Raises:
        ValueError: with a short message saying which field is wrong and why.
    """
    if not isinstance(type_name, str) or type_name not in TYPES:
        raise ValueError(f"unknown type {type_name!r}; valid: {', '.join(TYPES)}")
    info = TYPES[type_name]
    time_ms = _time("timestamp", timestamp)
    start_ms = None if start is None or start == "" else _time("start", start)
    if start_ms is not None and start_ms > time_ms:
        raise ValueError(f"start {start!r} is after timestamp {timestamp!r}")
    if subject is None or subject == "":
        subject = "default"
    if not isinstance(subject, str):
        raise ValueError(f"subject must be a string, got {subject!r}")
    if scenario is not None and not isinstance(scenario, str):
        raise ValueError(f"scenario must be a string, got {scenario!r}")
    if event == "":
        event = None
    if info.unit is None:
        checked: float | int | str = _category(type_name, value, unit)
        if type_name == "workout" and event not in WORKOUT_EVENTS:
            raise ValueError(f"workout needs event 'start' or 'end', got {event!r}")
    else:
        if event is not None:
            raise ValueError(f"event is only for workout samples, got {event!r}")
        number = _number(type_name, value, text)
        if unit is not None and unit != "":
            if not isinstance(unit, str):
                raise ValueError(f"unit must be a string, got {unit!r}")
            number = to_canonical(type_name, number, unit)
        checked = number
    return Sample(
        type_name,
        checked,
        time_ms,
        info.unit,
        subject,
        start_ms,
        scenario,
        event if isinstance(event, str) else None,
        dict(extra) if extra else {},
        _source(source),
    )


def _source(value: object) -> SampleSource | None:
    """The recording device a row names (API.md's ``source`` object), ``None`` for none."""
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(value.get(key), str) for key in _SOURCE_KEYS
    ):
        raise ValueError(f"source must be an object of strings {', '.join(_SOURCE_KEYS)}")
    source = SampleSource(value["name"], value["device"], value["os"], value["kind"])
    return None if source == IMPORTED else source  # None reads as IMPORTED: one spelling


def _time(name: str, text: object) -> int:
    if not isinstance(text, str):
        raise ValueError(f"{name} must be an ISO 8601 string, got {text!r}")
    try:
        ms = parse_time(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not an ISO 8601 date-time") from None
    return check_time_range(ms, f"{name} {text!r}")


def _number(type_name: str, value: object, text: bool) -> float | int:
    if text and isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            try:
                value = float(value)
            except ValueError:
                raise ValueError(f"{type_name} needs a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{type_name} needs a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{type_name} needs a finite number, got {value!r}")
    return value


def _category(type_name: str, value: object, unit: object) -> str:
    if unit is not None and unit != "":
        raise ValueError(f"{type_name} is a category and takes no unit, got {unit!r}")
    if not isinstance(value, str) or not value:
        raise ValueError(f"{type_name} needs a string value, got {value!r}")
    if type_name == "sleep_analysis" and value not in SLEEP_STAGES:
        raise ValueError(f"sleep stage {value!r} is not one of {', '.join(SLEEP_STAGES)}")
    return value
