"""The Simulator as the generator uses it: the Source contract, scenarios, subjects."""

from __future__ import annotations

import pytest

from biomock.catalogue import TYPES
from biomock.sample import Sample, parse_time
from biomock.sim import (
    SCENARIOS,
    Simulator,
    UnknownScenario,
    UnknownSubject,
    parse_cadences,
    subject_names,
)
from biomock.source import Source

START = parse_time("2026-03-02T08:00:00Z")
HOUR = 3_600_000


def _key(samples: list) -> list[tuple]:  # type: ignore[type-arg]
    return [
        (
            s.type,
            s.value,
            s.time_ms,
            s.unit,
            s.subject,
            s.start_ms,
            s.scenario,
            s.event,
            dict(s.extra),
        )
        for s in samples
    ]


def test_is_a_source() -> None:
    sim: Source = Simulator(START, seed=1, subjects=["default"])
    assert sim.start_ms == START
    assert sim.subjects == ["default"]
    assert sim.finished is False


def test_one_heart_rate_per_subject_per_one_second_tick() -> None:
    sim = Simulator(START, seed=1, subjects=["default", "bob"])
    for tick in range(120):
        batch = sim.advance(START + tick * 1000)
        heart = [s for s in batch if s.type == "heart_rate"]
        assert sorted(s.subject for s in heart) == ["bob", "default"]
        assert {s.time_ms for s in heart} == {START + tick * 1000}


def test_samples_are_in_time_order_at_cadence_multiples_and_never_repeated() -> None:
    sim = Simulator(START, seed=2, subjects=subject_names("3"))
    seen: list[Sample] = []
    until = START
    for step in (1, 7_500, 59_999, 600_000, 3 * HOUR):
        until += step
        batch = sim.advance(until)
        assert all(s.time_ms <= until for s in batch)
        seen.extend(batch)
    times = [s.time_ms for s in seen]
    assert times == sorted(times)
    assert len({(s.type, s.subject, s.time_ms, s.value, s.event) for s in seen}) == len(seen)
    for s in seen:
        cadence = TYPES[s.type].cadence_s
        assert s.source is not None
        if cadence is not None and s.source.kind != "phone":  # the phone's blocks vary
            assert (s.time_ms - START) % round(cadence * 1000) == 0, s
        assert s.unit == TYPES[s.type].unit
        assert s.scenario == "normal_day"
        assert (s.start_ms is not None) == (
            TYPES[s.type].has_start and not (s.type == "workout" and s.event == "start")
        )


def test_same_seed_same_samples_however_advanced() -> None:
    one = Simulator(START, seed=9, subjects=["default", "x"]).advance(START + 2 * HOUR)
    chunked = Simulator(START, seed=9, subjects=["default", "x"])
    pieces = []
    t = START
    while t < START + 2 * HOUR:
        t += 13_337
        pieces.extend(chunked.advance(min(t, START + 2 * HOUR)))
    assert _key(one) == _key(pieces)
    other = Simulator(START, seed=10, subjects=["default", "x"]).advance(START + 2 * HOUR)
    assert _key(one) != _key(other)


def test_subject_streams_depend_only_on_seed_and_name() -> None:
    alone = Simulator(START, seed=3, subjects=["bob"]).advance(START + HOUR)
    together = Simulator(START, seed=3, subjects=["default", "bob"]).advance(START + HOUR)
    assert _key(alone) == _key([s for s in together if s.subject == "bob"])


def test_jump_skips_time_without_a_burst() -> None:
    sim = Simulator(START, seed=4, subjects=["default"])
    sim.advance(START + 10_000)
    target = START + 30 * 86_400_000 + 123
    sim.jump(target)
    batch = sim.advance(target + 60_000)
    assert batch and all(target <= s.time_ms <= target + 60_000 for s in batch)
    assert sum(s.type == "heart_rate" for s in batch) == 60
    assert [s.time_ms for s in batch] == sorted(s.time_ms for s in batch)
    steps = [s for s in batch if s.type == "steps"]
    assert steps and steps[0].start_ms is not None and steps[0].start_ms >= target


def test_switching_scenario_changes_the_next_advance() -> None:
    sim = Simulator(START, seed=5, subjects=["default", "bob"])
    before = sim.advance(START + 60_000)
    sim.set_scenario("default", "afib")
    after = sim.advance(START + 61_000)
    assert {s.scenario for s in before} == {"normal_day"}
    assert [s.scenario for s in after if s.subject == "default"] == ["afib"]
    assert [s.scenario for s in after if s.subject == "bob"] == ["normal_day"]
    assert sim.scenario_of("default") == "afib"
    described = {d["name"]: d for d in sim.describe_subjects()}
    assert described["default"]["scenario"] == "afib"
    assert {"age", "sex", "height_cm", "weight_kg", "resting_hr", "hr_max"} <= set(described["bob"])


