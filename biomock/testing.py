"""A pytest plugin for testing clients of biomock: a server per run, a session per test.

Installed with biomock (entry point ``pytest11``), so any test can ask for:

- ``biomock_server``: a biomock started in this process on a free port (in a thread with
  its own trio loop), or the server at ``$BIOMOCK_URL`` (with ``$BIOMOCK_TOKEN``);
- ``biomock_session``: a fresh session (``POST /api/sessions``) for the test, deleted
  after it. ``@pytest.mark.biomock_session(seed=7, subjects=["alice"], paused=True)``
  gives its body. The session reads samples (:meth:`BiomockSession.read_samples`),
  steps its clock and switches scenarios.

The HTTP client is httpx with httpx-sse (``pip install 'biomock[testing]'``), imported
when a fixture is first used, so that loading the plugin costs nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import httpx

MARKER = "biomock_session"
START_TIMEOUT_S = 20.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**body): the body of the test's session (API.md POST /api/sessions), "
        "e.g. seed=7, subjects=['alice'], paused=True",
    )


@dataclass(frozen=True)
class BiomockServer:
    """A biomock server: its base URL and the token to send (``None``: auth is off)."""

    url: str
    token: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {} if self.token is None else {"Authorization": f"Bearer {self.token}"}


@dataclass
class BiomockSession:
    """One session on ``server``: ``id`` and ``info`` as ``POST /api/sessions`` answered."""

    server: BiomockServer
    info: dict[str, Any]
    client: httpx.Client = field(repr=False)

    @property
    def id(self) -> str:
        return str(self.info["id"])

    @property
    def params(self) -> dict[str, str]:
        """The query parameter that addresses this session: ``{"session": id}``."""
        return {"session": self.id}

    def url(self, path: str = "/api/stream", **params: Any) -> str:
        """A URL of this session, e.g. ``url("/api/stream", types="heart_rate")`` for the
        client under test."""
        query = httpx_params({**params, **self.params})
        return f"{self.server.url}{path}?{query}"

    def step(self, now: str) -> dict[str, Any]:
        """Jump the clock to ``now``; a paused session publishes every sample up to it."""
        return self.set_clock(now=now)

    def set_clock(self, **fields: Any) -> dict[str, Any]:
        """``POST /api/clock`` with ``speed``, ``paused`` and/or ``now``."""
        return self._json("POST", "/api/clock", json=fields)

    def switch(self, scenario: str, subject: str = "default") -> dict[str, Any]:
        """Switch ``subject`` to ``scenario`` now (``POST /api/scenario``)."""
        return self._json("POST", "/api/scenario", json={"scenario": scenario, "subject": subject})

    def history(self, **params: Any) -> list[dict[str, Any]]:
        """Every buffered sample that matches ``params`` (``types``, ``subject``, ``format``,
        ``since``, ``until``), oldest first, all pages."""
        items: list[dict[str, Any]] = []
        after: int | None = None
        while True:
            page_params = {
                **params,
                "limit": 10000,
                **({} if after is None else {"after_id": after}),
            }
            page = self._json("GET", "/api/history", params=page_params)
            items.extend(page["items"])
            after = page["next_after_id"]
            if after is None:
                return items

    def read_samples(
        self, n: int, *, timeout_s: float = 10.0, **params: Any
    ) -> list[dict[str, Any]]:
        """The next ``n`` samples of this session's stream (``types``, ``subject``,
        ``format``, ``history``, ``last_event_id`` as on ``/api/stream``).

        Raises:
            TimeoutError: fewer than ``n`` arrived within ``timeout_s``.
        """
        return read_samples(self.client, n, timeout_s=timeout_s, **{**params, **self.params})

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        params = {**kwargs.pop("params", {}), **self.params}
        response = self.client.request(method, path, params=params, **kwargs)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer


def httpx_params(params: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return urlencode({k: v for k, v in params.items() if v is not None})


def read_samples(
    client: httpx.Client, n: int, *, timeout_s: float = 10.0, **params: Any
) -> list[dict[str, Any]]:
    """The first ``n`` samples of ``/api/stream`` with ``params``, read with ``client``.

    ``timeout_s`` bounds the whole read: keepalive comments arrive, but a timer cuts
    the connection when the time is up.

    Raises:
        TimeoutError: fewer than ``n`` arrived within ``timeout_s`` (or the stream
            ended before).
    """
    import httpx
    from httpx_sse import connect_sse

    deadline = time.monotonic() + timeout_s
    samples: list[dict[str, Any]] = []
    expired = threading.Event()
    try:
        with connect_sse(
            client, "GET", "/api/stream", params=params, timeout=httpx.Timeout(timeout_s)
        ) as source:
            source.response.raise_for_status()

            def expire(response: httpx.Response = source.response) -> None:
                expired.set()
                _cut(response)

            timer = threading.Timer(max(0.0, deadline - time.monotonic()), expire)
            timer.daemon = True
            timer.start()
            try:
                for event in source.iter_sse():
                    if event.data and event.event == "message":
                        samples.append(json.loads(event.data))
                        if len(samples) == n:
                            return samples
            finally:
                timer.cancel()
    except httpx.TransportError:
        if not expired.is_set() and time.monotonic() < deadline:
            raise
    raise TimeoutError(f"{len(samples)} of {n} samples arrived within {timeout_s} s")


def _cut(response: httpx.Response) -> None:
    """End ``response``'s connection from another thread: a read blocked on it returns.

    Closing a socket does not wake a thread blocked reading it; shutting it down does.
    """
    stream = response.extensions.get("network_stream")
    sock = None if stream is None else stream.get_extra_info("socket")
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    else:  # pragma: no cover - a transport without a socket (not httpx's default)
        response.close()


@contextmanager
def serve_in_thread(**settings: Any) -> Iterator[str]:
    """A biomock server on 127.0.0.1 and a free port, in a thread; yields its URL.

    ``settings`` are ``biomock.config.Config`` fields. Leaving the block shuts it down
    as SIGTERM would.
    """
    with run_in_thread(partial(_serving, settings)) as url:
        yield url


@contextmanager
def run_in_thread(open_server: Callable[[], AbstractAsyncContextManager[str]]) -> Iterator[str]:
    """Enter ``open_server()`` (an async context manager that serves and yields the base
    URL) in a thread running its own trio loop, for synchronous clients; yields the URL.

    Leaving the block leaves ``open_server()``'s block (the server shuts down as on
    SIGTERM) and joins the thread.

    Raises:
        RuntimeError: the server's thread did not stop within ``START_TIMEOUT_S``.
    """
    import trio

    started: queue.Queue[tuple[str, trio.lowlevel.TrioToken, trio.Event] | BaseException]
    started = queue.Queue()

    async def main() -> None:
        try:
            async with open_server() as url:
                stop = trio.Event()
                started.put((url, trio.lowlevel.current_trio_token(), stop))
                await stop.wait()
        except BaseException as error:
            started.put(error)
            raise

    thread = threading.Thread(target=trio.run, args=(main,), name="biomock", daemon=True)
    thread.start()
    result = started.get(timeout=START_TIMEOUT_S)
    if isinstance(result, BaseException):
        raise result
    url, token, stop = result
    try:
        yield url
    finally:
        trio.from_thread.run_sync(stop.set, trio_token=token)
        thread.join(timeout=START_TIMEOUT_S)
        if thread.is_alive():
            raise RuntimeError("the biomock server thread did not stop")


@asynccontextmanager
async def _serving(settings: dict[str, Any]) -> AsyncIterator[str]:
    """``biomock serve`` with ``settings`` on 127.0.0.1 and a free port; yields its URL."""
    import trio

    from biomock.app import create_app
    from biomock.config import Config
    from biomock.server import open_listen_socket, serve

    config = Config(host="127.0.0.1", port=0, **settings)
    app = create_app(config)
    sock = open_listen_socket("127.0.0.1", 0, user_timeout_s=config.slow_client_timeout_s)
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(partial(serve, app, config, sock, shutdown_trigger=stop.wait))
        try:
            yield binds[0]
        finally:
            stop.set()


@pytest.fixture(scope="session")
def biomock_server() -> Iterator[BiomockServer]:
    """``$BIOMOCK_URL`` (with ``$BIOMOCK_TOKEN``), else a biomock in this process."""
    url = os.environ.get("BIOMOCK_URL")
    token = os.environ.get("BIOMOCK_TOKEN") or None
    if url:
        yield BiomockServer(url.rstrip("/"), token)
        return
    with serve_in_thread() as local:
        yield BiomockServer(local, token)


@pytest.fixture
def biomock_session(
    biomock_server: BiomockServer, request: pytest.FixtureRequest
) -> Iterator[BiomockSession]:
    """A session for this test (its body from ``@pytest.mark.biomock_session``), deleted
    after it."""
    import httpx

    marker = request.node.get_closest_marker(MARKER)
    body = dict(marker.kwargs) if marker is not None else {}
    with httpx.Client(
        base_url=biomock_server.url, headers=biomock_server.headers, timeout=30.0
    ) as client:
        response = client.post("/api/sessions", json=body)
        response.raise_for_status()
        session = BiomockSession(biomock_server, response.json(), client)
        try:
            yield session
        finally:
            client.delete(f"/api/sessions/{session.id}")  # gone already (expired): fine
