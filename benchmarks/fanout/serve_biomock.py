"""Serve biomock for the benchmark: the real server, with the benchmark's source.

Every setting comes from ``BIOMOCK_*`` as for ``biomock serve``; ``--backlog-samples``
and ``--padding`` pre-fill the buffer (see :mod:`benchmarks.fanout.bench_source`).

Run: ``BIOMOCK_PORT=8002 python -m benchmarks.fanout.serve_biomock``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

import trio

from benchmarks.fanout.bench_source import BenchSource
from biomock.app import create_app
from biomock.config import load_config
from biomock.server import open_listen_socket, serve, tune_gc
from biomock.workers import run_workers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backlog-samples", type=int, default=0)
    parser.add_argument("--padding", type=int, default=0)
    args = parser.parse_args()
    config = load_config()
    logging.basicConfig(level=logging.WARNING)
    wall_ms = int(time.time() * 1000)
    source = BenchSource(wall_ms, backlog=args.backlog_samples, padding=args.padding)
    sock = open_listen_socket(config.host, config.port, user_timeout_s=config.slow_client_timeout_s)
    if config.workers > 1:  # BIOMOCK_WORKERS with BIOMOCK_BUS: the bus scenario
        sys.exit(
            run_workers(config, sock, lambda: create_app(config, source=source, wall_ms=wall_ms))
        )
    app = create_app(config, source=source, wall_ms=wall_ms)
    tune_gc()  # as biomock serve does
    trio.run(serve, app, config, sock)


if __name__ == "__main__":
    main()
