"""SIGTERM ends every open stream cleanly and the process exits 0.

A real `biomock serve` process on the real clock: signals and process exit
cannot run on a virtual clock. Bounded to a few seconds.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from functools import partial

import httpx
import trio


async def test_sigterm_ends_streams_cleanly_and_exits_zero() -> None:
    env = {
        **os.environ,
        "BIOMOCK_PORT": "0",
        "BIOMOCK_SEED": "7",
        "BIOMOCK_GRACEFUL_TIMEOUT_S": "3",
    }
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            process: trio.Process = await nursery.start(
                partial(
                    trio.run_process,
                    [sys.executable, "-m", "biomock", "serve", "--host", "127.0.0.1"],
                    env=env,
                    stderr=subprocess.PIPE,
                    check=False,
                )
            )
            assert process.stderr is not None
            log = b""
            while (match := re.search(rb"Running on (http://\S+)", log)) is None:
                chunk = await process.stderr.receive_some()
                assert chunk, log.decode()
                log += chunk
            url = match.group(1).decode()

            received = b""
            signalled = False
            async with httpx.AsyncClient(base_url=url, timeout=None) as client:
                async with client.stream("GET", "/api/stream") as response:
                    # Reads to the end of the chunked body; an abrupt close would raise.
                    # One chunk may hold several events (a tick's batch of all types).
                    async for chunk in response.aiter_bytes():
                        received += chunk
                        if not signalled and received.count(b"id: ") >= 2:
                            process.send_signal(signal.SIGTERM)
                            signalled = True
                    assert response.is_closed
            with trio.fail_after(5):
                await process.wait()
            nursery.cancel_scope.cancel()
    assert process.returncode == 0
    assert received.startswith(b"retry: 3000\n\n")
    assert received.count(b"id: ") >= 2
