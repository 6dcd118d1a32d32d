"""Random query strings, headers and JSON bodies at every route: only documented answers.

Every operation of ``/openapi.json`` (plus methods it does not allow) gets requests
made by hypothesis over a real server; each answer is a documented 2xx or 4xx, every
error is API.md's JSON shape, and afterwards the generator still publishes. Examples
are bounded so that this runs in seconds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.serving import CONFIGURED, serving_in_thread

# 426: /api/ws without the upgrade; 201 a session created, 503 once BIOMOCK_MAX_SESSIONS are;
# 429, 500, 502, 503, 504: /api/stream?faults=status=CODE
DOCUMENTED = {200, 201, 204, 400, 404, 405, 413, 415, 421, 426, 429, 500, 502, 503, 504}
ERROR_CODES = {
    "invalid_parameter",
    "invalid_json",
    "not_found",
    "method_not_allowed",
    "payload_too_large",
    "unsupported_media_type",
    "misdirected_request",
    "upgrade_required",
    "too_many_sessions",
    # ?faults=status=CODE (biomock.faults.STATUS_ERRORS)
    "too_many_requests",
    "internal",
    "bad_gateway",
    "unavailable",
    "gateway_timeout",
}
PARAMETER_NAMES = [
    "types",
    "subject",
    "format",
    "last_event_id",
    "history",
    "after_id",
    "since",
    "until",
    "limit",
    "session",
    "faults",
    "fault_seed",
]
FAULT_SPECS = [
    "status=503",
    "status=429",
    "status=500",
    "status=502",
    "status=504",
    "status=404",
    "drop=0.5,duplicate=0.5,malformed=0.5",
    "disconnect_after=0",
    "stall_after=0",
    "delay_ms=5,jitter_ms=5",
    "bogus=1",
    "drop=2",
]
HEADER_NAMES = ["Last-Event-ID", "Accept", "Origin", "X-Requested-With", "Cookie", "Host"]
CONTENT_TYPES = [
    None,
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "application/x-www-form-urlencoded",
]
HOSTS = ["localhost", "127.0.0.1:8000", "[::1]", "evil.example", "localhost.evil"]


@pytest.fixture(scope="module")
def api() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """The server's URL and every (method, path) its document lists, plus refused methods."""
    with serving_in_thread(source=CONFIGURED, speed=1) as url:
        doc = httpx.get(f"{url}/openapi.json", timeout=10).json()
        operations = [
            (method.upper(), path) for path, ops in doc["paths"].items() for method in ops
        ]
        operations += [("DELETE", "/api/history"), ("PUT", "/api/clock"), ("POST", "/api/stream")]
        yield url, operations


numbers = st.one_of(
    st.integers(min_value=-5, max_value=10**25).map(str),
    st.sampled_from(["", " ", "1.5", "1e3", "+1", "0x10", "9" * 5000, "\uff11\uff12"]),
)
values = st.one_of(
    numbers,
    st.sampled_from(["heart_rate", "steps,heart_rate", ",,", "default", "fhir", "healthkit"]),
    st.sampled_from(["2026-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "yesterday"]),
    st.sampled_from(FAULT_SPECS),
    st.text(max_size=30),
)
queries = st.lists(
    st.tuples(st.one_of(st.sampled_from(PARAMETER_NAMES), st.text(max_size=10)), values),
    max_size=5,
)
header_values = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40
)
headers = st.dictionaries(
    st.sampled_from(HEADER_NAMES),
    st.one_of(
        header_values,
        numbers.filter(lambda v: v.isascii() and v.strip() == v and v != ""),
        st.sampled_from(HOSTS),
    ),
    max_size=3,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)
clock_bodies = st.fixed_dictionaries(
    {},
    optional={
        "speed": st.one_of(st.floats(), st.integers(), st.text(max_size=5)),
        "paused": st.one_of(st.booleans(), st.integers()),
        "now": st.one_of(
            st.sampled_from(["2026-06-01T00:00:00Z", "9999-12-31T23:59:58Z"]), st.text(max_size=10)
        ),
        "scenario": st.sampled_from(["workout", "sleep", "nope"]),
        "subject": st.sampled_from(["default", "nobody"]),
    },
)
bodies = st.one_of(
    st.none(),
    json_values.map(lambda v: json.dumps(v).encode()),
    clock_bodies.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
    st.sampled_from([b"[" * 3000, b"{", b"[]," * 2000]),
)


def check(
    client: httpx.Client, method: str, path: str, query: Any, head: Any, body: Any, kind: Any
) -> int:
    """Send one request; assert the answer is documented. Returns its status."""
    target = re.sub(r"\{[^}]+\}", "assets/x.js", path)
    request_headers = dict(head)
    if kind is not None:
        request_headers["Content-Type"] = kind
    with client.stream(
        method, target, params=query, headers=request_headers, content=body
    ) as response:
        status = response.status_code
        assert status in DOCUMENTED, (method, target, status)
        content_type = response.headers.get("content-type", "")
        if status == 200 and content_type.startswith("text/event-stream"):
            assert next(response.iter_bytes()).startswith(b"retry: ")
            return status
        response.read()
    if status >= 400:
        assert content_type == "application/json", (status, content_type)
        error = response.json()["error"]
        assert set(error) <= {"code", "message", "parameter"} and error["message"], error
        assert error["code"] in ERROR_CODES, error
    elif content_type.startswith("application/json"):
        response.json()
    return status


def test_random_requests_get_only_documented_answers_and_the_generator_lives(
    api: tuple[str, list[tuple[str, str]]],
) -> None:
    url, operations = api
    statuses: list[int] = []

    @given(
        operation=st.sampled_from(operations),
        query=queries,
        head=headers,
        body=bodies,
        kind=st.sampled_from(CONTENT_TYPES),
    )
    @settings(
        max_examples=800,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(operation: tuple[str, str], query: Any, head: Any, body: Any, kind: Any) -> None:
        method, path = operation
        try:
            statuses.append(check(client, method, path, query, head, body, kind))
        finally:
            if method == "POST" and path == "/api/clock":
                # Keep the clock at real time, so the next examples find the server as it was.
                client.post("/api/clock", json={"speed": 1, "paused": False})

    with httpx.Client(base_url=url, timeout=10) as client:
        run()
    assert {200, 400, 404, 415, 421} <= set(statuses), sorted(set(statuses))
    # The generator survived all of it: a sample newer than everything so far arrives.
    newest = httpx.get(f"{url}/api/stats", timeout=10).json()["buffer"]["newest_id"] or 0
    with (
        httpx.Client(base_url=url, timeout=10) as client,
        client.stream("GET", "/api/stream", params={"types": "heart_rate"}) as stream,
    ):
        for line in stream.iter_lines():
            if line.startswith("id: ") and int(line[4:]) > newest:
                break
