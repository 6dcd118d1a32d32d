"""The hub and its buffer: numbering, eviction, resume points, lag and wake-ups."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

import pytest
import trio

from biomock import sse
from biomock.buffer import RingBuffer
from biomock.errors import HubClosed, SubscriberLagged, TooManySubscribers
from biomock.filter import Filter
from biomock.formats import FORMATS
from biomock.hub import ENCODE_SLICE, Hub, Record, Subscription
from biomock.records import Faults
from biomock.sample import Sample
from biomock.subscription import Shared

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


def direct_taker(sub: Subscription, got: list[bytes]) -> None:
    """Deliver on publish the way the fast path does: take inside ``publish``."""

    def deliver() -> bool:
        got.append(sub.take()[0])
        return True

    sub.direct = deliver


def test_an_encoder_error_reaches_only_that_formats_subscribers(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    healthkit = FORMATS["healthkit"]

    def broken(id: int, sample: Sample) -> Any:
        if sample.value in (62, 63):
            raise ValueError("cannot encode")
        return healthkit(id, sample)

    monkeypatch.setitem(FORMATS, "healthkit", broken)
    hub = make_hub()
    native: list[bytes] = []
    hk: list[bytes] = []
    with hub.subscribe(Filter()) as a, hub.subscribe(Filter(format="healthkit")) as b:
        direct_taker(a, native)
        direct_taker(b, hk)
        hub.publish(samples(5))  # values 60..64: two of them break healthkit
    assert b"".join(native).count(b"id: ") == 5
    hk_ids = [int(line[4:]) - BASE for line in b"".join(hk).split(b"\n") if line[:4] == b"id: "]
    assert hk_ids == [1, 2, 5]
    assert hub.statistics().contained_errors == {"encode_healthkit": 2}
    assert len([r for r in caplog.records if "cannot be encoded" in r.getMessage()]) == 1


def test_a_failing_listener_is_contained(caplog: pytest.LogCaptureFixture) -> None:
    hub = make_hub()

    def listener(records: Sequence[Record]) -> None:
        raise RuntimeError("disk on fire")

    hub.listeners.append(listener)
    got: list[bytes] = []
    with hub.subscribe(Filter()) as sub:
        direct_taker(sub, got)
        for i in range(3):
            hub.publish(samples(1, start=i))
    assert b"".join(got).count(b"id: ") == 3  # subscribers still served
    assert hub.statistics().contained_errors == {"listener": 3}
    assert len([r for r in caplog.records if "listener" in r.getMessage()]) == 1


async def test_a_failing_delivery_ends_only_that_subscriber() -> None:
    hub = make_hub()

    def broken() -> bool:
        raise OSError("bad file descriptor")

    with hub.subscribe(Filter()) as bad, hub.subscribe(Filter()) as good:
        bad.direct = broken
        hub.publish(samples(2))
        hub.publish(samples(1, start=2))
        assert isinstance(bad.failed, OSError)
        with trio.fail_after(1):
            await bad.wait()  # woken so that its task ends the stream
            await good.wait()
        assert good.take()[1] == 3
    assert hub.statistics().contained_errors == {"subscriber": 1}


async def test_lag_counts_only_samples_the_filter_wants() -> None:
    hub = make_hub(capacity=3)
    with (
        hub.subscribe(Filter(types=frozenset({"steps"}))) as steps,
        hub.subscribe(Filter()) as everything,
    ):
        hub.publish(samples(5))  # heart rate only: two evicted before anyone took them
        assert steps.take() == (b"", 0)  # it never wanted them: not lagged
        with pytest.raises(SubscriberLagged):
            everything.take()
        step = Sample("steps", 10, 9000, "count", start_ms=8000)
        hub.publish([step, *samples(3, start=10)])  # the step is evicted at once
        with pytest.raises(SubscriberLagged):
            steps.take()


def test_subscribers_at_one_cursor_with_other_filters_get_their_own_chunks() -> None:
    hub = make_hub()
    filters = [
        Filter(),
        Filter(types=frozenset({"steps"})),
        Filter(subject="b"),
        Filter(format="healthkit"),
        Filter(types=frozenset({"steps"}), format="openmhealth"),
    ]
    batch = [
        Sample("heart_rate", 60, 1000, "count/min", subject="a"),
        Sample("steps", 7, 2000, "count", subject="b", start_ms=1000),
        Sample("heart_rate", 61, 3000, "count/min", subject="b"),
    ]
    with ExitStack() as stack:
        subs = [stack.enter_context(hub.subscribe(f)) for f in filters]
        got: list[list[bytes]] = [[] for _ in subs]
        for sub, sink in zip(subs, got, strict=True):
            direct_taker(sub, sink)
        hub.publish(batch)
    chunks = [b"".join(sink) for sink in got]
    ids = [[int(x[4:]) - BASE for x in c.split(b"\n") if x[:4] == b"id: "] for c in chunks]
    assert ids == [[1, 2, 3], [2], [2, 3], [1, 2, 3], [2]]
    assert b'"HKQuantityTypeIdentifier' in chunks[3] and b"schema_id" in chunks[4]
    assert chunks[0] != chunks[3]


def test_a_sample_that_cannot_be_encoded_is_left_out_without_an_id() -> None:
    hub = make_hub()
    year_10000 = Sample("heart_rate", 70, 253_402_300_800_000, "count/min")
    records = hub.publish([*samples(1), year_10000, *samples(1, start=1)])
    assert [r.id for r in records] == [BASE + 1, BASE + 2]  # ids stay consecutive
    assert hub.statistics().contained_errors == {"encode_native": 1}
    assert hub.statistics().published == 2


def test_filter_tokens_live_as_long_as_their_subscriptions() -> None:
    """Takes are keyed by a token per distinct filter; tokens of filters no one uses any
    more are let go, so clients asking for ever new filters cannot grow the hub."""
    shared = Shared(RingBuffer(10), Faults())
    steps = Filter(types=frozenset({"steps"}))
    first = Subscription(shared, steps, 0)
    same = Subscription(shared, Filter(types=frozenset({"steps"})), 0)
    other = Subscription(shared, Filter(), 0)
    assert len(shared.filters) == 2
    for sub in (first, same, other):
        sub.close()
        sub.close()  # the hub may close a subscription twice (shutdown, then its exit)
    assert shared.filters == {}


@pytest.mark.parametrize("resume", [False, True], ids=["history", "resume"])
async def test_a_whole_buffer_sent_first_is_encoded_in_slices_with_others_running_between(
    monkeypatch: pytest.MonkeyPatch, resume: bool
) -> None:
    """A client asking for 10,000 samples of history (or resuming that far back) in a
    format nobody encoded yet must not hold the server for the tenth of a second their
    encoding takes: the route encodes them ahead in slices, and ``subscribe`` then only
    looks them up; what the client gets is byte for byte what it got before."""
    fmt = "openmhealth"
    encode = FORMATS[fmt]
    encoded = Counter[int]()

    def counting(id: int, sample: Sample) -> Any:
        encoded[id] += 1
        return encode(id, sample)

    def full_hub() -> Hub:
        hub = make_hub(capacity=10_000)
        hub.publish(samples(10_000))
        return hub

    wanted = Filter(format=fmt)
    asked: dict[str, Any] = {"last_event_id": BASE + 2} if resume else {"history": 10_000}
    with trio.fail_after(30):
        with full_hub().subscribe(wanted, **asked) as plain:
            expected = plain.initial
        monkeypatch.setitem(FORMATS, fmt, counting)
        hub = full_hub()
        passes = 0

        async def other_task() -> None:
            nonlocal passes
            while True:
                passes += 1
                await trio.lowlevel.checkpoint()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(other_task)
            await trio.lowlevel.checkpoint()
            before = passes
            await hub.encode_ahead(wanted, **asked)
            nursery.cancel_scope.cancel()
        count = 9_998 if resume else 10_000
        assert (len(encoded), max(encoded.values())) == (count, 1)
        assert passes - before >= count // ENCODE_SLICE - 1
        with hub.subscribe(wanted, **asked) as sub:
            assert sum(encoded.values()) == count  # nothing left to encode
            assert len(list(sub.frames())) == count
            assert sub.initial == expected
