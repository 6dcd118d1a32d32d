"""Sessions (API.md "Sessions"): private simulations, over a real server."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import trio
from httpx_sse import aconnect_sse
from trio_websocket import ConnectionClosed, ConnectionRejected, open_websocket_url

from biomock import sessions as sessions_module
from biomock.clock import SimClock
from biomock.hub import Hub
from biomock.models import SessionCreate
from biomock.pacer import Pacer
from biomock.sample import parse_time
from biomock.sim import Simulator
from biomock.simulation import Simulation
from tests.auth.helpers import SECRET, STATIC, auth_serving, bearer, issue, mint
from tests.serving import WALL_MS, serving
from tests.test_ws import ws_url

START = "2026-01-01T00:00:00.000Z"
FORMATS = ("native", "healthkit", "openmhealth", "fhir")


def simulator() -> Simulator:
    return Simulator(WALL_MS, seed=1, subjects=["default"])


async def create(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/sessions", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/api/sessions/{created['id']}"
    return created


async def history_bytes(client: httpx.AsyncClient, session: str, fmt: str) -> bytes:
    response = await client.get(
        "/api/history", params={"session": session, "format": fmt, "limit": 10000}
    )
    assert response.status_code == 200, response.text
    return response.content


async def step(client: httpx.AsyncClient, session: str, now: str, **more: Any) -> None:
    response = await client.post(
        "/api/clock", params={"session": session}, json={"now": now, **more}
    )
    assert response.status_code == 200, response.text


async def samples(source: Any) -> AsyncIterator[dict[str, Any]]:
    """The samples of an SSE stream (httpx-sse also yields the retry: field as an event)."""
    async for event in source.aiter_sse():
        if event.data:
            yield json.loads(event.data)


def assert_unknown_session(response: httpx.Response) -> None:
    assert response.status_code == 404, response.text
    error = response.json()["error"]
    assert error["code"] == "not_found" and error["parameter"] == "session", error


async def test_create_read_list_and_delete(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(300):
        async with serving(source=simulator()) as server, server.client() as client:
            created = await create(
                client, seed=7, subjects=["alice", "bob"], paused=True, start=START, ttl_s=600
            )
            assert re.fullmatch(r"s_[A-Za-z0-9_-]{22}", created["id"])  # 128 random bits
            assert created["seed"] == 7 and created["subjects"] == ["alice", "bob"]
            assert created["start"] == START and created["now"] == START
            assert created["paused"] is True and created["ttl_s"] == 600
            assert created["scenario"] == "normal_day"
            other = await create(client)  # every field optional
            assert other["subjects"] == ["default"] and isinstance(other["seed"], int)
            assert other["id"] != created["id"] and other["ttl_s"] == 3600

            got = await client.get(f"/api/sessions/{created['id']}")
            assert got.status_code == 200 and got.json()["id"] == created["id"]
            listed = (await client.get("/api/sessions")).json()["items"]
            assert {s["id"] for s in listed} == {created["id"], other["id"]}

            deleted = await client.delete(f"/api/sessions/{created['id']}")
            assert deleted.status_code == 204 and deleted.content == b""
            assert_unknown_session(await client.get(f"/api/sessions/{created['id']}"))
            assert_unknown_session(await client.delete(f"/api/sessions/{created['id']}"))
            assert_unknown_session(
                await client.get("/api/history", params={"session": created["id"]})
            )
            metrics = (await client.get("/metrics")).text
            assert "biomock_sessions_active 1.0" in metrics
            assert "biomock_sessions_created_total 2.0" in metrics
            assert "biomock_sessions_deleted_total 1.0" in metrics


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"subjects": []}, "subjects"),
        ({"subjects": ["ok", "not ok"]}, "subjects"),
        ({"subjects": ["a", "a"]}, "subjects"),
        ({"subjects": [f"p{i}" for i in range(11)]}, "subjects"),
        ({"seed": -1}, "seed"),
        ({"seed": "7"}, "seed"),
        ({"scenario": "nope"}, "scenario"),
        ({"start": "yesterday"}, "start"),
        ({"start": "3000-01-01T00:00:00Z"}, "start"),
        ({"speed": 0}, "speed"),
        ({"ttl_s": 0}, "ttl_s"),
        ({"ttl_s": 86401}, "ttl_s"),
        ({"paused": "yes"}, "paused"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_bodies_are_refused_naming_the_field(
    autojump_clock: trio.abc.Clock, body: dict[str, Any], parameter: str
) -> None:
    with trio.fail_after(300):
        async with serving(source=simulator()) as server, server.client() as client:
            response = await client.post("/api/sessions", json=body)
            assert response.status_code == 400, response.text
            error = response.json()["error"]
            assert error["code"] == "invalid_parameter" and error["parameter"] == parameter


async def test_an_unknown_session_is_a_404_on_every_data_and_control_route(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(300):
        async with serving(source=simulator()) as server, server.client() as client:
            for params, headers in (
                ({"session": "s_nope"}, {}),
                ({}, {"X-Biomock-Session": "s_nope"}),
            ):
                for method, path, body in (
                    ("GET", "/api/stream", None),
                    ("GET", "/api/history", None),
                    ("GET", "/api/subjects", None),
                    ("POST", "/api/scenario", {"scenario": "workout"}),
                    ("GET", "/api/clock", None),
                    ("POST", "/api/clock", {"paused": True}),
                    ("GET", "/api/stats", None),
                ):
                    response = await client.request(
                        method, path, params=params, headers=headers, json=body
                    )
                    assert_unknown_session(response)
            with pytest.raises(Exception) as refused:  # the upgrade is refused with the 404
                async with open_websocket_url(ws_url(server, session="s_nope")):
                    pass
            assert "404" in str(refused.value)
            # The default simulation was not touched by any of it.
            clock = (await client.get("/api/clock")).json()
            assert clock["paused"] is False


async def test_a_paused_session_stepped_with_now_publishes_exactly_up_to_now(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(300):
        async with serving(source=simulator()) as server, server.client() as client:
            session = (await create(client, seed=7, subjects=["alice"], paused=True, start=START))[
                "id"
            ]
            await trio.sleep(60)  # paused: nothing is due, whatever the real clock does
            assert json.loads(await history_bytes(client, session, "native"))["items"] == [
                item
                for item in json.loads(await history_bytes(client, session, "native"))["items"]
                if item["timestamp"] == START
            ]
            await step(client, session, "2026-01-01T00:10:00.000Z")
            items = json.loads(await history_bytes(client, session, "native"))["items"]
            assert [item["id"] for item in items] == list(range(1, len(items) + 1))
            assert {item["subject"] for item in items} == {"alice"}
            assert max(item["timestamp"] for item in items) == "2026-01-01T00:10:00.000Z"
            heart = [item for item in items if item["type"] == "heart_rate"]
            assert len(heart) == 601  # one a second, from 00:00:00 to 00:10:00 inclusive

            await step(client, session, "2026-01-01T00:20:00.000Z")
            later = json.loads(await history_bytes(client, session, "native"))["items"]
            assert later[: len(items)] == items and later[len(items)]["id"] == len(items) + 1
            assert max(item["timestamp"] for item in later) == "2026-01-01T00:20:00.000Z"
            clock = (await client.get("/api/clock", params={"session": session})).json()
            assert clock == {
                "now": "2026-01-01T00:20:00.000Z",
                "speed": 1.0,
                "paused": True,
                "lag_s": 0.0,
            }
            # The default simulation has its own ids, clock and subjects.
            default = (await client.get("/api/history", params={"limit": 1})).json()["items"]
            assert default and default[0]["subject"] == "default" and default[0]["id"] > 10**15


async def test_same_body_and_clock_steps_give_the_same_bytes_in_every_format(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Two sessions stepped alike match byte for byte, and so does one that was watched
    while it ran (the samples do not depend on anyone reading them)."""
    body = {"seed": 42, "subjects": ["alice", "bob"], "start": START, "scenario": "workout"}
    with trio.fail_after(300):
        async with serving(source=simulator()) as server, server.client() as client:
            paused = [(await create(client, **body, paused=True))["id"] for _ in range(2)]
            for session in paused:
                await step(client, session, "2026-01-01T00:05:00.000Z")
                switched = await client.post(
                    "/api/scenario",
                    params={"session": session},
                    json={"subject": "bob", "scenario": "sleep"},
                )
                assert switched.status_code == 200, switched.text
                await step(client, session, "2026-01-01T00:17:30.000Z")
                await step(client, session, "2026-01-01T01:00:00.000Z")

            running = [(await create(client, **body, speed=60))["id"] for _ in range(2)]
            async with aconnect_sse(
                client, "GET", "/api/stream", params={"session": running[0]}
            ) as watched:
                items = samples(watched)  # kept: a dropped generator would close the stream
                first = await anext(items)
                assert first["id"] == 1
                await trio.sleep(30)  # 30 simulated minutes, watched by one and not the other
                stats = (await client.get("/api/stats", params={"session": running[0]})).json()
                assert stats["subscribers"] == 1
                generator = server.app.state.sessions.get_now(running[0], None).simulation.generator
                assert generator.ticks >= 30  # it ticked while watched
                for session in running:
                    await step(client, session, "2026-01-01T01:00:00.000Z", paused=True)

            for fmt in FORMATS:
                native = await history_bytes(client, paused[0], fmt)
                assert json.loads(native)["items"], fmt
                assert await history_bytes(client, paused[1], fmt) == native, fmt
                ran = await history_bytes(client, running[0], fmt)
                assert json.loads(ran)["items"], fmt
                assert await history_bytes(client, running[1], fmt) == ran, fmt


