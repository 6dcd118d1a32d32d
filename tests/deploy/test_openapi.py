"""/openapi.json documents every route the app has; /docs shows it without the network."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import trio
from quart_schema.validation import (
    QUART_SCHEMA_QUERYSTRING_ATTRIBUTE as QUERYSTRING_ATTRIBUTE,
)
from quart_schema.validation import (
    QUART_SCHEMA_REQUEST_ATTRIBUTE as REQUEST_ATTRIBUTE,
)

from biomock.app import BiomockApp, create_app
from biomock.config import Config
from biomock.limits import HISTORY_PAGE_MAX, MAX_BUFFER_SIZE, MAX_ID, MAX_SPEED

PATH_PARAMETER = re.compile(r"<(?:[^:>]*:)?([^>]+)>")


def make_app() -> BiomockApp:
    return create_app(Config(seed=1))


async def get(app: BiomockApp, path: str) -> tuple[int, str, bytes]:
    async with app.test_app():
        response = await app.test_client().get(path)
        return response.status_code, response.content_type or "", await response.get_data()


# The app's shutdown waits for its background tasks with a timeout; autojump_clock
# lets that pass at once.
async def document(app: BiomockApp) -> dict[str, Any]:
    async with app.test_app():
        response = await app.test_client().get("/openapi.json")
        assert response.status_code == 200
        body: dict[str, Any] = await response.get_json()
        return body


async def test_every_route_of_the_url_map_is_in_the_document(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(20):
        app = make_app()
        doc = await document(app)
    assert doc["openapi"].startswith("3.1")
    routes = {
        (PATH_PARAMETER.sub(r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert routes == documented
    # Every endpoint of API.md is among them.
    api_md = {
        ("/api/stream", "get"),
        ("/api/ws", "get"),
        ("/api/history", "get"),
        ("/api/types", "get"),
        ("/api/subjects", "get"),
        ("/api/scenarios", "get"),
        ("/api/scenario", "post"),
        ("/api/clock", "get"),
        ("/api/clock", "post"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/api/stats", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
        ("/docs", "get"),
        ("/", "get"),
    }
    assert api_md <= documented, sorted(api_md - documented)


async def test_the_stream_is_documented_from_its_declared_parameters(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(20):
        doc = await document(make_app())
    op = doc["paths"]["/api/stream"]["get"]
    params = {(p["in"], p["name"]) for p in op["parameters"]}
    assert params == {
        ("query", "types"),
        ("query", "subject"),
        ("query", "format"),
        ("query", "last_event_id"),
        ("query", "history"),
        ("query", "faults"),
        ("query", "fault_seed"),
        ("query", "session"),
        ("header", "last-event-id"),
        ("header", "x-biomock-session"),
    }
    faults = next(p for p in op["parameters"] if p["name"] == "faults")
    assert faults["schema"]["type"] == "string"
    assert "drop=0.1" in faults["description"]
    assert list(op["responses"]["200"]["content"]) == ["text/event-stream"]
    assert op["summary"].startswith("Server-Sent Events")


async def test_the_websocket_is_documented_as_a_get_that_upgrades(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(20):
        doc = await document(make_app())
    op = doc["paths"]["/api/ws"]["get"]
    params = {(p["in"], p["name"]) for p in op["parameters"]}
    assert params >= {
        ("query", "types"),
        ("query", "subject"),
        ("query", "format"),
        ("query", "last_event_id"),
        ("query", "history"),
        ("query", "faults"),
        ("query", "fault_seed"),
        ("header", "upgrade"),
        ("header", "connection"),
        ("header", "sec-websocket-key"),
        ("header", "sec-websocket-version"),
        ("query", "session"),
        ("header", "x-biomock-session"),
    }
    assert "101" in op["responses"] and "200" not in op["responses"]
    assert op["summary"].startswith("WebSocket")
    for message in ('"samples"', '"reset"', '"heartbeat"', '"error"', '"subscribe"', "1008"):
        assert message in op["description"], message


async def test_every_data_and_control_route_documents_the_session(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(20):
        doc = await document(make_app())
    for method, path in (
        ("get", "/api/stream"),
        ("get", "/api/ws"),
        ("get", "/api/history"),
        ("get", "/api/subjects"),
        ("post", "/api/scenario"),
        ("get", "/api/clock"),
        ("post", "/api/clock"),
        ("get", "/api/stats"),
    ):
        params = {(p["in"], p["name"]) for p in doc["paths"][path][method]["parameters"]}
        assert {("query", "session"), ("header", "x-biomock-session")} <= params, (method, path)
    created = doc["paths"]["/api/sessions"]["post"]
    assert "201" in created["responses"] and "requestBody" in created
    assert "204" in doc["paths"]["/api/sessions/{id}"]["delete"]["responses"]


async def test_every_operation_documents_the_error_shape(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(20):
        doc = await document(make_app())
    error = doc["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["error"]
    detail = doc["components"]["schemas"]["ErrorDetail"]
    assert set(detail["properties"]) == {"code", "message", "parameter"}
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            ref = op["responses"]["default"]["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/ErrorBody", (method, path)
            assert op.get("summary"), f"{method} {path} has no summary"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.urls += [v for k, v in attrs if k in {"src", "href"} and v is not None]


async def test_docs_page_works_offline_and_lists_every_operation(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(20):
        app = make_app()
        status, content_type, body = await get(app, "/docs")
        doc = await document(app)
    assert status == 200 and content_type.startswith("text/html")
    page = body.decode()
    links = _Links()
    links.feed(page)
    # Nothing to fetch: no stylesheets, no absolute URLs; scripts only inline (no src).
    assert "link" not in links.tags
    assert all(url.startswith(("#", "/")) for url in links.urls), links.urls
    for path, ops in doc["paths"].items():
        for method in ops:
            assert f'id="{method}-{path}"' in page, (method, path)
    assert "last_event_id" in page and "text/event-stream" in page


async def test_every_documented_request_model_also_validates(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(20):
        app = make_app()
        doc = await document(app)
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        assert "<locals>" not in view.__qualname__, f"{rule.rule} is defined inside a function"
        if rule.rule in ("/api/stream", "/api/ws"):
            continue  # served below Quart; biomock.params.stream_request applies StreamQuery
        if any(hasattr(view, a) for a in (QUERYSTRING_ATTRIBUTE, REQUEST_ATTRIBUTE)):
            # The registered view is quart-schema's validating wrapper, not the bare handler.
            assert view.__code__.co_filename.endswith("quart_schema/validation.py"), rule.rule
    clock = body_schema(doc, "/api/clock")
    assert clock["additionalProperties"] is False
    assert body_schema(doc, "/api/scenario")["additionalProperties"] is False
    assert clock["properties"]["speed"]["anyOf"][0]["maximum"] == MAX_SPEED
    stream = {p["name"]: p for p in doc["paths"]["/api/stream"]["get"]["parameters"]}
    assert stream["history"]["schema"]["anyOf"][0]["maximum"] == MAX_BUFFER_SIZE
    history = {p["name"]: p for p in doc["paths"]["/api/history"]["get"]["parameters"]}
    assert history["limit"]["schema"]["maximum"] == HISTORY_PAGE_MAX
    assert history["after_id"]["schema"]["anyOf"][0]["maximum"] == MAX_ID


def body_schema(doc: dict[str, Any], path: str) -> dict[str, Any]:
    body: dict[str, Any] = doc["paths"][path]["post"]["requestBody"]
    schema: dict[str, Any] = body["content"]["application/json"]["schema"]
    return schema
