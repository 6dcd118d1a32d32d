"""The subscription core on its own: one pump, any transport (here one that records)."""

from __future__ import annotations

import json

import trio

from biomock.filter import Filter
from biomock.hub import Hub, Record, Subscription
from biomock.params import StreamRequest
from biomock.sample import Sample
from biomock.subscriber import Retarget, Transport, pump
from biomock.subscription import Framing
from biomock.watchdog import StallWatchdog

BASE = 1_000_000
HEARTBEAT_S = 5.0

JSON_LINES = Framing("lines", Record.json, b"\n".join, lambda data, _id: data)
"""A framing no real transport uses: the core must not care which it is given."""


def samples(n: int, type_: str = "heart_rate") -> list[Sample]:
    return [Sample(type_, 60 + i, 1000 * i, "count/min") for i in range(n)]


class Recorder(Transport):
    """Writes go into a list, with the time they were made."""

    framing = JSON_LINES

    def __init__(self) -> None:
        self.writes: list[tuple[float, bytes]] = []
        self.inbox: list[Retarget] = []
        self.finished = False

    async def write_initial(self, sub: Subscription) -> int:
        data = b"\n".join(r.json(sub.filter.format) or b"" for r in sub.replay)
        if data:
            await self.write(data)
        return len(data)

    async def write(self, chunk: bytes) -> None:
        self.writes.append((trio.current_time(), chunk))
        await trio.lowlevel.checkpoint()

    def heartbeat(self) -> bytes:
        return b"beat"

    async def answer(self, watchdog: StallWatchdog) -> Retarget | None:
        return self.inbox.pop(0) if self.inbox else None

    def ends_with_source(self) -> bool:
        return self.finished

    def ids(self) -> list[int]:
        return [json.loads(line)["id"] for _, chunk in self.writes for line in chunk.split(b"\n")]


def make_hub(capacity: int = 100) -> Hub:
    return Hub(capacity=capacity, id_base=BASE, max_subscribers=10, retry_ms=3000)


def watchdog(hub: Hub) -> StallWatchdog:
    return hub.stalls.watchdog(60, None)


async def test_any_framing_resumes_takes_and_heartbeats(autojump_clock: trio.abc.Clock) -> None:
    hub = make_hub()
    hub.publish(samples(3))
    transport = Recorder()
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            with hub.subscribe(Filter(), last_event_id=BASE + 1) as sub:

                async def run() -> None:
                    await pump(hub, sub, transport, watchdog(hub), heartbeat_s=HEARTBEAT_S)

                nursery.start_soon(run)
                await trio.sleep(1)
                hub.publish(samples(2))
                await trio.sleep(HEARTBEAT_S + 0.5)  # silence: one heartbeat
                hub.publish(samples(1))
                await trio.sleep(1)
                nursery.cancel_scope.cancel()
    beats = [at for at, chunk in transport.writes if chunk == b"beat"]
    transport.writes = [(at, chunk) for at, chunk in transport.writes if chunk != b"beat"]
    assert transport.ids() == list(range(BASE + 2, BASE + 7))
    assert beats == [1 + HEARTBEAT_S]
    assert hub.statistics().delivered == 5


async def test_stops_for_lag_shutdown_retarget_and_a_drained_source(
    autojump_clock: trio.abc.Clock,
) -> None:
    async def outcome(hub: Hub, transport: Recorder, act: str) -> object:
        with hub.subscribe(Filter()) as sub, trio.fail_after(60):
            async with trio.open_nursery() as nursery:
                result: list[object] = []

                async def run() -> None:
                    result.append(await pump(hub, sub, transport, watchdog(hub), heartbeat_s=5))

                nursery.start_soon(run)
                await trio.sleep(1)
                if act == "lag":
                    hub.publish(samples(20))  # more than the buffer holds, before any take
                elif act == "close":
                    hub.close()
                elif act == "retarget":
                    transport.inbox.append(
                        Retarget(StreamRequest(Filter(types=frozenset()), None, 0))
                    )
                    sub.notify()
            return result[0]

    assert await outcome(make_hub(capacity=10), Recorder(), "lag") == "lagged"
    assert await outcome(make_hub(), Recorder(), "close") == "shutdown"
    retarget = await outcome(make_hub(), Recorder(), "retarget")
    assert isinstance(retarget, Retarget)
    drained = Recorder()
    drained.finished = True
    assert await outcome(make_hub(), drained, "silence") == "finished"
