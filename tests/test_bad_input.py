"""Bad input of any size or shape is a 4xx in API.md's JSON shape, and the server keeps serving."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import trio
from httpx_sse import aconnect_sse
from werkzeug.exceptions import (
    HTTPException,
    RequestEntityTooLarge,
    RequestHeaderFieldsTooLarge,
    RequestTimeout,
)

from biomock.app import create_app
from biomock.config import Config
from biomock.routes.common import http_error
from tests.serving import ID_BASE, serving

HUGE = "9" * 5000
TOO_LONG = "1" * 21  # one digit more than any id a client may name


def assert_invalid(response: httpx.Response, parameter: str) -> None:
    assert response.status_code == 400, (response.status_code, response.text[:200])
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "invalid_parameter", error
    assert error["parameter"] == parameter, error
    assert len(error["message"]) < 1000  # the 5000-digit value is not echoed whole


@pytest.mark.parametrize("number", [HUGE, TOO_LONG])
async def test_numbers_too_long_to_be_ids_are_400_on_the_stream(number: str) -> None:
    cases: list[tuple[dict[str, str], dict[str, str], str]] = [
        ({}, {"Last-Event-ID": number}, "Last-Event-ID"),
        ({"last_event_id": number}, {}, "last_event_id"),
        ({"history": number}, {}, "history"),
    ]
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            for params, headers, parameter in cases:
                response = await client.get("/api/stream", params=params, headers=headers)
                assert_invalid(response, parameter)
            assert (await client.get("/healthz")).status_code == 200


@pytest.mark.parametrize("number", [HUGE, TOO_LONG])
async def test_numbers_too_long_to_be_ids_are_400_on_history(number: str) -> None:
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            for parameter in ("limit", "after_id"):
                response = await client.get("/api/history", params={parameter: number})
                assert_invalid(response, parameter)


async def test_a_twenty_digit_resume_point_is_an_unknown_reset(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            await trio.sleep(2.5)
            headers = {"Last-Event-ID": "9" * 20}
            async with aconnect_sse(client, "GET", "/api/stream", headers=headers) as es:
                assert es.response.status_code == 200
                events = es.aiter_sse()
                reset = await anext_with_data(events)
                live = await anext_with_data(events)
    assert reset.event == "reset"
    assert json.loads(reset.data)["reason"] == "unknown"
    assert int(live.id) == ID_BASE + 3  # then live, from the next sample


async def anext_with_data(events: AsyncIterator[Any]) -> Any:
    async for event in events:
        if event.data:
            return event
    raise AssertionError("the stream ended")


@pytest.mark.parametrize("types", ["", ",,", " , "])
async def test_an_empty_type_list_is_400(types: str) -> None:
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            for path in ("/api/stream", "/api/history"):
                response = await client.get(path, params={"types": types})
                assert_invalid(response, "types")
                assert "valid: heart_rate" in response.json()["error"]["message"]


def assert_invalid_json(response: httpx.Response) -> None:
    assert response.status_code == 400, (response.status_code, response.text[:200])
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == "invalid_json"


async def test_deeply_nested_json_is_invalid_json() -> None:
    json_type = {"content-type": "application/json"}
    with trio.fail_after(60):
        async with serving() as server, server.client() as client:
            within_limit = await client.post("/api/clock", content=b"[" * 4000, headers=json_type)
            assert_invalid_json(within_limit)
        async with serving(max_body_bytes=200_000) as server, server.client() as client:
            deep = await client.post("/api/scenario", content=b"[" * 100_000, headers=json_type)
            assert_invalid_json(deep)
            nested_object = b'{"speed":' + b"[" * 50_000
            assert_invalid_json(
                await client.post("/api/clock", content=nested_object, headers=json_type)
            )
            assert (await client.get("/api/clock")).json()["speed"] == 1.0


async def test_bodies_that_are_not_a_json_object_are_invalid_json() -> None:
    json_type = {"content-type": "application/json"}
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            for body in (b"", b"   ", b"\xff\xfe{", b"[1, 2]", b"null", b'"speed"', b"1e999"):
                response = await client.post("/api/clock", content=body, headers=json_type)
                assert_invalid_json(response)
            huge_number = b'{"speed": ' + b"9" * 4000 + b"}"
            response = await client.post("/api/clock", content=huge_number, headers=json_type)
            assert response.status_code == 400


def list_body(total: int) -> bytes:
    return b"[" + b"[]," * (total // 3) + b"[]]"


async def test_a_huge_body_is_refused_unread_with_content_length() -> None:
    body = list_body(16 * 1024 * 1024)
    with trio.fail_after(60):
        async with serving() as server, server.client() as client:
            response = await client.post(
                "/api/clock", content=body, headers={"content-type": "application/json"}
            )
            assert response.status_code == 413
            assert response.headers["content-type"] == "application/json"
            assert response.json()["error"]["code"] == "payload_too_large"
            assert "4096" in response.json()["error"]["message"]
            assert (await client.get("/api/clock")).status_code == 200


async def test_a_huge_chunked_body_is_refused_as_it_arrives() -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b"["
        for _ in range(4096):  # 16 MB in 4 KB chunks, unless the server stops reading
            sent += 4096
            yield b"[]," * 1365 + b"[]"

    with trio.fail_after(60):
        async with serving() as server, server.client() as client:
            response = await client.post(
                "/api/clock", content=chunks(), headers={"content-type": "application/json"}
            )
            assert response.status_code == 413
            assert response.json()["error"]["code"] == "payload_too_large"
            assert sent < 4 * 1024 * 1024  # the server stopped reading long before the end
            assert (await client.get("/api/clock")).status_code == 200
            assert (await client.get("/healthz")).status_code == 200


async def test_a_body_that_never_arrives_is_408_in_shape(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(120):
        async with serving() as server:
            stream = await trio.open_tcp_stream("127.0.0.1", server.port)
            async with stream:
                await stream.send_all(
                    b"POST /api/clock HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 20\r\n\r\n{"
                )
                answer = b""
                while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
                    data = await stream.receive_some()
                    if not data:
                        break
                    answer += data
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    assert json.loads(body)["error"]["code"] == "request_timeout"


@pytest.mark.parametrize(
    ("refusal", "code"),
    [
        (RequestEntityTooLarge(), "payload_too_large"),
        (RequestTimeout(), "request_timeout"),
        (RequestHeaderFieldsTooLarge(), "request_header_fields_too_large"),
    ],
)
async def test_quarts_own_refusals_keep_their_status_and_are_not_internal(
    refusal: HTTPException, code: str
) -> None:
    app = create_app(Config(seed=1))
    async with app.test_request_context("/api/clock", method="POST"):
        response = await http_error(refusal)
    assert response.status_code == refusal.code
    assert json.loads(await response.get_data())["error"]["code"] == code


async def test_after_a_refused_body_the_connection_serves_the_next_request() -> None:
    """An oversized body is read and dropped, so the same keep-alive connection answers
    the client's next request (no reset, no request lost on a closing connection)."""
    body = b"[]," * 3000 + b"[]"
    first = (
        "POST /api/clock HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    second = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with trio.fail_after(30):
        async with serving() as server:
            stream = await trio.open_tcp_stream("127.0.0.1", server.port)
            async with stream:
                await stream.send_all(first)
                answer = b""
                while b"payload_too_large" not in answer:
                    chunk = await stream.receive_some()
                    assert chunk, answer
                    answer += chunk
                assert answer.startswith(b"HTTP/1.1 413")
                assert b"connection: close" not in answer.lower()
                await stream.send_all(second)
                answer = b""
                while b'"ok"' not in answer:
                    chunk = await stream.receive_some()
                    assert chunk, "the server closed the connection instead of answering"
                    answer += chunk
                assert answer.startswith(b"HTTP/1.1 200")


def _post_headers(host: str, length: int) -> bytes:
    return (
        f"POST /api/clock HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


async def _read_answer(stream: trio.SocketStream, marker: bytes) -> bytes:
    answer = b""
    while marker not in answer:
        chunk = await stream.receive_some()
        assert chunk, f"the server closed the connection instead of answering: {answer!r}"
        answer += chunk
    return answer


async def test_a_request_refused_on_its_headers_keeps_the_connection() -> None:
    """A foreign ``Host`` is refused before its body is read; the body is read and dropped
    first, so the keep-alive connection still answers the client's next request."""
    body = b'{"speed": 2}'
    second = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with trio.fail_after(30):
        async with serving() as server:
            stream = await trio.open_tcp_stream("127.0.0.1", server.port)
            async with stream:
                await stream.send_all(_post_headers("evil.example", len(body)))
                await stream.send_all(body)
                answer = await _read_answer(stream, b"misdirected_request")
                assert answer.startswith(b"HTTP/1.1 421")
                assert b"connection: close" not in answer.lower()
                await stream.send_all(second)
                assert (await _read_answer(stream, b'"ok"')).startswith(b"HTTP/1.1 200")


async def test_a_refused_request_whose_body_never_comes_says_connection_close() -> None:
    """If the body of a refused request does not arrive, the answer says the connection
    closes, so a client never sends its next request into a closing connection."""
    with trio.fail_after(30):
        async with serving() as server:
            stream = await trio.open_tcp_stream("127.0.0.1", server.port)
            async with stream:
                await stream.send_all(_post_headers("evil.example", 12))
                answer = await _read_answer(stream, b"misdirected_request")
                assert answer.startswith(b"HTTP/1.1 421")
                assert b"connection: close" in answer.lower()
