"""The simulated clock: simulated time as a function of the trio clock.

Simulated time runs at ``speed`` times real time from an anchor and can be
paused or jumped forward. The trio clock and the wall clock are read through
injected functions, so tests drive them with ``autojump_clock`` and nothing
here reads the machine's clocks directly.

When the generator cannot publish what the requested speed asks for (see
``BIOMOCK_MAX_BATCH``), simulated time falls behind instead: :meth:`SimClock.fall_behind`
moves it back to what was published, and :attr:`ClockState.lag_ms` says by how much.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import trio

from biomock.limits import MAX_SPEED

MIN_TICK_S = 0.1
"""The generator ticks at most ten times a real second; faster clocks send bigger batches."""

_EPSILON_MS = 1e-3
"""Float noise in ``elapsed * speed``: a tick at a whole second reads as that second."""


@dataclass(frozen=True, slots=True)
class ClockState:
    now_ms: int
    speed: float
    paused: bool
    lag_ms: int = 0
    """Simulated time the clock fell behind the requested speed since the last change."""


class SimClock:
    """Simulated time for the generator and the control API.

    Args:
        start_ms: the simulated time at ``start()``, or (with ``wall_ms``) the
            simulated time that the wall clock's ``start_ms`` maps to.
        speed: simulated seconds per real second.
        paused: whether simulated time stands still.
        current_time: the real clock, in seconds (``trio.current_time`` by default).
        wall_ms: the wall clock in epoch milliseconds. When given, simulated time is
            anchored to it: at speed 1 the clock reads the wall clock's time, so a
            sample goes out the moment its timestamp comes, not up to a second after.
    """

    def __init__(
        self,
        start_ms: int,
        *,
        speed: float = 1.0,
        paused: bool = False,
        current_time: Callable[[], float] = trio.current_time,
        wall_ms: Callable[[], int] | None = None,
    ) -> None:
        self._current_time = current_time
        self._wall_ms = wall_ms
        self._anchor_ms = start_ms
        self._anchor_real: float | None = None
        self._grid_real = 0.0
        self._speed = speed
        self._paused = paused
        self._lag_ms = 0
        self._jump_to: int | None = None
        self._changed = trio.Event()

    def start(self) -> None:
        """Anchor simulated time to the current real time; later calls change nothing."""
        if self._anchor_real is not None:
            return
        now = self._current_time()
        if self._wall_ms is not None and not self._paused:
            # The wall clock has moved on since start_ms was chosen (app start-up):
            # start as far into simulated time as it did.
            behind_s = max(0, self._wall_ms() - self._anchor_ms) / 1000
            now -= behind_s / self._speed
        self._anchor_real = now
        self._grid_real = now

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def paused(self) -> bool:
        return self._paused

    def now_ms(self) -> int:
        """The simulated time now, in epoch milliseconds (never ahead of the real one)."""
        if self._paused or self._anchor_real is None:
            return self._anchor_ms
        elapsed = self._current_time() - self._anchor_real
        return self._anchor_ms + math.floor(elapsed * self._speed * 1000 + _EPSILON_MS)

    def state(self) -> ClockState:
        return ClockState(self.now_ms(), self._speed, self._paused, self._lag_ms)

    def set(
        self, *, speed: float | None = None, paused: bool | None = None, now_ms: int | None = None
    ) -> None:
        """Change speed, pause or jump forward; unspecified fields keep their values.

        Raises:
            ValueError: ``now_ms`` lies before the current simulated time, or ``speed``
                is not in (0, MAX_SPEED].
        """
        current = self.now_ms()
        if now_ms is not None and now_ms < current:
            raise ValueError("the clock only jumps forward")
        if speed is not None and not (0 < speed <= MAX_SPEED):
            raise ValueError(f"speed must be > 0 and <= {MAX_SPEED}")
        self._anchor_ms = current if now_ms is None else now_ms
        self._anchor_real = self._current_time()
        if speed is not None:
            self._speed = speed
        if paused is not None:
            self._paused = paused
        if now_ms is not None:
            self._jump_to = now_ms
        self._lag_ms = 0
        # Ticks fall on whole simulated seconds, as the samples' cadences do.
        self._grid_real = self._anchor_real - (self._anchor_ms % 1000) / (self._speed * 1000)
        self._changed.set()
        self._changed = trio.Event()

    def adopt(self, now_ms: int, *, speed: float, paused: bool) -> None:
        """Follow a clock kept elsewhere (the shared bus): read ``now_ms`` now, at ``speed``.

        Unlike :meth:`set` this may move simulated time back and never counts as a jump:
        a process that does not generate only mirrors the generating one's clock.
        """
        self._anchor_ms = now_ms
        self._anchor_real = self._current_time()
        self._speed = speed
        self._paused = paused
        self._lag_ms = 0
        self._grid_real = self._anchor_real - (self._anchor_ms % 1000) / (self._speed * 1000)
        self._changed.set()
        self._changed = trio.Event()

    def take_jump(self) -> int | None:
        """The simulated time jumped to since the last call, if the clock jumped."""
        jump, self._jump_to = self._jump_to, None
        return jump

    def fall_behind(self, ms: int) -> None:
        """Set simulated time ``ms`` back: what the requested speed asked was not published."""
        if ms > 0:
            self._anchor_ms -= ms
            self._lag_ms += ms

    @property
    def tick_period_s(self) -> float:
        """Real seconds between generator ticks: one simulated second, at least MIN_TICK_S."""
        return max(MIN_TICK_S, 1.0 / self._speed)

    def next_tick_at(self, tick: int) -> float:
        """The real time of tick number ``tick`` since the last change (``inf`` when paused)."""
        if self._paused or self._anchor_real is None:
            return math.inf
        return self._grid_real + tick * self.tick_period_s

    def next_tick(self) -> int:
        """The number of the first tick still to come (at least 1)."""
        if self._paused or self._anchor_real is None:
            return 1
        elapsed = self._current_time() - self._grid_real
        return max(1, math.floor(elapsed / self.tick_period_s) + 1)

    async def wait_changed(self) -> None:
        """Wait until the next call of :meth:`set`."""
        await self._changed.wait()
