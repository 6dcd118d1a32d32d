"""The generator: pacing against the wall clock, the batch cap, and supervision.

Time is trio's ``autojump_clock``; the wall clock is injected, so every timing
asserted here is exact whatever the load on the machine.
"""

from __future__ import annotations

from collections.abc import Sequence

import trio

from biomock.hub import Record
from biomock.sample import Sample
from tests.serving import WALL_MS, TickSource, serving


async def test_at_speed_1_a_sample_goes_out_within_20_ms_of_its_timestamp(
    autojump_clock: trio.abc.Clock,
) -> None:
    t0 = trio.current_time()

    def wall_clock() -> int:
        # The server starts 700 ms after the whole second its simulated day starts at.
        return WALL_MS + 700 + int((trio.current_time() - t0) * 1000)

    delays: list[int] = []

    def measure(records: Sequence[Record]) -> None:
        delays.extend(wall_clock() - record.sample.time_ms for record in records)

    with trio.fail_after(60):
        async with serving(source=TickSource(WALL_MS), wall_clock=wall_clock) as server:
            server.app.state.hub.listeners.append(measure)
            await trio.sleep(10.5)
    assert all(0 <= delay <= 20 for delay in delays), delays
    assert len(delays) == 11  # WALL_MS + 1 s ... + 11 s, the wall clock being at + 11.2 s


class CrashingSource(TickSource):
    """A TickSource whose ``advance`` fails once, at its third call."""

    def __init__(self) -> None:
        super().__init__(WALL_MS)
        self.calls = 0

    def advance(self, until_ms: int) -> list[Sample]:
        self.calls += 1
        if self.calls == 3:
            raise RuntimeError("simulated bug")
        return super().advance(until_ms)


async def test_a_crashed_generator_is_reported_and_restarted(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(60):
        async with serving(source=CrashingSource()) as server, server.client() as client:
            assert (await client.get("/readyz")).status_code == 200
            await trio.sleep(3.5)  # the third tick crashes; a restart follows 1 s later
            health = await client.get("/healthz")
            ready = await client.get("/readyz")
            metrics_down = (await client.get("/metrics")).text
            await trio.sleep(2)
            healthy = await client.get("/healthz")
            ready_again = await client.get("/readyz")
            ids = [item["id"] for item in (await client.get("/api/history")).json()["items"]]
            metrics = (await client.get("/metrics")).text
    assert health.status_code == 503
    assert health.json() == {"status": "degraded", "generator": "stopped"}
    assert ready.status_code == 503 and ready.json()["error"]["code"] == "unavailable"
    assert "biomock_generator_running 0.0" in metrics_down
    assert healthy.status_code == 200 and healthy.json() == {"status": "ok"}
    assert ready_again.status_code == 200
    assert "biomock_generator_restarts_total 1.0" in metrics
    # Samples went on after the restart, none repeated or skipped.
    assert len(ids) >= 3 and ids == list(range(ids[0], ids[0] + len(ids)))


async def test_a_fast_clock_publishes_capped_batches_and_reports_the_lag(
    autojump_clock: trio.abc.Clock,
) -> None:
    # Ten subjects at speed 100000: a tick of 0.1 s would hold 10,000 s x 10 samples.
    source = TickSource(WALL_MS, subjects=tuple(f"s{i}" for i in range(10)))
    batches: list[int] = []
    with trio.fail_after(120):
        async with serving(source=source) as server, server.client() as client:
            server.app.state.hub.listeners.append(lambda records: batches.append(len(records)))
            await client.post("/api/clock", json={"speed": 100000})
            received = 0

            async def read() -> None:
                nonlocal received
                params = {"subject": "s3"}
                async with client.stream("GET", "/api/stream", params=params) as stream:
                    async for chunk in stream.aiter_bytes():
                        received += chunk.count(b"id: ")

            async with trio.open_nursery() as nursery:
                nursery.start_soon(read)
                await trio.sleep(3)
                clock = (await client.get("/api/clock")).json()
                nursery.cancel_scope.cancel()
            stats = (await client.get("/api/stats")).json()
    assert batches and max(batches) <= 2000
    assert sum(batches) >= 2000 * 25  # about ten full batches a second
    assert clock["lag_s"] > 250_000  # 3 s at speed 100000 asked for 300,000 s
    assert received > 2000  # the stream kept flowing
    assert stats["dropped_slow"] == 0  # a client that keeps reading is not cut
