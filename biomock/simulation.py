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
from typing import Protocol

import trio

from biomock.clock import SimClock
from biomock.generator import GeneratorStatus, run_generator
from biomock.hub import Hub
from biomock.limits import CATCH_UP_BATCHES, RUN_THROUGH_SUBJECT_MS
from biomock.pacer import Pacer
from biomock.sample import Sample
from biomock.source import Source


class Shared(Protocol):
    """What the routes ask of a simulation shared by every process (``biomock.bus``)."""

    def admit(self) -> None:
        """Raise 503 ``unavailable`` while no new stream may start."""
        ...

    async def older(self, last_event_id: int) -> list[tuple[int, Sample]]:
        """What a resume from ``last_event_id`` needs from before the local buffer."""
        ...

    async def change_clock(
        self, *, speed: float | None, paused: bool | None, now_ms: int | None
    ) -> None:
        """Change the clock in every process; returns once applied in this one."""
        ...

    async def switch_scenario(self, subject: str, scenario: str) -> None:
        """Switch a subject's scenario in every process; returns once applied here."""
        ...


class ClockBackwards(ValueError):
    """A clock change asked for a time before the clock's present (``now_ms``)."""

    def __init__(self, now_ms: int) -> None:
        super().__init__("the clock only jumps forward")
        self.now_ms = now_ms


@dataclass(eq=False, slots=True)
class Simulation:
    """What a request for samples or control resolves to.

    Who owns what: a lazy simulation's pacer (and through it the source) is advanced
    both by its generator's ticks and by requests catching it up or stepping its clock.
    They take turns under one lock (:attr:`advancing`, held across a whole catch-up, run
    or clock change, and by each tick): two catch-ups at once would each set the clock
    back by what is left to publish, and a catch-up that had read the clock before
    another one set it back would publish past it. Samples go out in time order with
    consecutive ids; ``tests/test_sessions.py`` compares a watched session (ticks and
    catch-ups interleaved) with an unwatched one, byte for byte.

    Args:
        hub: numbers, buffers and fans out this simulation's samples.
        source: what produces them (the simulator or a replay).
        clock: this simulation's simulated time.
        generator: what its generator reports about itself.
        pacer: for a lazy simulation, how far the source has been advanced; the
            default simulation's pacer belongs to its supervisor (``None`` here).
        bus: the shared bus's side of it, when it is on one.
    """

    hub: Hub
    source: Source
    clock: SimClock
    generator: GeneratorStatus = field(default_factory=GeneratorStatus)
    pacer: Pacer | None = None
    bus: Shared | None = None
    """Set when the simulation is shared by every process (``BIOMOCK_BUS``): its
    samples come from the bus, its clock and scenarios change through it."""
    _nudged: trio.Event = field(default_factory=trio.Event, init=False, repr=False)
    advancing: trio.Lock = field(default_factory=trio.Lock, init=False, repr=False)
    """Held by whoever advances a lazy simulation's pacer: a catch-up, a clock change
    or one tick of its generator."""

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
        the clock falls behind (``lag_s``), as a watched generator's does. Concurrent
        callers take turns: the second finds the first's work done.
        """
        if self.pacer is not None:
            async with self.advancing:
                await self._run_to(self.clock.now_ms(), max_batches=CATCH_UP_BATCHES)

    async def set_clock(
        self, *, speed: float | None = None, paused: bool | None = None, now_ms: int | None = None
    ) -> None:
        """Change the clock as ``POST /api/clock`` asks; omitted fields keep their values.

        A jump forward skips the samples of the time jumped over, except for a lazy
        simulation that stays paused: it runs through that time, publishing its samples
        (at most ``RUN_THROUGH_SUBJECT_MS`` per subject of it; the time before is
        skipped). Checking ``now_ms``, running through and setting the clock are one
        turn, so concurrent changes cannot both pass the check or move the clock back.

        Raises:
            ClockBackwards: ``now_ms`` lies before the clock's present.
        """
        async with self.advancing:
            current = self.clock.now_ms()
            if now_ms is not None and now_ms < current:
                raise ClockBackwards(current)
            if now_ms is not None:
                stays_paused = self.clock.paused if paused is None else paused
                if self.pacer is not None and stays_paused:
                    span_ms = RUN_THROUGH_SUBJECT_MS // max(1, len(self.source.subjects))
                    if self.pacer.position_ms < now_ms - span_ms:
                        self.jump(now_ms - span_ms)
                    await self._run_to(now_ms)
                else:
                    self.jump(now_ms)
            self.clock.set(speed=speed, paused=paused, now_ms=now_ms)
            if self.pacer is not None:
                # The pacer has been moved here already; a pending jump taken by the
                # generator later would drop what it produced since.
                self.clock.take_jump()
        self.nudge()

    async def _run_to(self, until_ms: int, *, max_batches: int | None = None) -> None:
        """Publish every sample due by ``until_ms``, a batch at a time (lock held).

        Past ``max_batches``, the clock is set back to what was published.
        """
        pacer = self.pacer
        assert pacer is not None, "only a lazy simulation is run on demand"
        done = 0
        while pacer.position_ms < until_ms or pacer.backlog:
            if max_batches is not None and done >= max_batches:
                self.clock.fall_behind(self.clock.now_ms() - pacer.position_ms)
                return
            batch = pacer.next_batch(until_ms)
            if batch:
                self.hub.publish(batch)
            done += 1
            await trio.lowlevel.checkpoint()

    def stop(self) -> None:
        """Its generator was cancelled for good (a session ended): say so."""
        self.generator.state = "stopped"

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
            turn=simulation.advancing,
        )
