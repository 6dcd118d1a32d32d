"""Cross-site requests cannot change state: JSON bodies only (415), known Hosts only (421)."""

from __future__ import annotations

import json

import pytest
import trio

from tests.serving import serving

EVERY_ROUTE = [
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/api/stream"),
    ("GET", "/api/history"),
    ("GET", "/api/types"),
    ("GET", "/api/clock"),
    ("POST", "/api/clock"),
    ("GET", "/openapi.json"),
    ("GET", "/"),
    ("OPTIONS", "/api/clock"),
]


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; b=x"],
)
async def test_a_state_change_with_a_non_json_body_is_415(content_type: str | None) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            before = (await client.get("/api/clock")).json()
            clock = await client.post("/api/clock", content=b'{"speed": 50}', headers=headers)
            scenario = await client.post(
                "/api/scenario", content=b'{"scenario": "workout"}', headers=headers
            )
            after = (await client.get("/api/clock")).json()
    for response in (clock, scenario):
        assert response.status_code == 415, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.json()["error"]["code"] == "unsupported_media_type"
    assert after["speed"] == before["speed"] == 1.0


async def test_json_with_parameters_is_accepted() -> None:
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            for content_type in ("application/json; charset=utf-8", "Application/JSON"):
                response = await client.post(
                    "/api/clock", content=b'{"speed": 2}', headers={"content-type": content_type}
                )
                assert response.status_code == 200, (content_type, response.text)
                assert response.json()["speed"] == 2


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "localhost.evil.example"])
async def test_a_foreign_host_is_421_on_every_route(host: str) -> None:
    with trio.fail_after(60):
        async with serving() as server, server.client() as client:
            for method, path in EVERY_ROUTE:
                headers = {"host": host, "access-control-request-method": "POST"}
                response = await client.request(method, path, headers=headers, json={})
                assert response.status_code == 421, (method, path, response.status_code)
                assert response.headers["content-type"] == "application/json"
                assert response.json()["error"]["code"] == "misdirected_request"
            assert (await client.get("/api/clock")).json()["speed"] == 1.0


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1:1", "[::1]:8000"])
async def test_loopback_names_are_answered_by_default(host: str) -> None:
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            response = await client.get("/healthz", headers={"host": host})
    assert response.status_code == 200


async def test_allowed_hosts_replace_the_default() -> None:
    with trio.fail_after(30):
        async with serving(allowed_hosts="biomock.test, api.biomock.test") as server:
            async with server.client() as client:
                named = await client.get("/healthz", headers={"host": "api.biomock.test:443"})
                loopback = await client.get("/healthz", headers={"host": "localhost"})
        async with serving(allowed_hosts="*") as server, server.client() as client:
            anything = await client.get("/healthz", headers={"host": "evil.example"})
    assert named.status_code == 200
    assert loopback.status_code == 421
    assert anything.status_code == 200


def test_the_default_follows_the_listening_address() -> None:
    from biomock.hygiene import default_allowed_hosts  # imported here: absent before the fix

    loopback = ("localhost", "127.0.0.1", "[::1]")
    assert default_allowed_hosts("127.0.0.1") == loopback
    assert default_allowed_hosts("127.0.0.2") == loopback
    assert default_allowed_hosts("::1") == loopback
    assert default_allowed_hosts("localhost") == loopback
    assert default_allowed_hosts("0.0.0.0") == ("*",)
    assert default_allowed_hosts("::") == ("*",)
    assert default_allowed_hosts("biomock.internal") == ("*",)


async def test_a_websocket_handshake_from_a_foreign_host_is_421() -> None:
    upgrade = (
        b"GET /api/ws HTTP/1.1\r\nHost: evil.example\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
    )
    with trio.fail_after(30):
        async with serving() as server:
            stream = await trio.open_tcp_stream("127.0.0.1", server.port)
            async with stream:
                await stream.send_all(upgrade)
                answer = b""
                while not answer.endswith(b"}"):
                    data = await stream.receive_some()
                    if not data:
                        break
                    answer += data
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 421"), head
    assert b"content-type: application/json" in head.lower()
    assert json.loads(body)["error"]["code"] == "misdirected_request"
