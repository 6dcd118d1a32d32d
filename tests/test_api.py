"""The JSON routes: history, stats, health, types, clock, errors and the index page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import trio

from tests.serving import ID_BASE, TickSource, serving


async def test_health_and_readiness() -> None:
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            health = await client.get("/healthz")
            ready = await client.get("/readyz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert ready.status_code == 200


async def test_history_pages_oldest_first(autojump_clock: trio.abc.Clock) -> None:
    source = TickSource(subjects=("a", "b"), types=("heart_rate", "steps"))
    with trio.fail_after(30):
        async with serving(source=source) as server, server.client() as client:
            await trio.sleep(5.5)  # 5 ticks x 4 samples
            page1 = (await client.get("/api/history", params={"limit": 8})).json()
            page2 = (
                await client.get(
                    "/api/history", params={"limit": 8, "after_id": page1["next_after_id"]}
                )
            ).json()
            page3 = (
                await client.get(
                    "/api/history", params={"limit": 8, "after_id": page2["next_after_id"]}
                )
            ).json()
            everything = (await client.get("/api/history")).json()
    got = [item["id"] for item in page1["items"] + page2["items"] + page3["items"]]
    assert got == list(range(ID_BASE + 1, ID_BASE + 21))
    assert page1["next_after_id"] == ID_BASE + 8
    assert page3["next_after_id"] is None and len(page3["items"]) == 4
    assert [item["id"] for item in everything["items"]] == got
    assert everything["next_after_id"] is None


async def test_history_filters_and_time_bounds(autojump_clock: trio.abc.Clock) -> None:
    source = TickSource(subjects=("a", "b"), types=("heart_rate", "steps"))
    with trio.fail_after(30):
        async with serving(source=source) as server, server.client() as client:
            await trio.sleep(5.5)

            async def items(**params: Any) -> list[dict[str, Any]]:
                response = await client.get("/api/history", params=params)
                assert response.status_code == 200, response.text
                result: list[dict[str, Any]] = response.json()["items"]
                return result

            steps_b = await items(types="steps", subject="b")
            bounded = await items(
                since="2026-01-01T00:00:02.000Z", until="2026-01-01T00:00:03", subject="a"
            )
            offset = await items(since="2026-01-01T01:00:04+01:00", types="heart_rate")
    assert {(i["type"], i["subject"]) for i in steps_b} == {("steps", "b")} and len(steps_b) == 5
    assert {i["timestamp"] for i in bounded} == {
        "2026-01-01T00:00:02.000Z",
        "2026-01-01T00:00:03.000Z",
    }
    assert len(bounded) == 4
    assert {i["timestamp"] for i in offset} == {
        "2026-01-01T00:00:04.000Z",
        "2026-01-01T00:00:05.000Z",
    }


async def test_history_bad_parameters_are_400() -> None:
    cases = [
        ({"limit": "0"}, "limit"),
        ({"limit": "10001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"after_id": "-3"}, "after_id"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"types": "hart_rate"}, "types"),
        ({"subject": "nobody"}, "subject"),
        ({"format": "csv"}, "format"),
    ]
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            for params, parameter in cases:
                response = await client.get("/api/history", params=params)
                assert response.status_code == 400, params
                assert response.headers["content-type"] == "application/json"
                assert response.json()["error"]["code"] == "invalid_parameter"
                assert response.json()["error"]["parameter"] == parameter


async def test_stats_shape(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(30):
        async with serving(buffer_size=3) as server, server.client() as client:
            await trio.sleep(4.5)
            stats = (await client.get("/api/stats")).json()
    assert stats == {
        "subscribers": 0,
        "published": 4,
        "delivered": 0,
        "dropped_slow": 0,
        "buffer": {
            "size": 3,
            "capacity": 3,
            "oldest_id": ID_BASE + 2,
            "newest_id": ID_BASE + 4,
        },
        "uptime_s": 4.5,
    }


async def test_types_catalogue() -> None:
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            types = (await client.get("/api/types")).json()
    by_name = {t["name"]: t for t in types}
    assert by_name["heart_rate"]["unit"] == "count/min"
    assert by_name["heart_rate"]["loinc"] == "8867-4"
    assert by_name["heart_rate"]["healthkit"] == "HKQuantityTypeIdentifierHeartRate"
    assert by_name["sleep_analysis"]["kind"] == "category"
    assert by_name["steps"]["kind"] == "interval"
    for entry in types:
        assert {"name", "unit", "kind", "healthkit", "loinc", "normal_range"} <= set(entry)


async def test_clock_speed_pause_and_jump(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(60):
        async with serving() as server, server.client() as client:
            clock = (await client.get("/api/clock")).json()
            assert clock == {
                "now": "2026-01-01T00:00:00.000Z",
                "speed": 1.0,
                "paused": False,
                "lag_s": 0.0,
            }
            await trio.sleep(2)
            fast = (await client.post("/api/clock", json={"speed": 60})).json()
            assert fast["now"] == "2026-01-01T00:00:02.000Z" and fast["speed"] == 60
            await trio.sleep(1)
            assert (await client.get("/api/clock")).json()["now"] == "2026-01-01T00:01:02.000Z"
            history = (await client.get("/api/history")).json()["items"]
            assert len(history) == 62  # one heart rate per simulated second

            paused = (await client.post("/api/clock", json={"paused": True})).json()
            await trio.sleep(5)
            assert (await client.get("/api/clock")).json()["now"] == paused["now"]
            assert len((await client.get("/api/history")).json()["items"]) == 62

            jumped = await client.post(
                "/api/clock", json={"now": "2026-01-01T02:00:00.000Z", "paused": False}
            )
            assert jumped.json()["now"] == "2026-01-01T02:00:00.000Z"
            await trio.sleep(1.0 / 60 * 3 + 0.05)
            after = (await client.get("/api/history")).json()["items"]
    # no burst for the skipped two hours: samples resume right after the jump
    new = after[62:]
    assert 1 <= len(new) <= 10
    assert new[0]["timestamp"] >= "2026-01-01T02:00:00.000Z"


async def test_clock_rejects_bad_input_and_keeps_running() -> None:
    cases: list[tuple[Any, int, str, str | None]] = [
        ({"speed": 0}, 400, "invalid_parameter", "speed"),
        ({"speed": -5}, 400, "invalid_parameter", "speed"),
        ({"speed": 100001}, 400, "invalid_parameter", "speed"),
        ({"speed": "fast"}, 400, "invalid_parameter", "speed"),
        ({"speed": True}, 400, "invalid_parameter", "speed"),
        ({"paused": "yes"}, 400, "invalid_parameter", "paused"),
        ({"now": "2020-01-01T00:00:00Z"}, 400, "invalid_parameter", "now"),
        ({"now": "soon"}, 400, "invalid_parameter", "now"),
        # a year the generator could not format a sample in (it died of this once)
        ({"now": "9999-12-31T23:59:58Z"}, 400, "invalid_parameter", "now"),
        ({"now": "3000-01-01T00:00:00Z"}, 400, "invalid_parameter", "now"),
        ({"sped": 2}, 400, "invalid_parameter", "sped"),
        ([1, 2], 400, "invalid_json", None),
    ]
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            for body, status, code, parameter in cases:
                response = await client.post("/api/clock", json=body)
                assert response.status_code == status, body
                error = response.json()["error"]
                assert error["code"] == code
                assert error.get("parameter") == parameter
            garbled = await client.post(
                "/api/clock", content=b"{speed:", headers={"content-type": "application/json"}
            )
            assert garbled.status_code == 400
            assert garbled.json()["error"]["code"] == "invalid_json"
            clock = (await client.get("/api/clock")).json()
            ready = await client.get("/readyz")
    assert clock["speed"] == 1.0 and clock["paused"] is False
    assert ready.status_code == 200  # the generator lives on


async def test_unknown_route_and_method_are_json() -> None:
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            missing = await client.get("/api/nothing")
            wrong = await client.delete("/api/history")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert missing.headers["access-control-allow-origin"] == "*"
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"


async def test_index_without_a_build_links_the_api(tmp_path: Path) -> None:
    with trio.fail_after(30):
        async with serving(static_dir=tmp_path) as server, server.client() as client:
            index = await client.get("/")
    assert index.status_code == 200
    assert "/api/stream" in index.text


async def test_index_serves_the_dashboard_build(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>dashboard</title>")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "app.js").write_text("console.log(1)")
    with trio.fail_after(30):
        async with serving(static_dir=tmp_path) as server, server.client() as client:
            index = await client.get("/")
            asset = await client.get("/assets/app.js")
            escape = await client.get("/../pyproject.toml")
            missing = await client.get("/assets/none.js")
    assert "dashboard" in index.text
    assert asset.status_code == 200 and asset.text == "console.log(1)"
    assert escape.status_code == 404
    assert missing.status_code == 404 and json.loads(missing.text)["error"]["code"] == "not_found"
