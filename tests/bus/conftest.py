"""A real Redis (Debian's ``redis-server``, started by pytest-redis on a free port) for the bus.

One server for the whole run, without persistence, so a restart brings it back empty;
every test starts from an empty one.
"""

from __future__ import annotations

from collections.abc import Iterator

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
