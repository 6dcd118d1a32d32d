"""Several server processes on one listening socket (``BIOMOCK_WORKERS``), sharing the bus.

Each worker is a forked process with its own trio loop, hub and reader, accepting on the
socket the parent bound (the kernel spreads connections over the processes waiting in
``accept``). Only the bus makes them serve one stream, so the settings refuse more than
one worker without it (``biomock.config``).
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import sys
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

    The parent forwards the first SIGTERM/SIGINT to every worker as SIGTERM and waits:
    each worker shuts down as a single server does (``biomock.server.serve``), within
    the graceful timeout. Workers run in their own process group, so a Ctrl-C in a
    terminal reaches the parent only, and each worker gets exactly one SIGTERM.

    A worker that exits while nobody asked it to (a crash, ``kill -9``, a process that
    fell behind the log's trimming) is logged as an error; the parent then stops the
    others and exits non-zero, so that the orchestrator restarts the whole server.

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
    stopping = False

    def stop_all() -> None:
        for worker in workers:
            if worker.pid is not None and worker.is_alive():
                worker.terminate()  # SIGTERM: the worker's own graceful shutdown

    def forward(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        if stopping:
            return  # each worker already has its SIGTERM; a second one would cut streams
        stopping = True
        logger.info("received %s, stopping the workers", signal.Signals(signum).name)
        stop_all()

    # Before the first fork: a signal arriving while workers start is forwarded too.
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for worker in workers:
        worker.start()
    sock.close()
    logger.info("serving with %d worker processes", len(workers))

    failed = False
    running = {worker.sentinel: worker for worker in workers}
    while running:
        ready = multiprocessing.connection.wait(list(running))
        for worker in [w for sentinel, w in running.items() if sentinel in ready]:
            del running[worker.sentinel]
            worker.join()
            if not stopping:
                logger.error(
                    "worker %s (pid %s) exited unexpectedly with status %s; stopping the others",
                    worker.name,
                    worker.pid,
                    worker.exitcode,
                )
                failed = stopping = True
                stop_all()
    codes = [worker.exitcode or 0 for worker in workers]
    status = max(codes, key=abs)
    return (status or 1) if failed else status


def _serve_one(
    config: Config, sock: socket.socket, make_app: Callable[[], BiomockApp] | None
) -> None:
    import trio

    from biomock.app import create_app
    from biomock.server import serve, tune_gc

    # Terminal signals go to the parent only; it forwards one SIGTERM (run_workers).
    os.setpgrp()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # trio's receiver takes over in serve
    signal.signal(signal.SIGINT, signal.default_int_handler)
    app = create_app(config) if make_app is None else make_app()
    tune_gc()
    sys.exit(trio.run(serve, app, config, sock))
