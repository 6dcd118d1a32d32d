"""Several server processes on one listening socket (``BIOMOCK_WORKERS``), sharing the bus.

Each worker is a forked process with its own trio loop, hub and reader, accepting on the
socket the parent bound (the kernel spreads connections over the processes waiting in
``accept``). Only the bus makes them serve one stream, so the settings refuse more than
one worker without it (``biomock.config``).
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING

from biomock.config import Config

if TYPE_CHECKING:
    from biomock.app import BiomockApp

logger = logging.getLogger(__name__)


def run_workers(
    config: Config, sock: socket.socket, make_app: Callable[[], BiomockApp] | None = None
) -> int:
    """Serve with ``config.workers`` processes until SIGTERM or SIGINT; the exit status.

    The parent only forwards SIGTERM/SIGINT and waits: each worker shuts down as a single
    server does (``biomock.server.serve``), within the graceful timeout.

    Args:
        make_app: builds each worker's app after the fork (``create_app(config)`` by
            default; the benchmark passes its own source).
    """
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(
            target=_serve_one, args=(config, sock, make_app), name=f"biomock-worker-{n}"
        )
        for n in range(config.workers)
    ]
    for worker in workers:
        worker.start()
    sock.close()
    logger.info("serving with %d worker processes", len(workers))

    def forward(signum: int, frame: FrameType | None) -> None:
        for worker in workers:
            if worker.is_alive() and worker.pid is not None:
                worker.terminate()  # SIGTERM: the worker's own graceful shutdown

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for worker in workers:
        worker.join()
    codes = [worker.exitcode or 0 for worker in workers]
    return max(codes, key=abs)


def _serve_one(
    config: Config, sock: socket.socket, make_app: Callable[[], BiomockApp] | None
) -> None:
    import trio

    from biomock.app import create_app
    from biomock.server import serve, tune_gc

    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # trio's receiver takes over in serve
    signal.signal(signal.SIGINT, signal.default_int_handler)
    app = create_app(config) if make_app is None else make_app()
    tune_gc()
    trio.run(serve, app, config, sock)