def test_workout_scenario_starts_and_ends_a_workout() -> None:
    sim = Simulator(START, seed=6, subjects=["default"])
    sim.advance(START + 60_000)
    sim.set_scenario("default", "workout")
    during = sim.advance(START + 20 * 60_000)
    starts = [s for s in during if s.type == "workout"]
    assert len(starts) == 1 and starts[0].event == "start" and starts[0].value == "running"
    assert starts[0].time_ms == START + 60_000 and starts[0].start_ms is None
    assert max(s.value for s in during if s.type == "steps") >= 150
    sim.set_scenario("default", "normal_day")
    ended = sim.advance(START + 21 * 60_000)
    end = [s for s in ended if s.type == "workout"]
    assert len(end) == 1 and end[0].event == "end" and end[0].start_ms == START + 60_000
    assert end[0].scenario == "workout"


def test_sleep_scenario_reports_stages_and_in_bed_when_woken() -> None:
    sim = Simulator(START, seed=6, subjects=["default"])
    sim.set_scenario("default", "sleep")
    asleep = sim.advance(START + 2 * HOUR)
    assert all(s.value == 0 for s in asleep if s.type == "steps")
    stages = [s for s in asleep if s.type == "sleep_analysis"]
    assert stages and stages[0].value == "awake" and stages[0].start_ms == START
    sim.set_scenario("default", "normal_day")
    woken = [s for s in sim.advance(START + 2 * HOUR + 1000) if s.type == "sleep_analysis"]
    assert [s.value for s in woken][-1] == "inBed"
    assert woken[-1].start_ms == START and woken[-1].time_ms == START + 2 * HOUR


def test_unknown_subject_or_scenario_changes_nothing() -> None:
    sim = Simulator(START, seed=7, subjects=["default"])
    reference = Simulator(START, seed=7, subjects=["default"])
    with pytest.raises(UnknownSubject, match="unknown subject 'nobody'; valid: default"):
        sim.set_scenario("nobody", "afib")
    with pytest.raises(UnknownScenario, match="unknown scenario 'afibb'; valid: normal_day"):
        sim.set_scenario("default", "afibb")
    assert isinstance(UnknownSubject("x"), LookupError)
    assert isinstance(UnknownScenario("x"), ValueError)
    assert _key(sim.advance(START + HOUR)) == _key(reference.advance(START + HOUR))


def test_scenarios_are_listed_with_descriptions() -> None:
    required = {
        "normal_day",
        "workout",
        "sleep",
        "stress",
        "fever",
        "afib",
        "bradycardia",
        "tachycardia",
        "hypoglycemia",
        "sleep_apnea",
    }
    assert required <= set(SCENARIOS)
    assert all(description and "\n" not in description for description in SCENARIOS.values())


def test_subject_names() -> None:
    assert subject_names("1") == ["default"]
    assert subject_names("3") == ["default", "subject-2", "subject-3"]
    assert subject_names(" alice, bob ") == ["alice", "bob"]
    for bad in ("0", "1001", "", "alice,,bob", "a b", "alice,alice", "-x"):
        with pytest.raises(ValueError, match="subjects"):
            subject_names(bad)


def test_custom_cadences() -> None:
    sim = Simulator(START, seed=1, subjects=["default"], cadences={"heart_rate": 0.5, "steps": 10})
    batch = sim.advance(START + 20_000)
    assert [s.time_ms - START for s in batch if s.type == "heart_rate"] == list(
        range(0, 20_001, 500)
    )
    assert [s.time_ms - START for s in batch if s.type == "steps"] == [10_000, 20_000]
    for bad in ({"heart_rate": 0}, {"heart_rate": float("nan")}, {"sleep_analysis": 60}, {"hr": 1}):
        with pytest.raises(ValueError, match="cadence"):
            Simulator(START, seed=1, subjects=["default"], cadences=bad)


def test_parse_cadences() -> None:
    assert parse_cadences("") == {}
    assert parse_cadences("heart_rate=0.5, steps=30") == {"heart_rate": 0.5, "steps": 30.0}
    for bad in ("heart_rate", "heart_rate=fast", "hr=1", "steps=0", "workout=60"):
        with pytest.raises(ValueError, match="cadence"):
            parse_cadences(bad)