async def test_twenty_sessions_stream_at_once_each_its_own(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Each session sees only its own subjects; a scenario switch in one is invisible to
    the others and to the default simulation."""
    with trio.fail_after(300):
        async with serving(source=simulator()) as server, server.client() as client:
            sessions = [
                (await create(client, seed=i, subjects=[f"p{i}"], speed=10))["id"]
                for i in range(20)
            ]
            switched = await client.post(
                "/api/scenario",
                params={"session": sessions[0]},
                json={"subject": "p0", "scenario": "workout"},
            )
            assert switched.status_code == 200, switched.text
            seen: dict[int, list[dict[str, Any]]] = {}

            async def read(i: int) -> None:
                async with aconnect_sse(
                    client, "GET", "/api/stream", params={"session": sessions[i], "history": 5}
                ) as source:
                    items: list[dict[str, Any]] = []
                    async for item in samples(source):
                        items.append(item)
                        if len(items) == 40:
                            break
                    seen[i] = items

            async with trio.open_nursery() as nursery:
                for i in range(20):
                    nursery.start_soon(read, i)
            for i, items in seen.items():
                assert {item["subject"] for item in items} == {f"p{i}"}, i
                scenarios = {item["scenario"] for item in items[10:]}
                assert scenarios == ({"workout"} if i == 0 else {"normal_day"}), (i, scenarios)
            assert len(seen) == 20
            default = (await client.get("/api/subjects")).json()
            assert [s["scenario"] for s in default] == ["normal_day"]
            other = (await client.get("/api/subjects", params={"session": sessions[1]})).json()
            assert [(s["name"], s["scenario"]) for s in other] == [("p1", "normal_day")]


async def test_deleting_a_session_ends_its_streams_cleanly(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(300):
        async with serving(source=simulator()) as server, server.client() as client:
            session = (await create(client, subjects=["alice"], speed=10))["id"]
            sse_ended = trio.Event()
            ws_closed: list[int | None] = []

            async def read_sse() -> None:
                async with aconnect_sse(
                    client, "GET", "/api/stream", params={"session": session}
                ) as source:
                    async for _ in source.aiter_sse():
                        pass  # the response ends: no error, no reset
                sse_ended.set()

            async def read_ws() -> None:
                async with open_websocket_url(ws_url(server, session=session)) as ws:
                    try:
                        while True:
                            message = json.loads(await ws.get_message())
                            if message["type"] == "samples":
                                ws_items.extend(message["items"])
                    except ConnectionClosed as closed:
                        ws_closed.append(closed.reason.code)

            ws_items: list[dict[str, Any]] = []
            async with trio.open_nursery() as nursery:
                nursery.start_soon(read_sse)
                nursery.start_soon(read_ws)
                await trio.sleep(5)
                assert ws_items and {item["subject"] for item in ws_items} == {"alice"}
                assert ws_items[-1]["id"] < 1000  # the session's own ids, from 1
                stats = (await client.get("/api/stats", params={"session": session})).json()
                assert stats["subscribers"] == 2 and stats["published"] > 0
                assert (await client.delete(f"/api/sessions/{session}")).status_code == 204
            assert sse_ended.is_set()
            assert ws_closed == [1000]
            assert_unknown_session(await client.get("/api/stream", params={"session": session}))


async def test_a_session_expires_after_its_ttl_of_inactivity(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(300):
        async with serving(source=simulator()) as server, server.client() as client:
            quiet = (await create(client, ttl_s=10))["id"]
            used = (await create(client, ttl_s=10))["id"]
            watched = (await create(client, ttl_s=10, speed=10))["id"]
            async with aconnect_sse(
                client, "GET", "/api/stream", params={"session": watched}
            ) as source:
                events = samples(source)
                for _ in range(6):
                    await trio.sleep(4)
                    # A request is activity, and so is an open stream.
                    assert (await client.get("/api/clock", params={"session": used})).is_success
                    await anext(events)
                assert_unknown_session(await client.get(f"/api/sessions/{quiet}"))
                assert (await client.get(f"/api/sessions/{watched}")).status_code == 200
            await trio.sleep(9)  # the stream's end is its last activity
            assert (await client.get(f"/api/sessions/{watched}")).status_code == 200
            await trio.sleep(10.5)
            assert_unknown_session(await client.get(f"/api/sessions/{watched}"))
            assert_unknown_session(await client.get(f"/api/sessions/{used}"))
            metrics = (await client.get("/metrics")).text
            assert "biomock_sessions_expired_total 3.0" in metrics


async def test_the_session_after_the_limit_gets_503(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(300):
        async with serving(source=simulator()) as server, server.client() as client:
            ids = [(await create(client, paused=True))["id"] for _ in range(100)]
            refused = await client.post("/api/sessions", json={})
            assert refused.status_code == 503
            assert refused.json()["error"]["code"] == "too_many_sessions"
            assert refused.headers["retry-after"]
            assert (await client.delete(f"/api/sessions/{ids[0]}")).status_code == 204
            await create(client)


async def test_an_idle_session_does_not_tick(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(300):
        async with serving(source=simulator()) as server, server.client() as client:
            session = (await create(client, subjects=["alice"]))["id"]
            generator = server.app.state.sessions.get_now(session, None).simulation.generator
            await trio.sleep(120)
            assert generator.ticks == 0  # nobody watched: no tick, no timer
            items = (await client.get("/api/history", params={"session": session})).json()
            assert len([i for i in items["items"] if i["type"] == "heart_rate"]) >= 120
            async with aconnect_sse(
                client, "GET", "/api/stream", params={"session": session}
            ) as source:
                await anext(samples(source))
            assert generator.ticks > 0


async def test_with_auth_a_session_belongs_to_its_token(
    autojump_clock: trio.abc.Clock, tmp_path: Path
) -> None:
    alice = bearer(mint(scope="read control", sub="alice"))
    bob = bearer(mint(scope="read control", sub="bob"))
    admin = bearer(mint(scope="admin", sub="ops"))
    reader = bearer(mint(scope="read", sub="alice"))
    with trio.fail_after(300):
        async with auth_serving(tmp_path) as server, server.client() as client:
            refused = await client.post("/api/sessions", json={}, headers=reader)
            assert refused.status_code == 403  # creating needs control
            mine = await client.post("/api/sessions", json={"paused": True}, headers=alice)
            assert mine.status_code == 201
            session = mine.json()["id"]
            for headers in (alice, reader, admin):
                got = await client.get("/api/history", params={"session": session}, headers=headers)
                assert got.status_code == 200, got.text
            for method, path in (
                ("GET", f"/api/sessions/{session}"),
                ("DELETE", f"/api/sessions/{session}"),
                ("GET", f"/api/history?session={session}"),
                ("GET", f"/api/stream?session={session}"),
                ("GET", f"/api/clock?session={session}"),
            ):
                assert_unknown_session(await client.request(method, path, headers=bob))
            assert (await client.get("/api/sessions", headers=bob)).json() == {"items": []}
            listed = (await client.get("/api/sessions", headers=admin)).json()["items"]
            assert [s["id"] for s in listed] == [session]
            assert (
                await client.delete(f"/api/sessions/{session}", headers=admin)
            ).status_code == 204


async def test_a_browser_may_send_the_session_header_and_delete_a_session(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(30):
        async with serving(source=simulator()) as server, server.client() as client:
            response = await client.options(
                "/api/sessions/s_x",
                headers={
                    "Origin": "http://localhost:5193",
                    "Access-Control-Request-Method": "DELETE",
                    "Access-Control-Request-Headers": "x-biomock-session",
                },
            )
    assert response.status_code == 204
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "x-biomock-session" in allowed
    assert "DELETE" in response.headers["access-control-allow-methods"]


async def test_shutdown_ends_a_sessions_streams_cleanly(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(60):
        async with serving(source=simulator(), graceful_timeout_s=3) as server:
            async with server.client() as client:
                session = (await create(client, subjects=["alice"], speed=10))["id"]
                ended: list[str] = []

                async def read_sse() -> None:
                    async with aconnect_sse(
                        client, "GET", "/api/stream", params={"session": session}
                    ) as source:
                        async for _ in samples(source):
                            pass
                    ended.append("sse")

                async def read_ws() -> None:
                    async with open_websocket_url(ws_url(server, session=session)) as ws:
                        try:
                            while True:
                                await ws.get_message()
                        except ConnectionClosed as closed:
                            ended.append(f"ws {closed.reason.code}")

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(read_sse)
                    nursery.start_soon(read_ws)
                    await trio.sleep(3)
                    server.stop.set()
        assert sorted(ended) == ["sse", "ws 1001"]


async def test_sessions_streams_and_the_default_ones_share_the_subscriber_limit(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(60):
        async with serving(source=simulator(), max_subscribers=2) as server:
            async with server.client() as client:
                session = (await create(client, speed=10))["id"]
                async with aconnect_sse(client, "GET", "/api/stream") as default:
                    default_items = samples(default)  # kept: dropped, it would end the stream
                    await anext(default_items)
                    async with aconnect_sse(
                        client, "GET", "/api/stream", params={"session": session}
                    ) as mine:
                        mine_items = samples(mine)
                        await anext(mine_items)
                        for params in ({}, {"session": session}):
                            refused = await client.get("/api/stream", params=params)
                            assert refused.status_code == 503, params
                            error = refused.json()["error"]
                            assert error["code"] == "too_many_subscribers"
                    # One closed: there is room again, in either simulation.
                    async with aconnect_sse(
                        client, "GET", "/api/stream", params={"session": session}
                    ) as again:
                        await anext(samples(again))


async def test_a_websocket_resubscribes_within_its_session(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(60):
        async with serving(source=simulator()) as server, server.client() as client:
            session = (await create(client, subjects=["alice", "bob"], speed=10))["id"]
            async with open_websocket_url(ws_url(server, session=session)) as ws:
                await ws.send_message(json.dumps({"type": "subscribe", "subject": "default"}))
                refused = {}
                while refused.get("type") != "error":
                    refused = json.loads(await ws.get_message())
                assert refused["error"]["parameter"] == "subject"  # not the default's subjects
                await ws.send_message(json.dumps({"type": "subscribe", "subject": "bob"}))
                bob: list[dict[str, Any]] = []
                while len(bob) < 20:
                    message = json.loads(await ws.get_message())
                    if message["type"] == "samples":
                        bob.extend(message["items"])
                # What was sent before the resubscription may hold alice; the rest is bob's.
                assert {item["subject"] for item in bob[-10:]} == {"bob"}


async def newest_sample_ms(client: httpx.AsyncClient, session: str) -> int:
    """The timestamp of the newest sample a session has published."""
    after = None
    newest = 0
    while True:
        params: dict[str, Any] = {"session": session, "limit": 10000}
        if after is not None:
            params["after_id"] = after
        page = (await client.get("/api/history", params=params)).json()
        if page["items"]:
            newest = max(newest, *(parse_time(i["timestamp"]) for i in page["items"]))
        after = page["next_after_id"]
        if after is None:
            return newest


async def test_concurrent_catch_ups_keep_the_clock_at_the_newest_sample(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(300):
        async with serving(source=simulator()) as server, server.client() as client:
            session = (await create(client, speed=100000, start=START))["id"]
            await trio.sleep(1)  # unwatched: a day of simulated time is due
            async with trio.open_nursery() as nursery:
                for _ in range(4):
                    nursery.start_soon(
                        partial(client.get, "/api/history", params={"session": session})
                    )
            # Every reader caught up: pause, then compare what was published with the clock.
            paused = await client.post(
                "/api/clock", params={"session": session}, json={"paused": True}
            )
            assert paused.status_code == 200, paused.text
            now_ms = parse_time(paused.json()["now"])
            newest = await newest_sample_ms(client, session)
            assert newest <= now_ms, "a sample was published past the clock"
            assert now_ms - newest < 60_000, "the clock fell behind further than was published"


async def test_concurrent_clock_jumps_never_move_the_clock_back(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(300):
        async with serving(source=simulator(), max_batch=50) as server, server.client() as client:
            session = (await create(client, paused=True, start=START))["id"]
            answers: list[httpx.Response] = []

            async def jump(body: dict[str, Any]) -> None:
                answers.append(
                    await client.post("/api/clock", params={"session": session}, json=body)
                )

            async with trio.open_nursery() as nursery:
                # Staying paused, it runs through six hours of samples: hundreds of batches.
                nursery.start_soon(jump, {"now": "2026-01-01T06:00:00.000Z"})
                nursery.start_soon(jump, {"now": "2026-01-01T07:00:00.000Z", "paused": False})
            # Whichever came first, the clock ends at the later time; the earlier time is
            # applied or refused as a jump backwards, never an internal error.
            for answer in answers:
                if answer.status_code != 200:
                    assert answer.status_code == 400, answer.text
                    assert answer.json()["error"]["parameter"] == "now", answer.text
            clock = (await client.get("/api/clock", params={"session": session})).json()
            assert parse_time(clock["now"]) >= parse_time("2026-01-01T07:00:00.000Z"), clock


async def test_a_jump_a_session_made_is_not_made_again_by_its_generator(
    autojump_clock: trio.abc.Clock,
) -> None:
    # A jump taken again later would drop what was produced since (the pacer's backlog).
    start = parse_time(START)
    source = Simulator(start, seed=1, subjects=["alice"])
    simulation = Simulation(
        hub=Hub(capacity=1000, id_base=0, max_subscribers=10, retry_ms=1000),
        source=source,
        clock=SimClock(start),
        pacer=Pacer(source, 10, start),
    )
    simulation.clock.start()
    with trio.fail_after(10):
        await simulation.set_clock(now_ms=start + 3_600_000)
    assert simulation.clock.take_jump() is None


async def test_a_jwt_named_like_a_static_token_does_not_own_its_sessions(
    autojump_clock: trio.abc.Clock, tmp_path: Path
) -> None:
    static = bearer(STATIC["control"])  # a static token named "control"
    impostor = bearer(mint(scope="read control", sub="control"))
    no_sub = mint(scope="read control admin")
    with trio.fail_after(300):
        async with auth_serving(tmp_path) as server, server.client() as client:
            mine = await client.post("/api/sessions", json={"paused": True}, headers=static)
            assert mine.status_code == 201, mine.text
            session = mine.json()["id"]
            assert_unknown_session(await client.get(f"/api/sessions/{session}", headers=impostor))
            assert_unknown_session(
                await client.delete(f"/api/sessions/{session}", headers=impostor)
            )
            assert (await client.get("/api/sessions", headers=impostor)).json() == {"items": []}
            # Its own session is its own, though.
            theirs = await client.post("/api/sessions", json={}, headers=impostor)
            assert theirs.status_code == 201, theirs.text
            listed = (await client.get("/api/sessions", headers=impostor)).json()["items"]
            assert [s["id"] for s in listed] == [theirs.json()["id"]]

            # A JWT without sub names nobody: it may not create a session.
            payload = jwt.decode(no_sub, options={"verify_signature": False})
            del payload["sub"]
            anonymous = bearer(issue(jwt.encode(payload, SECRET, algorithm="HS256")))
            refused = await client.post("/api/sessions", json={}, headers=anonymous)
            assert refused.status_code == 403, refused.text
            error = refused.json()["error"]
            assert error["code"] == "forbidden" and "sub" in error["message"], error


async def test_an_empty_session_is_a_404_not_the_default_simulation(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(60):
        async with serving(source=simulator()) as server, server.client() as client:
            for path in ("/api/history", "/api/clock", "/api/stream"):
                assert_unknown_session(await client.get(f"{path}?session="))
                assert_unknown_session(await client.get(path, headers={"X-Biomock-Session": ""}))
            assert (await client.get("/api/clock")).status_code == 200  # neither: the default


async def test_a_stream_opening_as_its_session_is_deleted_is_told_the_session_is_gone(
    autojump_clock: trio.abc.Clock,
) -> None:
    statuses: dict[str, tuple[int, str]] = {}
    with trio.fail_after(60):
        async with serving(source=simulator()) as server, server.client() as client:
            session = (await create(client, speed=10, start=START))["id"]
            simulation = server.app.state.sessions.get_now(session, None).simulation

            async def open_sse() -> None:
                async with client.stream(
                    "GET", "/api/stream", params={"session": session}
                ) as response:
                    body = b"".join([chunk async for chunk in response.aiter_bytes()])
                statuses["sse"] = (response.status_code, body.decode())

            async def open_ws() -> None:
                try:
                    async with open_websocket_url(ws_url(server, session=session)) as ws:
                        while True:
                            await ws.get_message()
                except ConnectionClosed as closed:
                    statuses["ws"] = (closed.reason.code, closed.reason.reason or "")
                except ConnectionRejected as rejected:
                    statuses["ws"] = (rejected.status_code, (rejected.body or b"").decode())

            async with trio.open_nursery() as nursery:
                # Both streams have found the session and wait to catch it up (a catch-up
                # of another request is under way) when it is deleted.
                async with simulation.advancing:
                    nursery.start_soon(open_sse)
                    nursery.start_soon(open_ws)
                    await trio.sleep(1)
                    assert (await client.delete(f"/api/sessions/{session}")).status_code == 204
    for kind in ("sse", "ws"):
        status, body = statuses[kind]
        assert status == 404, (kind, status, body)
        error = json.loads(body)["error"]
        assert error["code"] == "not_found" and error["parameter"] == "session", error


async def test_a_session_whose_creation_is_cancelled_is_not_left_behind(
    autojump_clock: trio.abc.Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def slow_to_start(simulation: Simulation, *, task_status: Any) -> None:
        await trio.sleep(10)
        task_status.started()

    with trio.fail_after(60):
        async with serving(source=simulator()) as server, server.client() as client:
            registry = server.app.state.sessions
            monkeypatch.setattr(sessions_module, "run_lazy", slow_to_start)
            with trio.move_on_after(1):  # as when the request is cancelled
                await registry.create(SessionCreate(), None)
            monkeypatch.undo()
            assert (await client.get("/api/sessions")).json() == {"items": []}
            metrics = (await client.get("/metrics")).text
            assert "biomock_sessions_active 0.0" in metrics
            assert "biomock_sessions_created_total 0.0" in metrics
            assert (await client.post("/api/sessions", json={})).status_code == 201


async def test_metrics_count_the_streams_of_sessions(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(60):
        async with serving(source=simulator()) as server, server.client() as client:
            session = (await create(client, speed=10))["id"]
            async with aconnect_sse(
                client, "GET", "/api/stream", params={"session": session}
            ) as source:
                items = samples(source)
                await anext(items)
                metrics = (await client.get("/metrics")).text
    assert "biomock_session_subscribers 1.0" in metrics
    assert "biomock_subscribers 0.0" in metrics  # the default simulation's
