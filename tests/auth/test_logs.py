"""Nothing the server logs while authenticating ever contains a token or a secret."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import trio
from httpx_sse import aconnect_sse

from tests.auth.helpers import ISSUED, STATIC, auth_serving, bearer, mint
from tests.conftest import CredentialWatch


async def test_auth_traffic_logs_no_credential(
    tmp_path: Path,
    autojump_clock: trio.abc.Clock,
    no_credential_in_any_log_line: CredentialWatch,
) -> None:
    watch = no_credential_in_any_log_line
    lines_before, leaks_before = watch.lines, len(watch.leaks)
    expired = mint(now=time.time() - 3600, ttl_s=60)
    short = mint(ttl_s=1)
    with trio.fail_after(120):
        async with auth_serving(tmp_path) as server, server.client() as client:
            for token in [STATIC["read"], STATIC["metrics"], expired, "z" * 40, *STATIC.values()]:
                await client.get("/api/stats", headers=bearer(token))
                await client.get("/api/stats", params={"access_token": token})
                await client.get("/api/history", params={"access_token": token, "limit": "x"})
                await client.post("/api/clock", params={"access_token": token}, content=b"{")
                await client.get("/metrics", headers=bearer(token))
            params = {"access_token": short, "types": "heart_rate"}
            async with aconnect_sse(client, "GET", "/api/stream", params=params) as es:
                async for _ in es.aiter_sse():
                    pass  # until the token expires and the server ends the stream
    assert watch.lines - lines_before > 60  # the watch saw the server's lines
    assert watch.leaks[leaks_before:] == []
    assert STATIC["read"] in ISSUED and short in ISSUED


def test_the_watch_finds_a_logged_token(no_credential_in_any_log_line: CredentialWatch) -> None:
    """The check itself works: a token in a message or in a field is found."""
    watch = no_credential_in_any_log_line
    probe = CredentialWatch()
    record = logging.LogRecord(
        "biomock.x", logging.INFO, __file__, 1, "t=%s", (STATIC["read"],), None
    )
    probe.emit(record)
    field = logging.LogRecord("biomock.x", logging.INFO, __file__, 1, "ok", None, None)
    field.__dict__["label"] = STATIC["admin"]
    probe.emit(field)
    assert len(probe.leaks) == 4
    assert watch is not probe
