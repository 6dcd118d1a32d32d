"""Encoders that turn numbered samples into the JSON shapes apps read.

Each format is a function ``(sample_id, sample) -> dict | None``; ``None`` means the
sample has no representation in that format and is skipped there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from biomock.formats.fhir import encode_fhir
from biomock.formats.healthkit import encode_healthkit
from biomock.formats.native import encode_native
from biomock.formats.openmhealth import encode_openmhealth
from biomock.sample import Sample

Encoder = Callable[[int, Sample], dict[str, Any] | None]

FORMATS: dict[str, Encoder] = {
    "native": encode_native,
    "healthkit": encode_healthkit,
    "openmhealth": encode_openmhealth,
    "fhir": encode_fhir,
}
"""Every format by its ``?format=`` name; ``native`` is the default."""

__all__ = [
    "FORMATS",
    "Encoder",
    "encode_fhir",
    "encode_healthkit",
    "encode_native",
    "encode_openmhealth",
]
