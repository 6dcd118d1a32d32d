"""Shared helpers for the replay tests."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from biomock.replay.errors import ReplayError
from biomock.replay.source import read_samples
from biomock.sample import Sample, parse_time

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "replay"


def ms(text: str) -> int:
    return parse_time(text)


def read_until_error(path: Path) -> tuple[list[Sample], ReplayError | None]:
    """Everything a reader yields from ``path`` before it fails, and its error."""
    got: list[Sample] = []
    try:
        for sample in read_samples(path, Counter()):
            got.append(sample)
    except ReplayError as error:
        return got, error
    return got, None
