"""Property-based requests from /openapi.json against a running server: no 5xx, errors in shape.

Examples are bounded (25 per operation) so this stays a few seconds in `make test`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.serving import CONFIGURED, serving_in_thread

ERROR_CODES = {
    "invalid_parameter",
    "invalid_json",
    "not_found",
    "method_not_allowed",
    "unauthorized",
    "forbidden",
    "payload_too_large",
    "unsupported_media_type",
    "misdirected_request",
    "too_many_subscribers",
    "unavailable",
    "internal",
    # Only from ?faults=status=CODE on the streams (biomock.faults.STATUS_ERRORS):
    "too_many_requests",
    "bad_gateway",
    "gateway_timeout",
}


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    with serving_in_thread(source=CONFIGURED, speed=1) as url:
        yield url


def assert_error_shape(content_type: str, body: Any) -> None:
    assert content_type.startswith("application/json"), content_type
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) <= {"code", "message", "parameter"} and error["message"], body
    assert error["code"] in ERROR_CODES, body


def check(case: Any, api_url: str) -> int:
    """Send ``case``, validate the answer; returns its status."""
    response = case.call(base_url=api_url, timeout=10)
    try:
        # "Positive data acceptance" is not asserted: the clock only jumps forward
        # and since/until must parse, rules a schema cannot state.
        case.validate_response(
            response,
            checks=[
                not_a_server_error,
                status_code_conformance,
                content_type_conformance,
                response_schema_conformance,
            ],
        )
        if response.status_code >= 400:
            assert_error_shape(response.headers["content-type"][0], response.json())
        return int(response.status_code)
    finally:
        if case.method == "POST" and case.path == "/api/clock":
            # A generated speed of 100000 would keep the generator busy for the rest of the run.
            httpx.post(f"{api_url}/api/clock", json={"speed": 1, "paused": False}, timeout=10)


def test_no_server_error_and_every_error_in_shape(api_url: str) -> None:
    schema = schemathesis.openapi.from_url(f"{api_url}/openapi.json")
    # The streams never end, so a generated request would never finish; their error
    # answers come before the stream and are checked with bounded requests (below,
    # and in tests/test_ws.py).
    schema = schema.exclude(path="/api/stream").exclude(path="/api/ws")
    operations = [result.ok() for result in schema.get_all_operations()]
    statuses: list[int] = []
    assert len(operations) >= 10
    for operation in operations:
        # Invalid values exist for typed query parameters and bodies; any string is a
        # valid path, so GET /{path} gets positive examples only.
        has_input = len(operation.query) > 0 or len(operation.body) > 0
        modes = [GenerationMode.POSITIVE] + [GenerationMode.NEGATIVE] * has_input
        for mode in modes:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=25,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            def run(case: Any) -> None:
                statuses.append(check(case, api_url))

            run()
    # Not vacuous: hundreds of requests, valid and invalid ones among them.
    assert len(statuses) >= 5 * len(operations)
    assert {200, 400, 404} <= set(statuses), sorted(set(statuses))


@pytest.mark.parametrize(
    ("params", "headers", "status"),
    [
        ({"types": "hart_rate"}, {}, 400),
        ({"subject": "nobody"}, {}, 400),
        ({"format": "xml"}, {}, 400),
        ({"history": "-1"}, {}, 400),
        ({"last_event_id": "abc"}, {}, 400),
        ({}, {"Last-Event-ID": "1.5"}, 400),
        ({"faults": "drop=2"}, {}, 400),
        ({"faults": "drop=0.1", "fault_seed": "x"}, {}, 400),
        ({"faults": "status=503"}, {}, 503),
        ({"faults": "status=429"}, {}, 429),
    ],
)
def test_stream_errors_come_before_the_stream_in_shape(
    api_url: str, params: dict[str, str], headers: dict[str, str], status: int
) -> None:
    response = httpx.get(f"{api_url}/api/stream", params=params, headers=headers, timeout=10)
    assert response.status_code == status
    assert_error_shape(response.headers["content-type"], response.json())


def test_stream_accepts_every_documented_parameter(api_url: str) -> None:
    doc = httpx.get(f"{api_url}/openapi.json", timeout=10).json()
    params = {
        p["name"]: p for p in doc["paths"]["/api/stream"]["get"]["parameters"] if p["in"] == "query"
    }
    session = httpx.post(f"{api_url}/api/sessions", json={}, timeout=10).json()["id"]
    example = {
        "types": "heart_rate",
        "format": "native",
        "history": "2",
        "subject": "default",
        "faults": "duplicate=0.5",
        "fault_seed": "7",
        "session": session,
    }
    assert set(example) | {"last_event_id"} == set(params)
    with (
        httpx.Client(base_url=api_url, timeout=10) as client,
        client.stream("GET", "/api/stream", params=example) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        first = next(response.iter_bytes())
        assert first.startswith(b"retry: ")
