"""The hub and its buffer: numbering, eviction, resume points, lag and wake-ups."""

from __future__ import annotations

import pytest
import trio

from biomock import sse
from biomock.buffer import RingBuffer
from biomock.errors import HubClosed, SubscriberLagged, TooManySubscribers
from biomock.filter import Filter
from biomock.hub import Hub
from biomock.sample import Sample

BASE = 1_000_000


def samples(n: int, start: int = 0) -> list[Sample]:
    return [Sample("heart_rate", 60 + i, 1000 * (start + i), "count/min") for i in range(n)]


def make_hub(capacity: int = 10, max_subscribers: int = 10) -> Hub:
    return Hub(capacity=capacity, id_base=BASE, max_subscribers=max_subscribers, retry_ms=3000)


class Numbered:
    def __init__(self, id: int) -> None:
        self.id = id


def test_ring_keeps_the_newest() -> None:
    ring: RingBuffer[Numbered] = RingBuffer(3)
    assert ring.oldest_id is None and ring.newest_id is None and ring.after(0) == []
    for i in range(10, 15):
        ring.append(Numbered(i))
    assert (ring.oldest_id, ring.newest_id, len(ring)) == (12, 14, 3)
    assert [r.id for r in ring.after(0)] == [12, 13, 14]
    assert [r.id for r in ring.after(12)] == [13, 14]
    assert ring.after(14) == []
    assert [r.id for r in ring.latest(2)] == [13, 14]
    assert [r.id for r in ring.latest(9)] == [12, 13, 14]
    with pytest.raises(ValueError):
        ring.append(Numbered(20))


def test_publish_numbers_consecutively_and_encodes_once() -> None:
    hub = make_hub(capacity=5)
    records = hub.publish(samples(7))
    assert [r.id for r in records] == list(range(BASE + 1, BASE + 8))
    assert (hub.buffer.oldest_id, hub.buffer.newest_id) == (BASE + 3, BASE + 7)
    assert records[0].frame() is records[0].frame()
    assert records[0].frame().startswith(b"id: %d\ndata: {" % (BASE + 1))


def test_sse_framing() -> None:
    assert sse.retry(3000) == b"retry: 3000\n\n"
    assert sse.event(b"{}", event_id=5) == b"id: 5\ndata: {}\n\n"
    assert sse.event(b"{}", name="reset") == b"event: reset\ndata: {}\n\n"
    assert sse.KEEPALIVE == b": keepalive\n\n"


async def test_subscriber_takes_everything_new_as_one_chunk() -> None:
    hub = make_hub()
    hub.publish(samples(2))
    with hub.subscribe(Filter()) as sub:
        assert sub.initial == b"retry: 3000\n\n"
        hub.publish(samples(3, start=2))
        hub.publish(samples(1, start=5))
        with trio.fail_after(1):
            await sub.wait()  # two publishes, one pending wake-up
        chunk, events = sub.take()
        assert events == 4
        assert chunk.count(b"id: ") == 4
        assert sub.cursor == BASE + 6
        assert sub.take() == (b"", 0)


async def test_lagging_subscriber_is_told() -> None:
    hub = make_hub(capacity=3)
    with hub.subscribe(Filter()) as sub:
        hub.publish(samples(5))
        with pytest.raises(SubscriberLagged):
            sub.take()


async def test_limit_and_close() -> None:
    hub = make_hub(max_subscribers=1)
    with hub.subscribe(Filter()) as sub:
        with pytest.raises(TooManySubscribers), hub.subscribe(Filter()):
            pass
        hub.close()
        with trio.fail_after(1), pytest.raises(HubClosed):
            await sub.wait()
    with pytest.raises(HubClosed), hub.subscribe(Filter()):
        pass
    assert hub.statistics().subscribers == 0


def test_resume_points() -> None:
    hub = make_hub(capacity=5)
    hub.publish(samples(10))  # ids BASE+1..BASE+10, keeps BASE+6..BASE+10
    cases = {
        BASE + 5: (None, [6, 7, 8, 9, 10]),
        BASE + 8: (None, [9, 10]),
        BASE + 10: (None, []),
        BASE + 2: ("expired", [6, 7, 8, 9, 10]),
        BASE + 11: ("unknown", []),
    }
    for last_id, (reason, replay) in cases.items():
        with hub.subscribe(Filter(), last_event_id=last_id) as sub:
            data = sub.initial
            assert (b"event: reset" in data) == (reason is not None)
            if reason:
                assert reason.encode() in data
            got = [int(line[4:]) - BASE for line in data.split(b"\n") if line.startswith(b"id: ")]
            assert got == replay, last_id
            assert sub.cursor == BASE + 10
