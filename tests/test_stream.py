"""/api/stream over a real Hypercorn on port 0, read with httpx-sse."""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx
import pytest
import trio
from httpx_sse import ServerSentEvent, aconnect_sse

from biomock import fastpath, stream
from biomock.formats import FORMATS
from biomock.sample import Sample
from tests.serving import ID_BASE, TickSource, serving


async def read_events(
    client: httpx.AsyncClient,
    n: int,
    *,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> list[ServerSentEvent]:
    """The first ``n`` events with data (reset events included), then disconnect."""
    events: list[ServerSentEvent] = []
    async with aconnect_sse(
        client, "GET", "/api/stream", params=params, headers=dict(headers or {})
    ) as es:
        es.response.raise_for_status()
        async for event in es.aiter_sse():
            if event.data:
                events.append(event)
                if len(events) == n:
                    break
    return events


def ids(events: list[ServerSentEvent]) -> list[int]:
    return [int(event.id) for event in events if event.event == "message"]


async def test_samples_have_the_seed_keys_and_ids(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            async with aconnect_sse(client, "GET", "/api/stream") as es:
                response = es.response
                assert response.status_code == 200
                assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
                assert response.headers["cache-control"] == "no-store"
                assert response.headers["x-accel-buffering"] == "no"
                assert response.headers["access-control-allow-origin"] == "*"
                first = await response.aiter_bytes().__anext__()
                assert first.startswith(b"retry: 3000\n\n")
            events = await read_events(client, 5)
    samples = [json.loads(event.data) for event in events]
    for event, sample in zip(events, samples, strict=True):
        assert list(sample)[:6] == ["value", "timestamp", "type", "id", "unit", "subject"]
        assert sample["type"] == "heart_rate"
        assert sample["unit"] == "count/min"
        assert sample["subject"] == "default"
        assert isinstance(sample["value"], int | float)
        assert sample["timestamp"].endswith("Z") and len(sample["timestamp"]) == 24
        assert int(event.id) == sample["id"]
        assert event.event == "message"
    got = [sample["id"] for sample in samples]
    assert got == sorted(set(got)) and all(b - a == 1 for a, b in itertools.pairwise(got))
    assert all(ID_BASE < i < 2**53 for i in got)


async def test_one_sample_per_second(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            start = trio.current_time()
            events = await read_events(client, 4)
            elapsed = trio.current_time() - start
    stamps = [json.loads(event.data)["timestamp"] for event in events]
    assert len(set(stamps)) == 4
    assert 3.0 <= elapsed <= 5.0


async def test_resume_has_no_gap_and_no_duplicate(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(60):
        async with serving(source=TickSource(subjects=("a", "b"))) as server:
            async with server.client() as client:
                first = await read_events(client, 5)
                await trio.sleep(7)  # samples keep coming while the client is away
                by_header = await read_events(client, 20, headers={"Last-Event-ID": first[-1].id})
                await trio.sleep(3)
                by_query = await read_events(client, 10, params={"last_event_id": by_header[-1].id})
    seen = ids(first) + ids(by_header) + ids(by_query)
    assert seen == list(range(seen[0], seen[0] + len(seen)))


async def test_header_wins_over_query(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            first = await read_events(client, 3)
            resumed = await read_events(
                client,
                1,
                headers={"Last-Event-ID": first[1].id},
                params={"last_event_id": first[0].id},
            )
    assert int(resumed[0].id) == int(first[1].id) + 1


def strictly_increasing(values: list[int]) -> bool:
    return all(a < b for a, b in itertools.pairwise(values))


async def test_resume_with_filter_replays_only_matching(autojump_clock: trio.abc.Clock) -> None:
    source = TickSource(subjects=("a", "b"), types=("heart_rate", "steps"))
    params = {"types": "steps", "subject": "b"}
    with trio.fail_after(30):
        async with serving(source=source) as server, server.client() as client:
            await trio.sleep(5.5)  # five ticks: five matching samples buffered
            buffered = (await client.get("/api/history", params=params)).json()["items"]
            resumed = await read_events(
                client, 7, params=params, headers={"Last-Event-ID": str(ID_BASE)}
            )
    samples = [json.loads(event.data) for event in resumed]
    assert {(s["type"], s["subject"]) for s in samples} == {("steps", "b")}
    got = [s["id"] for s in samples]
    # The replay comes first: exactly the buffered matching samples, then live ones.
    assert len(buffered) == 5
    assert got[:5] == [item["id"] for item in buffered]
    assert strictly_increasing(got)


async def test_reset_when_resume_point_expired(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(30):
        async with serving(buffer_size=5) as server, server.client() as client:
            await trio.sleep(10.5)  # ten samples published, five kept
            events = await read_events(client, 7, headers={"Last-Event-ID": str(ID_BASE + 2)})
    reset, replay = events[0], events[1:]
    assert reset.event == "reset"
    assert reset.id == ""  # does not move the client's position
    assert json.loads(reset.data) == {
        "reason": "expired",
        "oldest_id": ID_BASE + 6,
        "newest_id": ID_BASE + 10,
    }
    assert ids(replay) == list(range(ID_BASE + 6, ID_BASE + 12))


async def test_no_reset_when_resuming_right_before_the_oldest(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(30):
        async with serving(buffer_size=5) as server, server.client() as client:
            await trio.sleep(10.5)
            events = await read_events(client, 5, headers={"Last-Event-ID": str(ID_BASE + 5)})
    assert ids(events) == list(range(ID_BASE + 6, ID_BASE + 11))


async def test_reset_when_resume_point_unknown(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            await trio.sleep(3.5)
            events = await read_events(client, 3, params={"last_event_id": str(ID_BASE + 99)})
    assert events[0].event == "reset"
    assert json.loads(events[0].data) == {
        "reason": "unknown",
        "oldest_id": ID_BASE + 1,
        "newest_id": ID_BASE + 3,
    }
    assert ids(events[1:]) == [ID_BASE + 4, ID_BASE + 5]  # then live


async def test_reset_with_an_empty_buffer_has_null_ids(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            events = await read_events(client, 2, headers={"Last-Event-ID": "12"})
    assert events[0].event == "reset"
    assert json.loads(events[0].data) == {"reason": "expired", "oldest_id": None, "newest_id": None}
    assert ids(events[1:]) == [ID_BASE + 1]


async def test_ids_from_before_a_restart_are_never_new(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            before = await read_events(client, 3)
        async with serving(wall_ms=1_767_225_605_000) as server, server.client() as client:
            after = await read_events(client, 2, headers={"Last-Event-ID": before[-1].id})
    assert after[0].event == "reset" and json.loads(after[0].data)["reason"] == "expired"
    assert int(after[1].id) > int(before[-1].id)


async def test_types_and_subject_filters(autojump_clock: trio.abc.Clock) -> None:
    source = TickSource(subjects=("a", "b"), types=("heart_rate", "steps"))
    with trio.fail_after(30):
        async with serving(source=source) as server, server.client() as client:
            only_steps = await read_events(client, 6, params={"types": "steps"})
            only_b = await read_events(client, 6, params={"subject": "b"})
            both = await read_events(
                client, 4, params={"types": "heart_rate,steps", "subject": "a"}
            )
    steps = [json.loads(e.data) for e in only_steps]
    assert {s["type"] for s in steps} == {"steps"} and {s["subject"] for s in steps} == {"a", "b"}
    assert all("start" in s for s in steps)
    assert {json.loads(e.data)["subject"] for e in only_b} == {"b"}
    assert {json.loads(e.data)["type"] for e in both} == {"heart_rate", "steps"}
    assert {json.loads(e.data)["subject"] for e in both} == {"a"}


async def test_history_parameter_sends_newest_matching_first(
    autojump_clock: trio.abc.Clock,
) -> None:
    source = TickSource(subjects=("a", "b"))
    with trio.fail_after(30):
        async with serving(source=source) as server, server.client() as client:
            await trio.sleep(5.5)  # ten samples: a, b per second
            start = trio.current_time()
            events = await read_events(client, 3, params={"history": "3", "subject": "a"})
            waited = trio.current_time() - start
            stats = (await client.get("/api/stats")).json()
    assert ids(events) == [ID_BASE + 5, ID_BASE + 7, ID_BASE + 9]
    assert waited < 0.5  # history arrives at once, before any live sample
    assert stats["delivered"] == 3


async def test_a_history_of_megabytes_arrives_whole_and_in_order(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Thousands of samples of history, in a format encoded only for this client, go
    out in slices (so other streams are written to between them); the client gets
    exactly the newest ones /api/history lists, in order, then the live ones."""
    source = TickSource(period_ms=10, pad=400)
    with trio.fail_after(60):
        async with serving(source=source) as server, server.client() as client:
            await trio.sleep(30.5)
            params = {"format": "openmhealth", "history": "3000"}
            events = await read_events(client, 3002, params=params)
            listed = (
                await client.get("/api/history", params={"format": "openmhealth", "limit": 3000})
            ).json()["items"]
    got = [json.loads(e.data) for e in events]
    assert got[:3000] == listed
    assert sum(len(e.data) for e in events[:3000]) > 4 * stream.REPLAY_SLICE_BYTES
    newest = int(events[2999].id)
    assert ids(events[3000:]) == [newest + 1, newest + 2]


def test_a_replay_is_cut_into_slices_of_whole_events() -> None:
    frames = [b"id: %d\ndata: %s\n\n" % (i, b"x" * 1000) for i in range(1000)]
    head = b"retry: 3000\n\n"
    slices = list(stream.replay_slices(head, frames))
    assert b"".join(slices) == head + b"".join(frames)
    assert slices[0].startswith(head)
    assert len(slices) == -(-len(b"".join(slices)) // stream.REPLAY_SLICE_BYTES)
    assert all(s.endswith(b"\n\n") and s.count(b"data: ") for s in slices)
    assert max(map(len, slices)) < stream.REPLAY_SLICE_BYTES + 1100
    assert list(stream.replay_slices(head, [])) == [head]


async def test_bad_parameters_are_400_json(autojump_clock: trio.abc.Clock) -> None:
    cases = [
        ({"types": "hart_rate"}, {}, "types"),
        ({"types": "heart_rate,nope"}, {}, "types"),
        ({"subject": "nobody"}, {}, "subject"),
        ({"format": "xml"}, {}, "format"),
        ({"last_event_id": "abc"}, {}, "last_event_id"),
        ({"last_event_id": "-1"}, {}, "last_event_id"),
        ({}, {"Last-Event-ID": "1.5"}, "Last-Event-ID"),
        ({"history": "many"}, {}, "history"),
        ({"history": "10001"}, {}, "history"),
    ]
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            for params, headers, parameter in cases:
                response = await client.get("/api/stream", params=params, headers=headers)
                assert response.status_code == 400, params
                assert response.headers["content-type"] == "application/json"
                assert response.headers["access-control-allow-origin"] == "*"
                error = response.json()["error"]
                assert error["code"] == "invalid_parameter"
                assert error["parameter"] == parameter
                assert error["message"]
            unknown = await client.get("/api/stream", params={"types": "hart_rate"})
            assert "valid: heart_rate" in unknown.json()["error"]["message"]
            post = await client.post("/api/stream")
            assert post.status_code == 405
            assert post.json()["error"]["code"] == "method_not_allowed"
            assert (await client.get("/healthz")).status_code == 200  # still serving


async def test_keepalive_after_heartbeat_of_silence(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(60):
        async with serving() as server, server.client() as client:
            start = trio.current_time()
            async with client.stream("GET", "/api/stream", params={"types": "steps"}) as response:
                chunks = response.aiter_bytes()
                assert await chunks.__anext__() == b"retry: 3000\n\n"
                assert await chunks.__anext__() == b": keepalive\n\n"
                assert (
                    trio.current_time() - start == 15.0
                    or abs(trio.current_time() - start - 15.0) < 0.01
                )
                assert await chunks.__anext__() == b": keepalive\n\n"
                assert abs(trio.current_time() - start - 30.0) < 0.01


async def test_no_keepalive_while_samples_flow(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(60):
        async with serving() as server, server.client() as client:
            async with client.stream("GET", "/api/stream") as response:
                body = b""
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if body.count(b"id: ") >= 20:
                        break
    assert b"keepalive" not in body


async def test_cors_preflight_allows_last_event_id_and_authorization() -> None:
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            response = await client.options(
                "/api/stream",
                headers={
                    "Origin": "http://localhost:5193",
                    "Access-Control-Request-Method": "GET",
                    "Access-Control-Request-Headers": "last-event-id, authorization",
                },
            )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert {"last-event-id", "authorization"} <= allowed
    assert "GET" in response.headers["access-control-allow-methods"]


async def test_cors_allow_list_replaces_star() -> None:
    with trio.fail_after(30):
        async with serving(cors_origins=("https://staging.example",)) as server:
            async with server.client() as client:
                ok = await client.get("/healthz", headers={"Origin": "https://staging.example"})
                other = await client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert ok.headers["access-control-allow-origin"] == "https://staging.example"
    assert "access-control-allow-origin" not in other.headers


async def test_subscriber_limit_is_503_with_retry_after(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(30):
        async with serving(max_subscribers=2) as server, server.client() as client:
            async with client.stream("GET", "/api/stream"), client.stream("GET", "/api/stream"):
                refused = await client.get("/api/stream")
                assert refused.status_code == 503
                assert refused.headers["retry-after"]
                assert refused.json()["error"]["code"] == "too_many_subscribers"
            # once one leaves, a new subscriber is admitted
            events = await read_events(client, 1)
    assert len(events) == 1


async def test_fifty_disconnects_leave_no_subscriber(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(60):
        async with (
            serving() as server,
            server.client(
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=0)
            ) as client,
        ):
            hub = server.app.state.hub
            opened = trio.Event()
            release = trio.Event()
            connected = 0

            async def one() -> None:
                nonlocal connected
                async with client.stream("GET", "/api/stream") as response:
                    chunks = response.aiter_bytes()  # keep it: dropping it closes the response
                    await chunks.__anext__()
                    connected += 1
                    if connected == 50:
                        opened.set()
                    await release.wait()

            async with trio.open_nursery() as nursery:
                for _ in range(50):
                    nursery.start_soon(one)
                await opened.wait()
                assert hub.statistics().subscribers == 50
                release.set()
            with trio.fail_after(1):
                while hub.statistics().subscribers:  # noqa: ASYNC110 (polls the hub's counter)
                    await trio.sleep(0.01)
            stats = (await client.get("/api/stats")).json()
    assert stats["subscribers"] == 0
    assert stats["dropped_slow"] == 0


async def test_head_answers_the_headers_only() -> None:
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            response = await client.head("/api/stream")
            stats = (await client.get("/api/stats")).json()
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert stats["subscribers"] == 0


async def test_concurrent_subscribers_with_other_filters_and_formats(
    autojump_clock: trio.abc.Clock,
) -> None:
    """Each stream gets exactly its own samples, in its own format, over the fast path."""
    source = TickSource(subjects=("a", "b"), types=("heart_rate", "steps"))
    wants: list[tuple[dict[str, str], int]] = [
        ({}, 12),
        ({"types": "steps"}, 6),
        ({"subject": "b"}, 6),
        ({"format": "healthkit"}, 12),
        ({"format": "openmhealth", "types": "steps", "subject": "a"}, 3),
        ({"format": "fhir", "types": "heart_rate"}, 6),
    ]
    got: dict[int, list[ServerSentEvent]] = {}
    with trio.fail_after(60):
        async with serving(source=source) as server, server.client() as client:

            async def read(i: int, params: dict[str, str], n: int) -> None:
                got[i] = await read_events(client, n, params=params)

            async with trio.open_nursery() as nursery:
                for i, (params, n) in enumerate(wants):
                    nursery.start_soon(read, i, params, n)
            assert server.app.state.hub.statistics().writes > 0
            history = [
                (await client.get("/api/history", params=params)).json()["items"]
                for params, _ in wants
            ]
            native = [
                (await client.get("/api/history", params={**params, "format": "native"})).json()
                for params, _ in wants
            ]
    for i, (params, n) in enumerate(wants):
        assert ids(got[i]) == [item["id"] for item in native[i]["items"][:n]], params
        assert [json.loads(e.data) for e in got[i]] == history[i][:n], params
    assert "HKQuantityTypeIdentifierHeartRate" in got[3][0].data
    assert json.loads(got[4][0].data)["header"]["schema_id"]["name"] == "step-count"
    assert json.loads(got[5][0].data)["resourceType"] == "Observation"


async def test_an_encoder_error_stays_with_that_format(
    autojump_clock: trio.abc.Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    healthkit = FORMATS["healthkit"]

    def broken(id: int, sample: Sample) -> Any:
        if sample.value == 2:
            raise ValueError("cannot encode")
        return healthkit(id, sample)

    monkeypatch.setitem(FORMATS, "healthkit", broken)
    got: dict[str, list[ServerSentEvent]] = {}
    with trio.fail_after(60):
        async with serving() as server, server.client() as client:

            async def read(fmt: str, n: int) -> None:
                got[fmt] = await read_events(client, n, params={"format": fmt})

            async with trio.open_nursery() as nursery:
                nursery.start_soon(read, "native", 4)
                nursery.start_soon(read, "healthkit", 3)
            ready = await client.get("/readyz")
            metrics = (await client.get("/metrics")).text
    assert ids(got["native"]) == [ID_BASE + 1, ID_BASE + 2, ID_BASE + 3, ID_BASE + 4]
    assert ids(got["healthkit"]) == [ID_BASE + 1, ID_BASE + 3, ID_BASE + 4]
    assert ready.status_code == 200
    assert 'biomock_contained_errors_total{kind="encode_healthkit"} 1.0' in metrics


async def test_samples_written_directly_keep_the_stream_task_asleep(
    autojump_clock: trio.abc.Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the fast path writes samples, the keepalive is never due: the stream's task
    is not woken every heartbeat only to find out (it would be, 4 times in 60 s)."""
    silences = 0
    last_write = fastpath.DirectDelivery.last_write

    def counting(delivery: fastpath.DirectDelivery) -> float:
        nonlocal silences  # read only when the task woke for a silence
        silences += 1
        return last_write.fget(delivery)  # type: ignore[attr-defined, no-any-return]

    monkeypatch.setattr(fastpath.DirectDelivery, "last_write", property(counting))
    with trio.fail_after(120):
        async with serving() as server, server.client() as client:
            async with client.stream("GET", "/api/stream") as response:
                start = trio.current_time()
                body = b""
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if trio.current_time() - start > 62:
                        break
    assert b"keepalive" not in body
    assert body.count(b"id: ") >= 60
    assert silences == 0
