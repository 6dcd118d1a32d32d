"""Devices and sources: who recorded each sample, and overlapping steps from watch and phone."""

from __future__ import annotations

import pytest

from biomock.sample import Sample
from biomock.sim import Simulator
from biomock.sim.devices import parse_devices
from tests.sim.conftest import DAY, START, Series, simulate


def test_every_sample_names_its_device_by_default(days: dict[str, Series]) -> None:
    expected = {
        "heart_rate": {"watch"},
        "blood_glucose": {"cgm"},
        "blood_pressure_systolic": {"bp_cuff"},
        "sleep_analysis": {"watch"},
        "steps": {"watch"},
    }
    for series in days.values():
        for sample in series.samples:
            assert sample.source is not None
            assert sample.source.name and sample.source.device and sample.source.os
        for type_name, kinds in expected.items():
            assert {s.source.kind for s in series.by_type[type_name] if s.source} == kinds
        assert {s.source.kind for v in series.phone.values() for s in v if s.source} == {"phone"}


def _union(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _covered(spans: list[tuple[int, int]], start: int, end: int) -> int:
    return sum(max(0, min(end, b) - max(start, a)) for a, b in spans)


def deduplicated_steps(samples: list[Sample]) -> tuple[int, float, int]:
    """(watch total, HealthKit-style de-duplicated total, phone samples overlapping the watch).

    As HealthKit's statistics do, the watch is preferred where both counted; the phone's
    samples count only for the part of their interval the watch did not cover.
    """
    watch = [s for s in samples if s.source and s.source.kind == "watch"]
    phone = [s for s in samples if s.source and s.source.kind == "phone"]
    spans = _union([(s.start_ms or s.time_ms, s.time_ms) for s in watch])
    total = float(sum(int(s.value) for s in watch))
    overlapping = 0
    for s in phone:
        start = s.start_ms or s.time_ms
        covered = _covered(spans, start, s.time_ms)
        overlapping += covered > 0
        total += int(s.value) * (1 - covered / max(1, s.time_ms - start))
    return sum(int(s.value) for s in watch), total, overlapping


@pytest.mark.parametrize("cadence", ["dense", "watch"])
def test_watch_and_phone_overlap_and_deduplicate_to_the_watch_total(cadence: str) -> None:
    series = simulate(subjects=["ana", "ben"], duration_ms=DAY, cadence=cadence)
    for s in series.values():
        samples = s.by_type["steps"] + s.phone["steps"]
        watch, deduplicated, overlapping = deduplicated_steps(samples)
        assert overlapping >= 3, "the phone's blocks overlap the watch's"
        assert sum(int(p.value) for p in s.phone["steps"]) > 0.2 * watch
        assert abs(deduplicated - watch) <= 0.05 * watch
        # the overlap is real: adding both would count the walks twice over
        assert watch + sum(int(p.value) for p in s.phone["steps"]) > 1.2 * watch


def test_devices_are_configurable_per_subject() -> None:
    devices = parse_devices("watchonly=watch;phoneonly=phone;lab=watch+thermometer+scale")
    assert devices["lab"] == ("watch", "thermometer", "scale")
    names = ["watchonly", "phoneonly", "lab"]
    sim = Simulator(START, seed=2, subjects=names, devices=devices, cadence="watch")
    samples = sim.advance(START + 2 * DAY)
    kinds = {
        name: {s.source.kind for s in samples if s.subject == name and s.source} for name in names
    }
    assert kinds == {"watchonly": {"watch"}, "phoneonly": {"phone"}, "lab": kinds["lab"]}
    assert {"watch", "thermometer", "scale"} == kinds["lab"]
    types = {name: {s.type for s in samples if s.subject == name} for name in names}
    assert "heart_rate" not in types["phoneonly"] and "blood_glucose" not in types["watchonly"]
    assert {
        s.value for s in samples if s.subject == "phoneonly" and s.type == "sleep_analysis"
    } == {"inBed"}, "a phone knows the time in bed, not the stages"
    assert {"body_mass", "body_temperature"} <= types["lab"]
    listed = {info["name"]: info for info in sim.describe_subjects()}
    assert [d["kind"] for d in listed["lab"]["devices"]] == ["watch", "thermometer", "scale"]
    assert listed["phoneonly"]["devices"] == [
        {"name": "iPhone", "device": "iPhone16,1", "os": "18.2", "kind": "phone"}
    ]


def test_bad_device_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown device 'fitbit'"):
        parse_devices("ana=fitbit")
    with pytest.raises(ValueError, match="is not SUBJECT=KIND"):
        parse_devices("watch")
    with pytest.raises(ValueError, match="unknown subject 'bob'"):
        Simulator(START, seed=1, subjects=["ana"], devices={"bob": ("watch",)})
