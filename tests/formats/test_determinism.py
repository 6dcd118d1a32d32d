"""Encoders are pure: the hub encodes once and caches bytes, so outputs must not drift."""

from __future__ import annotations

import copy
import json

import pytest

from biomock.formats import FORMATS
from biomock.sample import Sample


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_same_input_gives_the_same_bytes(name: str, samples: list[tuple[int, Sample]]) -> None:
    encode = FORMATS[name]
    for sample_id, sample in samples:
        first = json.dumps(encode(sample_id, sample), separators=(",", ":"))
        again = json.dumps(encode(sample_id, copy.deepcopy(sample)), separators=(",", ":"))
        assert first == again


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_encoding_does_not_touch_the_sample(name: str, samples: list[tuple[int, Sample]]) -> None:
    for sample_id, sample in samples:
        before = copy.deepcopy(sample)
        out = FORMATS[name](sample_id, sample)
        if out is not None:
            json.dumps(out)  # serialisable as it is
        assert sample == before
