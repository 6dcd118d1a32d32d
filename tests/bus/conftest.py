"""A real Redis (Debian's ``redis-server``, started by pytest-redis on a free port) for the bus.

One server for the whole run, without persistence, so a restart brings it back empty;
every test starts from an empty one.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import port_for
import pytest
import redis
from pytest_redis import factories
from pytest_redis.executor import RedisExecutor

redis_server = factories.redis_proc(port=None, save='""')


@pytest.fixture
def bus_url(redis_server: RedisExecutor) -> Iterator[str]:
    """The URL of an emptied Redis."""
    if not redis_server.running():
        redis_server.start()
    with redis.Redis(host=redis_server.host, port=redis_server.port) as client:
        client.flushall()
    yield f"redis://{redis_server.host}:{redis_server.port}/0"


@pytest.fixture
def sentinel_url(bus_url: str, redis_server: RedisExecutor, tmp_path: Path) -> Iterator[str]:
    """A real Sentinel (``redis-server --sentinel``) watching the test Redis as ``biomock``;
    the bus URL that names it."""
    port = port_for.get_port(None)
    conf = tmp_path / "sentinel.conf"  # Sentinel rewrites its file: a fresh one per test
    conf.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor biomock {redis_server.host} {redis_server.port} 1\n"
        "sentinel down-after-milliseconds biomock 5000\n"
    )
    process = subprocess.Popen(
        [redis_server.executable, str(conf), "--sentinel"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with redis.Redis(host="127.0.0.1", port=port) as client:
                    if client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "biomock"):
                        break
            except redis.ConnectionError:
                pass
            assert time.monotonic() < deadline, "Sentinel did not start"
            time.sleep(0.05)
        yield f"redis+sentinel://127.0.0.1:{port}/biomock/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
