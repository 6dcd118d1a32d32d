"""Conversion of measured values from the units files use to the catalogue's units."""

from __future__ import annotations

import re

from biomock.catalogue import TYPES

# The molar mass of glucose, for a bare ``mmol/L`` (Apple writes it into the unit).
_GLUCOSE_G_PER_MOL = 180.15588
_MOLAR = re.compile(r"mmol<(?P<mass>[0-9]+(?:\.[0-9]+)?)>/L")

# unit -> factor into the canonical unit, per canonical unit.
_FACTORS: dict[str, dict[str, float]] = {
    "count/min": {"count/min": 1.0, "count/s": 60.0, "/min": 1.0},
    "ms": {"ms": 1.0, "s": 1000.0},
    "count": {"count": 1.0},
    "m": {"m": 1.0, "km": 1000.0, "cm": 0.01, "mi": 1609.344, "ft": 0.3048, "yd": 0.9144},
    "kcal": {"kcal": 1.0, "Cal": 1.0, "kJ": 1 / 4.184, "cal": 0.001, "J": 1 / 4184},
    "%": {"%": 1.0},
    "degC": {"degC": 1.0},
    "mmHg": {"mmHg": 1.0},
    "mg/dL": {"mg/dL": 1.0, "mg/L": 0.1, "g/L": 100.0},
}


def to_canonical(type_name: str, value: float, unit: str) -> float:
    """Return ``value`` measured in ``unit`` in the catalogue unit of ``type_name``.

    Values that need no conversion are returned unchanged (an ``int`` stays an
    ``int``); converted values are rounded to 4 decimals so that float noise of
    the conversion does not show.

    Raises:
        ValueError: if ``unit`` is not a unit of that type's quantity.
    """
    canonical = TYPES[type_name].unit
    if canonical is None:
        raise ValueError(f"{type_name} is a category and takes no unit, got {unit!r}")
    if unit == canonical:
        return value
    if canonical == "degC" and unit == "degF":
        return round((value - 32.0) * 5.0 / 9.0, 4)
    if canonical == "degC" and unit == "K":
        return round(value - 273.15, 4)
    if canonical == "mg/dL":
        molar = _MOLAR.fullmatch(unit)
        if molar is not None or unit == "mmol/L":
            mass = float(molar["mass"]) if molar is not None else _GLUCOSE_G_PER_MOL
            # mmol/L x g/mol = mg/L; a decilitre is a tenth of that.
            return round(value * mass / 10.0, 4)
    factor = _FACTORS.get(canonical, {}).get(unit)
    if factor is None:
        raise ValueError(f"unit {unit!r} is not a unit of {type_name} (expected {canonical!r})")
    return value if factor == 1.0 else round(value * factor, 4)
