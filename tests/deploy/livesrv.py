"""A real biomock server on 127.0.0.1 port 0 for tests: in the test's nursery, or in a thread.

Unlike ``tests.serving``, which streams a scripted source, this serves the app as
``biomock serve`` builds it (the simulator), since these tests check what users and
operators get. The thread form serves synchronous clients (the guides' snippets,
schemathesis, subprocesses such as curl and node) while the server's trio loop runs.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from functools import partial
from typing import Any

import trio

from biomock.app import BiomockApp, create_app
from biomock.config import Config
from biomock.server import open_listen_socket, serve


def _app(settings: dict[str, Any]) -> tuple[BiomockApp, Config]:
    config = Config(host="127.0.0.1", port=0, **{"seed": 1, **settings})
    return create_app(config), config


@asynccontextmanager
async def serving(**settings: Any) -> AsyncIterator[tuple[str, BiomockApp]]:
    """Serve a fresh app in this task's nursery; yields its base URL and the app."""
    app, config = _app(settings)
    sock = open_listen_socket("127.0.0.1", 0, user_timeout_s=config.slow_client_timeout_s)
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(partial(serve, app, config, sock, shutdown_trigger=stop.wait))
        try:
            yield binds[0], app
        finally:
            stop.set()


@contextmanager
def serving_in_thread(**settings: Any) -> Iterator[str]:
    """Serve a fresh app from a thread running its own trio loop; yields the base URL.

    Leaving the block shuts the server down as SIGTERM would and joins the thread.
    """
    started: queue.Queue[tuple[str, trio.lowlevel.TrioToken, trio.Event] | BaseException]
    started = queue.Queue()

    async def main() -> None:
        try:
            async with serving(**settings) as (url, _app):
                stop = trio.Event()
                started.put((url, trio.lowlevel.current_trio_token(), stop))
                await stop.wait()
        except BaseException as error:
            started.put(error)
            raise

    thread = threading.Thread(target=trio.run, args=(main,), daemon=True)
    thread.start()
    result = started.get(timeout=20)
    if isinstance(result, BaseException):
        raise result
    url, token, stop = result
    try:
        yield url
    finally:
        trio.from_thread.run_sync(stop.set, trio_token=token)
        thread.join(timeout=20)
        assert not thread.is_alive(), "the server thread did not stop"
