"""GET /api/subjects, GET /api/scenarios and POST /api/scenario over a real server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import trio
from httpx_sse import ServerSentEvent, aconnect_sse

from biomock.app import create_app
from biomock.config import Config
from biomock.sample import parse_time
from biomock.sim import SCENARIOS, Simulator
from tests.serving import WALL_MS, serving


def _simulator(*subjects: str) -> Simulator:
    return Simulator(WALL_MS, seed=3, subjects=list(subjects or ("default",)))


async def _history(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/api/history", params={"limit": 10000, **params})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _next_sample(events: AsyncIterator[ServerSentEvent]) -> dict[str, Any]:
    async for event in events:
        if event.data:
            sample: dict[str, Any] = json.loads(event.data)
            return sample
    raise AssertionError("the stream ended")


async def test_subjects_and_scenarios_are_listed(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(30):
        async with serving(source=_simulator("default", "bob")) as server, server.client() as c:
            subjects = (await c.get("/api/subjects")).json()
            scenarios = (await c.get("/api/scenarios")).json()
    assert [s["name"] for s in subjects] == ["default", "bob"]
    for subject in subjects:
        assert subject["scenario"] == "normal_day"
        assert 18 <= subject["age"] <= 80 and subject["sex"] in ("female", "male")
        assert subject["hr_max"] == round(208 - 0.7 * subject["age"], 1)
        assert {"height_cm", "weight_kg", "resting_hr", "fitness"} <= set(subject)
    assert [s["name"] for s in scenarios] == list(SCENARIOS)
    assert all(s["description"] for s in scenarios)


async def test_subjects_list_their_devices_and_time_zone(autojump_clock: trio.abc.Clock) -> None:
    source = Simulator(
        WALL_MS,
        seed=3,
        subjects=["default", "bob"],
        devices={"bob": ("phone", "scale")},
        time_zones={"default": "America/New_York"},
    )
    with trio.fail_after(30):
        async with serving(source=source) as server, server.client() as c:
            subjects = (await c.get("/api/subjects")).json()
            samples = await _history(c, subject="bob")
    default, bob = subjects
    assert default["time_zone"] == "America/New_York"
    assert [d["kind"] for d in default["devices"]] == ["watch", "phone", "cgm", "bp_cuff"]
    assert default["devices"][0] == {
        "name": "Apple Watch",
        "device": "Watch7,1",
        "os": "11.2",
        "kind": "watch",
    }
    assert bob["time_zone"]  # an IANA name drawn for him
    assert [d["kind"] for d in bob["devices"]] == ["phone", "scale"]
    assert {s["source"]["kind"] for s in samples} <= {"phone", "scale"}


async def test_switching_a_scenario_changes_the_stream_within_one_tick(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(30):
        async with serving(source=_simulator("default", "bob")) as server, server.client() as c:
            params = {"types": "heart_rate", "subject": "default"}
            async with aconnect_sse(c, "GET", "/api/stream", params=params) as es:
                events = es.aiter_sse()
                before = [await _next_sample(events)]
                switched = await c.post(
                    "/api/scenario", json={"subject": "default", "scenario": "tachycardia"}
                )
                switched_at = trio.current_time()
                since = parse_time(switched.json()["since"])
                while parse_time(before[-1]["timestamp"]) <= since:
                    before.append(await _next_sample(events))
                after = before.pop()
                waited = trio.current_time() - switched_at
            listed = {s["name"]: s["scenario"] for s in (await c.get("/api/subjects")).json()}
            await trio.sleep(2)
            bob = await _history(c, subject="bob")
    assert switched.status_code == 200
    assert {k: v for k, v in switched.json().items() if k != "since"} == {
        "subject": "default",
        "scenario": "tachycardia",
        "previous": "normal_day",
    }
    assert {sample["scenario"] for sample in before} == {"normal_day"}
    assert after["scenario"] == "tachycardia"
    assert parse_time(after["timestamp"]) <= since + 1000  # the very next tick
    assert waited <= 1.0
    assert listed == {"default": "tachycardia", "bob": "normal_day"}
    assert {item["scenario"] for item in bob} == {"normal_day"}


async def test_bad_switches_are_clear_errors_and_change_nothing(
    autojump_clock: trio.abc.Clock,
) -> None:
    source = _simulator("default")
    cases = [
        ({"subject": "nobody", "scenario": "afib"}, 404, "not_found", None),
        ({"subject": "default", "scenario": "afibb"}, 400, "invalid_parameter", "scenario"),
        ({"subject": "default"}, 400, "invalid_parameter", "scenario"),
        ({"subject": 7, "scenario": "afib"}, 400, "invalid_parameter", "subject"),
        ({"scenario": "afib", "speed": 2}, 400, "invalid_parameter", "speed"),
        ([1, 2], 400, "invalid_json", None),
    ]
    with trio.fail_after(30):
        async with serving(source=source) as server, server.client() as c:
            answers = [await c.post("/api/scenario", json=body) for body, *_ in cases]
            garbled = await c.post(
                "/api/scenario", content=b"{not json", headers={"content-type": "application/json"}
            )
            await trio.sleep(1.5)
            items = await _history(c)
    for response, (_, status, code, parameter) in zip(answers, cases, strict=True):
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert error["code"] == code and error["message"]
        assert error.get("parameter") == parameter
    assert "valid: normal_day, workout" in answers[1].json()["error"]["message"]
    assert "unknown subject 'nobody'" in answers[0].json()["error"]["message"]
    assert garbled.status_code == 400 and garbled.json()["error"]["code"] == "invalid_json"
    assert source.scenario_of("default") == "normal_day"
    assert {item["scenario"] for item in items} == {"normal_day"}


async def test_a_clock_jump_restarts_the_day_without_a_burst(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(30):
        async with serving(source=_simulator("default")) as server, server.client() as c:
            await trio.sleep(2.5)
            jumped = await c.post("/api/clock", json={"now": "2026-01-03T12:00:00.000Z"})
            await trio.sleep(2)
            items = await _history(c, types="heart_rate")
    assert jumped.status_code == 200
    stamps = [item["timestamp"] for item in items]
    assert stamps[:3] == [
        "2026-01-01T00:00:00.000Z",
        "2026-01-01T00:00:01.000Z",
        "2026-01-01T00:00:02.000Z",
    ]
    assert all(stamp.startswith("2026-01-03T12:00:0") for stamp in stamps[3:])
    assert 2 <= len(stamps) - 3 <= 3


def test_the_served_source_is_the_simulator_from_the_settings() -> None:
    app = create_app(Config(seed=4, subjects="alice,bob"), wall_ms=WALL_MS + 1234)
    source = app.state.source
    assert isinstance(source, Simulator)
    assert source.subjects == ["alice", "bob"]
    assert source.start_ms == WALL_MS + 1000  # whole seconds
    again = create_app(Config(seed=4, subjects="alice,bob"), wall_ms=WALL_MS + 1234).state.source
    assert again.advance(WALL_MS + 60_000) == source.advance(WALL_MS + 60_000)


def test_cadences_come_from_the_settings() -> None:
    config = Config(seed=4, cadences="heart_rate=0.5,steps=10")
    source = create_app(config, wall_ms=WALL_MS).state.source
    batch = source.advance(WALL_MS + 10_000)
    assert sum(s.type == "heart_rate" for s in batch) == 21
    assert [s.time_ms - WALL_MS for s in batch if s.type == "steps"] == [10_000]
