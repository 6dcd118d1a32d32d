"""The Redis side of the bus, against a real Redis, inside a trio loop (coredis on anyio)."""

from __future__ import annotations

import subprocess
import sys

import coredis.exceptions
import pytest
import redis
import trio

from biomock.bus.codec import decode_sample, encode_sample
from biomock.bus.log import LeaseLost, open_redis_log
from biomock.sample import Sample


async def test_coredis_runs_inside_trio_and_blocks_without_blocking_the_loop(bus_url: str) -> None:
    with trio.fail_after(10):
        async with open_redis_log(bus_url) as log:
            assert await log.try_lease("a", 5000)
            ticks = 0

            async def tick() -> None:
                nonlocal ticks
                while True:
                    await trio.sleep(0.01)
                    ticks += 1

            async with trio.open_nursery() as nursery:
                nursery.start_soon(tick)
                # A blocking XREAD waits in Redis while trio runs the other task.
                entries, _ = await log.read(0, b"0-0", count=10, block_ms=300)
                nursery.cancel_scope.cancel()
            assert entries == []
            assert ticks >= 10
            await log.append("a", 5000, 100, 7, [b"x", b"y"], 1)
            assert [(e.id, e.data) for e in await log.after(0, 10)] == [(7, b"x"), (8, b"y")]


async def test_a_deposed_leader_cannot_append(bus_url: str) -> None:
    with trio.fail_after(10):
        async with open_redis_log(bus_url) as old, open_redis_log(bus_url) as new:
            assert await old.try_lease("old", 100)
            await old.append("old", 100, 1000, 1, [b"a"], 0)
            await trio.sleep(0.2)  # the old leader stalls past its lease (real Redis time)
            assert await new.try_lease("new", 5000)
            try:
                await old.append("old", 100, 1000, 2, [b"stale"], 0)
            except LeaseLost:
                pass
            else:
                raise AssertionError("a deposed leader appended")
            assert not await old.renew("old", 100)
            await new.append("new", 5000, 1000, 2, [b"b"], 0)
            assert [e.data for e in await new.after(0, 10)] == [b"a", b"b"]
            assert await new.leaderships() == 2


async def test_an_append_below_the_log_is_refused(bus_url: str) -> None:
    with trio.fail_after(10):
        async with open_redis_log(bus_url) as log:
            assert await log.try_lease("a", 5000)
            await log.append("a", 5000, 1000, 10, [b"a"], 0)
            try:
                await log.append("a", 5000, 1000, 10, [b"again"], 0)
            except LeaseLost:
                pass
            else:
                raise AssertionError("an id was appended twice")
            assert await log.newest_id() == 10


def test_the_codec_round_trips_a_sample_exactly() -> None:
    sample = Sample(
        "steps",
        12,
        1_767_225_600_000,
        "count",
        "alice",
        start_ms=1_767_225_540_000,
        scenario="workout",
        extra={"pad": "é"},
    )
    data = encode_sample(sample)
    assert data is not None
    assert decode_sample(data) == sample


def test_without_a_bus_the_server_loads_none_of_it() -> None:
    check = (
        "import sys\n"
        "from biomock.app import create_app\n"
        "from biomock.config import Config\n"
        "app = create_app(Config(seed=1))\n"
        "assert app.state.bus is None\n"
        "loaded = [m for m in sys.modules if m == 'coredis' or m.startswith('biomock.bus.')]\n"
        "assert loaded == ['biomock.bus.url'], loaded\n"
    )
    subprocess.run([sys.executable, "-c", check], check=True, timeout=60)


async def test_processes_restoring_at_once_all_keep_one_whole_clock_and_simulation(
    bus_url: str,
) -> None:
    # Several processes rejoining an emptied Redis at the same moment: each keeps what
    # the first one wrote, whole, never one process's field beside another's.
    with trio.fail_after(20):
        async with open_redis_log(bus_url) as log:
            claimed: list[tuple[int, int]] = []
            restored: list[dict[str, str]] = []

            async def rejoin(n: int) -> None:
                claimed.append(await log.claim_simulation(n, n * 1000))
                fields = {"speed": str(n), "paused": str(n), "sim_ms": str(n), "wall_ms": str(n)}
                restored.append(await log.restore(log.clock_key, fields))

            for _ in range(5):
                await trio.to_thread.run_sync(_flush, bus_url)
                claimed.clear()
                restored.clear()
                async with trio.open_nursery() as nursery:
                    for n in range(1, 21):
                        nursery.start_soon(rejoin, n)
                assert len(set(claimed)) == 1, claimed
                seed, start_ms = claimed[0]
                assert start_ms == seed * 1000, "seed and start_ms from different processes"
                assert len({tuple(sorted(r.items())) for r in restored}) == 1
                assert len(set(restored[0].values())) == 1, restored[0]
                kept = await log.hash(log.clock_key)
                assert kept == restored[0]


def _flush(url: str) -> None:
    with redis.Redis.from_url(url) as client:
        client.flushall()


async def test_an_append_at_or_below_the_floor_is_refused(bus_url: str) -> None:
    with trio.fail_after(10):
        async with open_redis_log(bus_url) as log:
            assert await log.try_lease("a", 5000)
            assert await log.raise_floor(100) == 100
            assert await log.raise_floor(50) == 100  # a maximum: never lowered
            with pytest.raises(LeaseLost):  # an id another process had, never again
                await log.append("a", 5000, 100, 100, [b"x"], 1)
            assert await log.newest_id() is None
            await log.append("a", 5000, 100, 101, [b"y"], 1)
            assert await log.newest_id() == 101


async def test_an_ended_sessions_keys_are_never_written_again(bus_url: str) -> None:
    # A leader that has not yet heard its session was deleted must not recreate its keys.
    name = "{s_test}"
    with redis.Redis.from_url(bus_url) as client:
        client.set(f"biomock:{name}:alive", "1", px=60_000)
    with trio.fail_after(10):
        async with open_redis_log(bus_url, simulation=name, session=True) as log:
            assert await log.try_lease("a", 5000)
            await log.append("a", 5000, 100, 1, [b"x"], 0)
            await log.announce(log.clock_key, {"speed": "1"}, {"kind": "clock"})
            with redis.Redis.from_url(bus_url) as client:
                keys = client.keys(f"biomock:{name}:*")
                # Every key written took the session's TTL (the lease keeps its own).
                assert all(0 < client.pttl(key) <= 60_000 for key in keys), keys
                client.delete(*keys)  # the session ends
            with pytest.raises(LeaseLost):
                await log.append("a", 5000, 100, 2, [b"y"], 0)
            for write in (
                log.try_lease("b", 5000),
                log.announce(log.clock_key, {"speed": "2"}, {"kind": "clock"}),
                log.restore(log.sim_key, {"seed": "1"}),
                log.raise_floor(5),
            ):
                with pytest.raises(coredis.exceptions.ResponseError, match="GONE"):
                    await write
    with redis.Redis.from_url(bus_url) as client:
        assert client.keys(f"biomock:{name}:*") == []
