"""A simulation: a source, its clock, the hub it publishes to and its generator's status.

The default simulation is the server's own (its generator runs under
``biomock.supervisor`` and ticks for ever). A session's (``biomock.sessions``) is
*lazy*: it ticks only while someone streams from it and its clock runs; otherwise its
task sleeps, and a request that reads it first catches it up to its clock
(:meth:`Simulation.catch_up`). Samples depend on simulated time only and ids count
from 1 in publication order, so the bytes are the same whether or not anyone watched.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import trio

from biomock.clock import SimClock
from biomock.generator import GeneratorStatus, run_generator
from biomock.hub import Hub
from biomock.limits import CATCH_UP_BATCHES
from biomock.pacer import Pacer
from biomock.source import Source


@dataclass(eq=False, slots=True)
class Simulation:
    """What a request for samples or control resolves to.

    Who owns what: a lazy simulation's pacer (and through it the source) is advanced
    both by its generator's ticks and by requests catching it up. Each advance and its
    publish are one synchronous step (no checkpoint between them), so these callers
    interleave only between batches, and samples still go out in time order with
    consecutive ids; ``tests/test_sessions.py`` compares a watched session (ticks and
    catch-ups interleaved) with an unwatched one, byte for byte.

    Args:
        hub: numbers, buffers and fans out this simulation's samples.
        source: what produces them (the simulator or a replay).
        clock: this simulation's simulated time.
        generator: what its generator reports about itself.
        pacer: for a lazy simulation, how far the source has been advanced; the
            default simulation's pacer belongs to its supervisor (``None`` here).
    """

    hub: Hub
    source: Source
    clock: SimClock
    generator: GeneratorStatus = field(default_factory=GeneratorStatus)
    pacer: Pacer | None = None
    _nudged: trio.Event = field(default_factory=trio.Event, init=False, repr=False)

    @property
    def lazy(self) -> bool:
        """Whether this simulation ticks only while watched (a session)."""
        return self.pacer is not None

    def active(self) -> bool:
        """Whether a lazy simulation must tick: someone streams and the clock runs."""
        return self.hub.subscriber_count > 0 and not self.clock.paused

    def nudge(self) -> None:
        """Something that :meth:`active` reads changed: wake the idle generator."""
        self._nudged.set()
        self._nudged = trio.Event()

    async def wait_nudged(self) -> None:
        """Wait until the next :meth:`nudge`."""
        await self._nudged.wait()

    async def catch_up(self) -> None:
        """Publish what a lazy simulation's clock has made due (nothing for the default).

        At most ``CATCH_UP_BATCHES`` batches, with a checkpoint after each; beyond that
        the clock falls behind (``lag_s``), as a watched generator's does.
        """
        if self.pacer is not None:
            await self.run_to(self.clock.now_ms(), max_batches=CATCH_UP_BATCHES)

    async def run_to(self, until_ms: int, *, max_batches: int | None = None) -> None:
        """Publish every sample due by ``until_ms``, a batch at a time.

        Batches are synchronous (no checkpoint between advancing and publishing), so
        concurrent callers and the ticking generator interleave only between them.
        """
        pacer = self.pacer
        assert pacer is not None, "only a lazy simulation is run on demand"
        done = 0
        while pacer.position_ms < until_ms or pacer.backlog:
            if max_batches is not None and done >= max_batches:
                self.clock.fall_behind(until_ms - pacer.position_ms)
                return
            batch = pacer.next_batch(until_ms)
            if batch:
                self.hub.publish(batch)
            done += 1
            await trio.lowlevel.checkpoint()

    async def run_through(self, to_ms: int, *, span_ms: int) -> None:
        """Publish every sample up to ``to_ms`` of its last ``span_ms``; skip the time before."""
        assert self.pacer is not None, "only a lazy simulation runs through a jump"
        if self.pacer.position_ms < to_ms - span_ms:
            self.jump(to_ms - span_ms)
        await self.run_to(to_ms)

    def jump(self, to_ms: int) -> None:
        """Skip to ``to_ms`` without publishing the samples of the skipped time."""
        self.source.jump(to_ms)
        if self.pacer is not None:
            self.pacer.jump(to_ms)


async def run_lazy(
    simulation: Simulation, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    """A session's generator: ticks while :meth:`Simulation.active`, sleeps otherwise.

    Asleep it costs nothing: no timer, only an event that a subscription or a clock
    change sets. On waking it catches up to the clock, then ticks as the default
    generator does (``biomock.generator``) until nobody watches or the clock pauses.

    Cancellation: runs until cancelled (the session is deleted or expires).
    """
    pacer = simulation.pacer
    assert pacer is not None
    simulation.clock.start()
    simulation.generator.state = "running"
    task_status.started()
    while True:
        while not simulation.active():
            await simulation.wait_nudged()
        await simulation.catch_up()
        await run_generator(
            simulation.hub,
            pacer,
            simulation.clock,
            simulation.generator,
            active=simulation.active,
        )
