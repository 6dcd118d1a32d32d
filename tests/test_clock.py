"""The simulated clock: wall-clock anchoring, the tick grid, falling behind."""

from __future__ import annotations

import trio

from biomock.clock import SimClock

START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


async def test_anchored_to_the_wall_clock_and_ticking_on_whole_seconds(
    autojump_clock: trio.abc.Clock,
) -> None:
    t0 = trio.current_time()
    clock = SimClock(
        START_MS, wall_ms=lambda: START_MS + 640 + int((trio.current_time() - t0) * 1000)
    )
    clock.start()
    assert clock.now_ms() == START_MS + 640  # the wall clock's time, not the start's
    assert clock.next_tick_at(1) - t0 == 1 - 0.64  # at START_MS + 1 s of simulated time
    await trio.sleep_until(clock.next_tick_at(1))
    assert clock.now_ms() == START_MS + 1000  # never a millisecond early


async def test_falling_behind_is_reported_until_the_next_change(
    autojump_clock: trio.abc.Clock,
) -> None:
    clock = SimClock(START_MS, speed=1000)
    clock.start()
    await trio.sleep(1)
    clock.fall_behind(600_000)
    assert clock.state().now_ms == START_MS + 400_000
    assert clock.state().lag_ms == 600_000
    clock.set(speed=1)
    assert clock.state().lag_ms == 0
    assert clock.now_ms() == START_MS + 400_000


async def test_after_a_pause_in_the_generator_the_next_tick_is_ahead(
    autojump_clock: trio.abc.Clock,
) -> None:
    clock = SimClock(START_MS)
    clock.start()
    assert clock.next_tick() == 1
    await trio.sleep(3600.5)
    tick = clock.next_tick()
    assert clock.next_tick_at(tick) > trio.current_time() >= clock.next_tick_at(tick - 1)
