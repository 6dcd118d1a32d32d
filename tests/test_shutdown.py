"""SIGTERM ends every open stream cleanly and the process exits 0.

A real `biomock serve` process on the real clock: signals and process exit
cannot run on a virtual clock. Bounded to seconds.
"""

from __future__ import annotations

import os
import re
import signal
import socket
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


async def start_server(nursery: trio.Nursery, settings: dict[str, str]) -> tuple[trio.Process, str]:
    """A real ``python -m biomock serve`` on 127.0.0.1, port 0; returns it and its URL."""
    env = {**os.environ, "BIOMOCK_PORT": "0", "BIOMOCK_SEED": "7", **settings}
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
    nursery.start_soon(_drain, process.stderr)
    return process, match.group(1).decode()


async def _drain(stream: trio.abc.ReceiveStream) -> None:
    while await stream.receive_some():
        pass


async def test_sigterm_with_a_stalled_client_among_100_readers() -> None:
    graceful_s = 3.0
    settings = {
        # About 2 MB/s of samples for the client that stops reading: its socket
        # buffers fill within a second or two, and its write blocks.
        "BIOMOCK_SUBJECTS": "10",
        "BIOMOCK_SPEED": "1000",
        "BIOMOCK_GRACEFUL_TIMEOUT_S": str(graceful_s),
        "BIOMOCK_SLOW_CLIENT_TIMEOUT_S": "60",
    }
    readers = 100
    ended_cleanly: list[int] = []
    connected = trio.Event()
    opened = 0
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            process, url = await start_server(nursery, settings)
            port = int(url.rsplit(":", 1)[1])
            stalled = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            await stalled.connect(("127.0.0.1", port))
            await stalled.send(b"GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            limits = httpx.Limits(max_connections=readers, max_keepalive_connections=0)
            async with httpx.AsyncClient(base_url=url, timeout=None, limits=limits) as client:

                async def read(i: int) -> None:
                    nonlocal opened
                    params = {"types": "blood_glucose", "subject": "default"}
                    async with client.stream("GET", "/api/stream", params=params) as response:
                        chunks = response.aiter_bytes()
                        first = await chunks.__anext__()
                        assert first.startswith(b"retry: 3000\n\n")
                        opened += 1
                        if opened == readers:
                            connected.set()
                        # To the end of the chunked body: an abrupt close would raise.
                        async for _ in chunks:
                            pass
                        assert response.is_closed
                    ended_cleanly.append(i)

                async with trio.open_nursery() as clients:
                    for i in range(readers):
                        clients.start_soon(read, i)
                    await connected.wait()
                    await trio.sleep(3)  # the stalled client's buffers fill up
                    process.send_signal(signal.SIGTERM)
                    signalled = trio.current_time()
                    with trio.fail_after(graceful_s + 2):
                        await process.wait()
                    exited_after = trio.current_time() - signalled
            stalled.close()
            nursery.cancel_scope.cancel()
    assert process.returncode == 0
    assert exited_after < graceful_s + 2
    assert sorted(ended_cleanly) == list(range(readers))
