"""The one way tests run a real biomock server: Hypercorn on 127.0.0.1, port 0.

``serving`` runs it in the test's nursery with any source: the scripted ones below
(the default is :class:`TickSource`), or ``CONFIGURED``, the simulator or replay the
settings name, as ``biomock serve`` builds it. ``serving_in_thread`` runs the same
server from a thread with its own trio loop, for synchronous clients (the guides'
snippets, schemathesis, hypothesis, subprocesses such as curl and node).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import httpx
import trio

from biomock.app import BiomockApp, create_app
from biomock.config import Config
from biomock.sample import Sample
from biomock.server import open_listen_socket, serve
from biomock.source import Source
from biomock.testing import run_in_thread

WALL_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
ID_BASE = WALL_MS * 1000


@dataclass
class Running:
    url: str
    app: BiomockApp
    stop: trio.Event

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        """A client for this server. It opens a connection per request: the server
        closes idle keep-alive connections, and with a virtual clock a reused one
        could be closed under the client's feet."""
        kwargs.setdefault("limits", httpx.Limits(max_keepalive_connections=0))
        return httpx.AsyncClient(base_url=self.url, timeout=None, **kwargs)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


CONFIGURED: Literal["configured"] = "configured"
"""As ``source``: what the settings name (``replay=``), else the seeded simulator."""


@asynccontextmanager
async def serving(
    *,
    source: Source | Literal["configured"] | None = None,
    wall_ms: int = WALL_MS,
    wall_clock: Callable[[], int] | None = None,
    user_timeout_s: float | None = None,
    **settings: Any,
) -> AsyncIterator[Running]:
    """Serve a fresh app until the block ends, then shut it down as SIGTERM would.

    Args:
        source: what to stream; a :class:`TickSource` from ``wall_ms`` by default.
        wall_ms: the boot time: ids start above ``wall_ms * 1000``.
        wall_clock: when given, simulated time follows this wall clock (as in
            production); otherwise it starts at the source's start when the server starts.
        user_timeout_s: replaces the kernel's cut of a stalled client (by default the
            slow-client timeout, in real seconds), so that a test on a virtual clock
            sees the server's own cut first.
        settings: :class:`Config` fields (``seed`` is 1 unless given).
    """
    config = Config(host="127.0.0.1", port=0, **{"seed": 1, **settings})
    if source is None:
        source = TickSource(wall_ms)
    app = create_app(
        config,
        source=None if source == CONFIGURED else source,
        wall_ms=wall_ms,
        wall_clock=wall_clock,
    )
    if user_timeout_s is None:
        user_timeout_s = config.slow_client_timeout_s
    sock = open_listen_socket("127.0.0.1", 0, user_timeout_s=user_timeout_s)
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(partial(serve, app, config, sock, shutdown_trigger=stop.wait))
        running = Running(binds[0], app, stop)
        try:
            yield running
        finally:
            stop.set()


def serving_in_thread(**kwargs: Any) -> AbstractContextManager[str]:
    """:func:`serving` from a thread running its own trio loop (the plugin's
    :func:`biomock.testing.run_in_thread`); yields the base URL.

    Leaving the block shuts the server down as SIGTERM would and joins the thread.
    """
    return run_in_thread(partial(_serving_url, **kwargs))


@asynccontextmanager
async def _serving_url(**kwargs: Any) -> AsyncIterator[str]:
    async with serving(**kwargs) as running:
        yield running.url


class TickSource:
    """A deterministic source: ``per_tick`` samples for each subject every ``period_ms``.

    Values count up, so tests can tell samples apart; ``pad`` adds bytes to each.
    """

    def __init__(
        self,
        start_ms: int = WALL_MS,
        *,
        subjects: tuple[str, ...] = ("default",),
        types: tuple[str, ...] = ("heart_rate",),
        period_ms: int = 1000,
        pad: int = 0,
    ) -> None:
        self._start_ms = start_ms
        self._next_ms = start_ms + period_ms
        self._subjects = subjects
        self._types = types
        self._period_ms = period_ms
        self._extra = {"pad": "x" * pad} if pad else {}
        self.count = 0

    @property
    def start_ms(self) -> int:
        return self._start_ms

    @property
    def subjects(self) -> list[str]:
        return list(self._subjects)

    @property
    def finished(self) -> bool:
        return False

    def advance(self, until_ms: int) -> list[Sample]:
        out = []
        while self._next_ms <= until_ms:
            for subject in self._subjects:
                for type_ in self._types:
                    self.count += 1
                    unit = "count/min" if type_ == "heart_rate" else "count"
                    start = self._next_ms - self._period_ms if type_ == "steps" else None
                    out.append(
                        Sample(
                            type_,
                            self.count,
                            self._next_ms,
                            unit,
                            subject,
                            start_ms=start,
                            extra=self._extra,
                        )
                    )
            self._next_ms += self._period_ms
        return out

    def jump(self, to_ms: int) -> None:
        if self._next_ms <= to_ms:
            periods = (to_ms - self._next_ms) // self._period_ms + 1
            self._next_ms += periods * self._period_ms


class ScriptedSource:
    """Plays a fixed list of samples (in time order) in simulated time, then is finished."""

    def __init__(self, samples: Sequence[Sample], start_ms: int) -> None:
        self._pending = list(samples)
        self._start_ms = start_ms
        self._subjects = sorted({s.subject for s in samples})

    @property
    def start_ms(self) -> int:
        return self._start_ms

    @property
    def subjects(self) -> list[str]:
        return list(self._subjects)

    @property
    def finished(self) -> bool:
        return not self._pending

    def advance(self, until_ms: int) -> list[Sample]:
        due = [s for s in self._pending if s.time_ms <= until_ms]
        self._pending = self._pending[len(due) :]
        return due

    def jump(self, to_ms: int) -> None:
        self._pending = [s for s in self._pending if s.time_ms > to_ms]
