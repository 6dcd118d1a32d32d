"""The simulated clock: simulated time as a function of the trio clock.

Simulated time runs at ``speed`` times real time from an anchor and can be
paused or jumped forward. The trio clock is read through an injected function,
so tests drive it with ``autojump_clock`` and nothing here reads the wall clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import trio

from biomock.limits import MAX_SPEED

MIN_TICK_S = 0.1
"""The generator ticks at most ten times a real second; faster clocks send bigger batches."""


@dataclass(frozen=True, slots=True)
class ClockState:
    now_ms: int
    speed: float
    paused: bool


class SimClock:
    """Simulated time for the generator and the control API.

    Args:
        start_ms: the simulated time at ``start()``.
        speed: simulated seconds per real second.
        paused: whether simulated time stands still.
        current_time: the real clock, in seconds (``trio.current_time`` by default).
    """

    def __init__(
        self,
        start_ms: int,
        *,
        speed: float = 1.0,
        paused: bool = False,
        current_time: Callable[[], float] = trio.current_time,
    ) -> None:
        self._current_time = current_time
        self._anchor_ms = start_ms
        self._anchor_real: float | None = None
        self._speed = speed
        self._paused = paused
        self._changed = trio.Event()

    def start(self) -> None:
        """Anchor simulated ``start_ms`` to the current real time."""
        self._anchor_real = self._current_time()

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def paused(self) -> bool:
        return self._paused

    def now_ms(self) -> int:
        """The simulated time now, in epoch milliseconds."""
        if self._paused or self._anchor_real is None:
            return self._anchor_ms
        elapsed = self._current_time() - self._anchor_real
        return self._anchor_ms + round(elapsed * self._speed * 1000)

    def state(self) -> ClockState:
        return ClockState(self.now_ms(), self._speed, self._paused)

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
        self._changed.set()
        self._changed = trio.Event()

    @property
    def tick_period_s(self) -> float:
        """Real seconds between generator ticks: one simulated second, at least MIN_TICK_S."""
        return max(MIN_TICK_S, 1.0 / self._speed)

    def next_tick_at(self, tick: int) -> float:
        """The real time of tick number ``tick`` since the last change (``inf`` when paused)."""
        if self._paused or self._anchor_real is None:
            return math.inf
        return self._anchor_real + tick * self.tick_period_s

    async def wait_changed(self) -> None:
        """Wait until the next call of :meth:`set`."""
        await self._changed.wait()
