"""Fixtures for the format tests."""

from __future__ import annotations

import pytest

from biomock.sample import Sample
from tests.formats.sample_kinds import every_kind_of_sample


@pytest.fixture
def samples() -> list[tuple[int, Sample]]:
    """Every kind of sample, numbered from 1000 as the hub would number them."""
    return list(enumerate(every_kind_of_sample(), start=1000))
