"""Encoders that turn numbered samples into the JSON shapes apps read.

Each format is a function ``(record) -> dict | None``; ``None`` means the
sample has no representation in that format and is skipped there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from biomock.formats.native import encode_native
from biomock.sample import Sample

Encoder = Callable[[int, Sample], dict[str, Any] | None]

FORMATS: dict[str, Encoder] = {
    "native": encode_native,
}
"""Every format by its ``?format=`` name; ``native`` is the default."""

__all__ = ["FORMATS", "Encoder", "encode_native"]
