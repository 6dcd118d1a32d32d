"""One watch task per hub cuts every stream's stuck write on time, and nothing else.

Driven by ``autojump_clock``: a "write" is a block under ``watchdog.writing()`` that
sleeps as long as a blocked send would, and the abort records when it was called.
"""

from __future__ import annotations

from collections.abc import Callable

import trio

from biomock.hub import Closing
from biomock.watchdog import IDLE_S, StallWatch, StallWatchdog


class Aborts:
    """Stands in for the socket reset: records when each stream was cut."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}

    def of(self, name: str) -> Callable[[], None]:
        def abort() -> None:
            self.at[name] = trio.current_time()

        return abort


async def blocked_write(dog: StallWatchdog, seconds: float) -> None:
    with dog.writing():
        await trio.sleep(seconds)


async def test_a_write_blocked_past_the_timeout_is_cut_at_the_timeout(
    autojump_clock: trio.abc.Clock,
) -> None:
    aborts = Aborts()
    watch = StallWatch(Closing())
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            quick = watch.watchdog(5.0, aborts.of("quick"))
            stuck = watch.watchdog(5.0, aborts.of("stuck"))
            start = trio.current_time()
            nursery.start_soon(blocked_write, stuck, 30.0)
            for _ in range(10):  # many short writes, well within the timeout each
                await blocked_write(quick, 1.0)
            nursery.cancel_scope.cancel()
    assert aborts.at == {"stuck": start + 5.0}
    assert stuck.fired and not quick.fired
    assert watch.watching == 0


async def test_one_watch_cuts_many_streams_each_at_its_own_deadline(
    autojump_clock: trio.abc.Clock,
) -> None:
    aborts = Aborts()
    watch = StallWatch(Closing())
    started: dict[str, float] = {}
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            for i in range(50):
                name = f"s{i}"
                dog = watch.watchdog(2.0, aborts.of(name))
                started[name] = trio.current_time()
                # Even streams block for good; odd ones finish in time.
                nursery.start_soon(blocked_write, dog, 100.0 if i % 2 == 0 else 1.5)
                await trio.sleep(0.1)
            await trio.sleep(5)
            nursery.cancel_scope.cancel()
    assert aborts.at == {name: started[name] + 2.0 for name in started if int(name[1:]) % 2 == 0}


async def test_a_write_still_blocked_at_the_shutdown_deadline_is_aborted_not_stalled(
    autojump_clock: trio.abc.Clock,
) -> None:
    aborts = Aborts()
    closing = Closing()
    watch = StallWatch(closing)
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            dog = watch.watchdog(30.0, aborts.of("slow"))
            nursery.start_soon(blocked_write, dog, 100.0)
            await trio.sleep(1)
            closing.begin(trio.current_time() + 3.0)
            begun = trio.current_time()
            await trio.sleep(10)
            # A write that starts after the deadline is late at once.
            late = watch.watchdog(30.0, aborts.of("late"))
            after = trio.current_time()
            nursery.start_soon(blocked_write, late, 100.0)
            await trio.sleep(1)
            nursery.cancel_scope.cancel()
    assert aborts.at["slow"] == begun + 3.0
    assert after <= aborts.at["late"] <= after + 0.2
    assert not dog.fired and not late.fired  # cut by the shutdown: not counted as stalled


async def test_the_watch_outlives_an_idle_spell(autojump_clock: trio.abc.Clock) -> None:
    aborts = Aborts()
    watch = StallWatch(Closing())
    with trio.fail_after(600):
        async with trio.open_nursery() as nursery:
            dog = watch.watchdog(5.0, aborts.of("a"))
            await blocked_write(dog, 1.0)
            await trio.sleep(IDLE_S * 3)  # its task ends meanwhile
            again = trio.current_time()
            nursery.start_soon(blocked_write, dog, 100.0)
            await trio.sleep(10)
            nursery.cancel_scope.cancel()
    assert aborts.at == {"a": again + 5.0}


async def test_a_later_write_with_a_shorter_timeout_is_cut_first(
    autojump_clock: trio.abc.Clock,
) -> None:
    """The watch sleeps until the earliest deadline, and a new write can bring it forward."""
    aborts = Aborts()
    watch = StallWatch(Closing())
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            start = trio.current_time()
            nursery.start_soon(blocked_write, watch.watchdog(20.0, aborts.of("long")), 100.0)
            await trio.sleep(1)
            nursery.start_soon(blocked_write, watch.watchdog(3.0, aborts.of("short")), 100.0)
            await trio.sleep(30)
            nursery.cancel_scope.cancel()
    assert aborts.at == {"short": start + 1 + 3.0, "long": start + 20.0}
