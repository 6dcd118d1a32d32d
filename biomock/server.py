"""Serving the app with Hypercorn's trio worker, on a socket biomock prepares itself.

Hypercorn's socket send is shielded from cancellation, so no timeout in the app
can interrupt a write to a client that stopped reading. The stream's watchdog
(``biomock.watchdog``) aborts such a socket itself; as a second line,
``TCP_USER_TIMEOUT`` on the listening socket (inherited by every accepted socket
on Linux) lets the kernel abort a connection whose sent data stays
unacknowledged, or unsent behind a zero window, for that long.
"""

from __future__ import annotations

import errno
import gc
import logging
import math
import signal
import socket
from collections.abc import Awaitable, Callable
from functools import partial

import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio import serve as hypercorn_serve

from biomock.app import BiomockApp
from biomock.config import Config
from biomock.supervisor import supervise_generator

logger = logging.getLogger(__name__)


STREAMS_SHARE = 0.8
"""The part of the graceful timeout within which every stream ends, stalled ones aborted."""

GC_THRESHOLDS = (50_000, 20, 20)
"""CPython's defaults are (700, 10, 10): see :func:`tune_gc`."""


def tune_gc() -> None:
    """Run the cyclic garbage collector less often than CPython does by default.

    A server holding thousands of streams keeps millions of long-lived objects, and
    with the default thresholds the collector runs every 700 allocations and its full
    passes walk all of them. In the fan-out benchmark (3,000 streams) these settings
    cut the CPU of the public write path by about 40 % and the time to accept a burst
    of connections by about 35 %; memory stayed the same, since almost everything is
    freed by reference counting. What exists at start-up is frozen: it lives as long as
    the process. Called once per process, before serving.
    """
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class PortInUse(Exception):
    """The configured address is taken."""


KEEPALIVE_PROBES = 3
"""Unanswered keepalive probes before the kernel resets a connection."""


def open_listen_socket(host: str, port: int, *, user_timeout_s: float) -> socket.socket:
    """Bind a TCP socket with the slow-client timeout set; Hypercorn listens on it.

    The accepted connections inherit its options: ``TCP_USER_TIMEOUT`` cuts a client
    whose unacknowledged writes wait ``user_timeout_s``; TCP keepalive (probes after
    ``user_timeout_s`` idle, ``KEEPALIVE_PROBES`` of them spread over ``user_timeout_s``)
    resets one that vanished while nothing was written to it (a stalled stream,
    ``faults=stall_after``), within about twice ``user_timeout_s``.

    Raises:
        PortInUse: ``host:port`` is already taken.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if hasattr(socket, "TCP_USER_TIMEOUT"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, int(user_timeout_s * 1000))
        else:
            logger.info(
                "TCP_USER_TIMEOUT is not available here: stalled clients are cut by the "
                "server's watchdog alone"
            )
        _enable_keepalive(sock, user_timeout_s)
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortInUse(f"{host}:{port}") from None
        raise
    return sock


def _enable_keepalive(sock: socket.socket, user_timeout_s: float) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    idle_s = max(1, round(user_timeout_s))
    interval_s = max(1, math.ceil(user_timeout_s / KEEPALIVE_PROBES))
    for name, value in (
        ("TCP_KEEPIDLE", idle_s),
        ("TCP_KEEPINTVL", interval_s),
        ("TCP_KEEPCNT", KEEPALIVE_PROBES),
    ):
        if hasattr(socket, name):  # Linux; elsewhere the system's defaults apply
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)


def hypercorn_config(config: Config, sock: socket.socket) -> HypercornConfig:
    """Hypercorn's settings for ``sock`` (which Hypercorn takes over)."""
    hc = HypercornConfig()
    hc.bind = [f"fd://{sock.detach()}"]
    hc.backlog = config.backlog
    hc.graceful_timeout = config.graceful_timeout_s
    hc.read_timeout = None  # a stream's client never sends anything after its request
    hc.accesslog = None
    # No "server: hypercorn-h11" on every response: nothing reads it, and each
    # response (a stream's head among them) builds and validates it. (Date stays:
    # HTTP requires it of a server with a clock.)
    hc.include_server_header = False
    hc.errorlog = logging.getLogger("hypercorn.error")
    return hc


async def wait_for_termination() -> None:
    """Return on the first SIGTERM or SIGINT."""
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            logger.info("received %s, shutting down", signal.Signals(signum).name)
            return


async def serve(
    app: BiomockApp,
    config: Config,
    sock: socket.socket,
    *,
    shutdown_trigger: Callable[[], Awaitable[None]] = wait_for_termination,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> int:
    """Serve ``app`` on ``sock`` until ``shutdown_trigger`` returns; the exit status.

    With a bus, a process that fell behind the log's trimming shuts down the same way
    and returns 1, so that the orchestrator restarts it (``biomock.bus.node``).

    The generator runs beside Hypercorn, supervised (``biomock.supervisor``), in
    this task's nursery (as does the session registry, which owns every session's
    generator): not in the app's lifespan nursery, where a crash would go unseen.
    Shutdown ends every open stream first (each client sees the end
    of its chunked body), then Hypercorn stops accepting and waits up to the
    graceful timeout for requests in flight.

    Cancellation: cancelling this task closes every connection at once.
    """
    state = app.state

    async def shutdown() -> None:
        bus = state.bus
        if bus is None:
            await shutdown_trigger()
        else:
            async with trio.open_nursery() as first:  # whichever comes first

                async def until(event: Callable[[], Awaitable[None]]) -> None:
                    await event()
                    first.cancel_scope.cancel()

                first.start_soon(until, shutdown_trigger)
                first.start_soon(until, bus.wait_broken)
            await bus.resign()  # another process generates from now on
            await state.sessions.resign()  # and the sessions this one generated
        # Streams end first, each with the end of its response; a write still blocked
        # when their share of the graceful timeout is over is aborted, so that
        # Hypercorn's own deadline never waits for a client that stopped reading.
        deadline = trio.current_time() + STREAMS_SHARE * config.graceful_timeout_s
        state.hub.close(deadline=deadline)
        state.sessions.close(deadline)

    async with trio.open_nursery() as nursery:
        if state.bus is not None:
            # One generator for every process sharing the bus: this one's runs only
            # while it holds the lease (biomock.bus).
            await nursery.start(state.bus.run)
        else:
            await nursery.start(
                partial(
                    supervise_generator,
                    state.hub,
                    state.source,
                    state.clock,
                    state.generator,
                    max_batch=config.max_batch,
                )
            )
        await nursery.start(state.sessions.run)  # every session's generator runs in there
        await hypercorn_serve(
            app,
            hypercorn_config(config, sock),
            shutdown_trigger=shutdown,
            task_status=task_status,
        )
        nursery.cancel_scope.cancel()
    return 1 if state.bus is not None and state.bus.broken else 0
