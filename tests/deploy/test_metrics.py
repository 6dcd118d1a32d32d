"""/metrics over a real server: the numbers move as clients stream, resume and leave."""

from __future__ import annotations

import logging

import httpx
import pytest
import trio
from httpx_sse import aconnect_sse
from prometheus_client.parser import text_string_to_metric_families

from tests.serving import CONFIGURED, serving


async def scrape(client: httpx.AsyncClient) -> dict[str, float]:
    """Every sample of /metrics as ``name{label="v"}`` -> value."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            values[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return values


async def read_ids(
    client: httpx.AsyncClient, n: int, headers: dict[str, str] | None = None
) -> tuple[list[int], list[str]]:
    """The ids of the first ``n`` samples, and the names of every event seen on the way."""
    ids: list[int] = []
    names: list[str] = []
    async with aconnect_sse(client, "GET", "/api/stream", headers=headers or {}) as source:
        async for event in source.aiter_sse():
            if not event.data:
                continue  # the retry: field alone
            names.append(event.event)
            if event.event == "message":
                ids.append(int(event.id))
                if len(ids) == n:
                    break
    return ids, names


async def test_metrics_count_streams_resumes_and_resets(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(60):
        async with serving(source=CONFIGURED, speed=10) as server, server.client() as client:
            before = await scrape(client)
            assert before["biomock_subscribers"] == 0
            assert before['biomock_dropped_subscribers_total{reason="lagged"}'] == 0
            assert before['biomock_dropped_subscribers_total{reason="stalled"}'] == 0
            assert before["biomock_buffer_capacity"] == 10000

            async with aconnect_sse(client, "GET", "/api/stream") as source:
                live = []
                async for event in source.aiter_sse():
                    if event.data:
                        live.append(int(event.id))
                        if len(live) == 5:
                            break
                during = await scrape(client)
            ids, _ = await read_ids(client, 2, {"Last-Event-ID": str(live[0])})
            _, names = await read_ids(client, 1, {"Last-Event-ID": "1"})
            await trio.sleep(0.5)  # the server notices the disconnects
            after = await scrape(client)

    assert during["biomock_subscribers"] == 1
    assert during["biomock_samples_published_total"] >= 5
    assert during["biomock_buffer_samples"] == during["biomock_samples_published_total"]
    assert 0 < during["biomock_buffer_fill_ratio"] < 1
    assert during["biomock_samples_delivered_total"] >= 5
    assert during["biomock_writes_total"] >= 1
    assert during["biomock_bytes_sent_total"] > 0
    assert during["biomock_generator_running"] == 1
    assert during["biomock_generator_ticks_total"] > 0
    assert during["biomock_generator_tick_lag_seconds"] >= 0
    # Live writes feed the histogram: its count is at most the writes (the first,
    # replayed chunk and keepalives are not fan-out).
    fanout = during["biomock_fanout_latency_seconds_count"]
    assert 1 <= fanout <= during["biomock_writes_total"]
    assert during['biomock_fanout_latency_seconds_bucket{le="+Inf"}'] == fanout

    assert ids == live[1:3]  # resumed with no gap and no duplicate
    assert names[0] == "reset"  # id 1 is long gone from the buffer
    assert after["biomock_resume_requests_total"] == 2
    assert after["biomock_reset_events_total"] == 1
    assert after["biomock_subscribers"] == 0
    assert after["process_resident_memory_bytes"] > 0


async def test_stream_connects_and_disconnects_are_logged_with_reason(
    autojump_clock: trio.abc.Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with trio.fail_after(60):
        async with serving(source=CONFIGURED, speed=10) as server, server.client() as client:
            await read_ids(client, 1)
            await client.get("/api/stream", params={"types": "hart_rate", "token": "s3cret"})
            await client.get("/api/stats")
            await trio.sleep(0.5)
    records = [r for r in caplog.records if r.name in {"biomock.access", "biomock.stream"}]
    connected = [r for r in records if r.getMessage().startswith("subscriber connected")]
    left = [r for r in records if r.getMessage().startswith("subscriber disconnected")]
    assert len(connected) == 1 and len(left) == 1
    assert left[0].__dict__["reason"] == "disconnected"
    assert left[0].__dict__["status"] == 200 and left[0].__dict__["duration_ms"] >= 0
    requests = [r for r in records if r.name == "biomock.access"]
    assert [(r.__dict__["path"], r.__dict__["status"]) for r in requests] == [
        ("/api/stream?types=hart_rate&token=s3cret", 400),
        ("/api/stats", 200),
    ]
