"""The OpenAPI document (``/openapi.json``) and its page (``/docs``), built from the routes.

quart-schema reads every rule of the app's URL map and the models attached to
each view with its ``document_*`` decorators; this module holds those models
(the shapes of API.md), declares the stream route (served below Quart, see
``BiomockApp.asgi_app``) so that it is in the map too, and renders ``/docs``
as one self-contained page: no script or style is fetched from anywhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, RootModel
from quart import Quart, Response, render_template_string
from quart_schema import QuartSchema, document_headers, document_querystring, document_response
from quart_schema.openapi import Info

from biomock import __version__
from biomock.catalogue import TYPES
from biomock.formats import FORMATS
from biomock.sim import SCENARIOS

F = TypeVar("F", bound=Callable[..., Any])

_PATH_PARAMETER = re.compile("<(?:[^:]*:)?([^>]+)>")  # werkzeug's <conv:name>, as quart-schema

MEDIA_TYPE_ATTRIBUTE = "_biomock_media_type"
UPGRADE_ATTRIBUTE = "_biomock_upgrade"
"""On a view that upgrades to WebSocket: the description of its messages."""

# --- Shapes of API.md -----------------------------------------------------------------------


class ErrorDetail(BaseModel):
    code: str = Field(
        description="invalid_parameter, invalid_json, not_found, method_not_allowed, "
        "unauthorized, forbidden, too_many_subscribers or internal."
    )
    message: str = Field(description="What went wrong, for a developer to act on.")
    parameter: str | None = Field(None, description="The offending parameter or field.")


class ErrorBody(BaseModel):
    """An error: every 4xx and 5xx response has this shape."""

    error: ErrorDetail


class Status(BaseModel):
    """The process is serving (or ready)."""

    status: str = Field(examples=["ok"])
    generator: str | None = Field(
        None, description="On /healthz, 'stopped' while the generator is down (503)."
    )


def _types_field() -> Any:
    return Field(
        None,
        description="Comma-separated type names; all when absent. Valid: " + ", ".join(TYPES),
        examples=["heart_rate,steps"],
    )


def _format_field() -> Any:
    return Field(
        None,
        description="The sample format; native when absent.",
        json_schema_extra={"enum": list(FORMATS)},
    )


class StreamQuery(BaseModel):
    types: str | None = _types_field()
    subject: str | None = Field(None, description="Only this simulated person.")
    format: str | None = _format_field()
    last_event_id: int | None = Field(
        None, ge=0, description="Resume after this id (the Last-Event-ID header wins)."
    )
    history: int | None = Field(
        None, ge=0, description="First send up to this many newest buffered matching samples."
    )


class StreamHeaders(BaseModel):
    last_event_id: str | None = Field(
        None, description="Resume after this id: replay what is buffered, then go live."
    )


class HistoryQuery(BaseModel):
    types: str | None = _types_field()
    subject: str | None = Field(None, description="Only this simulated person.")
    format: str | None = _format_field()
    after_id: int | None = Field(None, ge=0, description="Only samples with a larger id.")
    since: str | None = Field(
        None, description="ISO 8601 lower bound on timestamp (inclusive; no offset means UTC)."
    )
    until: str | None = Field(None, description="ISO 8601 upper bound on timestamp (inclusive).")
    limit: int | None = Field(None, ge=1, le=10000, description="Page size; 1000 when absent.")


class HistoryPage(BaseModel):
    """Buffered samples, oldest first."""

    items: list[dict[str, Any]] = Field(description="Samples in the requested format.")
    next_after_id: int | None = Field(
        description="Pass as after_id for the next page; null when there is no more."
    )


class BufferStats(BaseModel):
    size: int
    capacity: int
    oldest_id: int | None
    newest_id: int | None


class Stats(BaseModel):
    """Counters of the hub."""

    subscribers: int
    published: int
    delivered: int
    dropped_slow: int
    buffer: BufferStats
    uptime_s: float


class NormalRange(BaseModel):
    low: float
    high: float


class TypeInfo(BaseModel):
    name: str
    unit: str | None
    kind: Literal["quantity", "category", "interval"]
    interval: bool = Field(description="Whether samples carry start (the interval's beginning).")
    healthkit: str
    loinc: str | None
    normal_range: NormalRange | None
    cadence_s: float | None


class TypeList(RootModel[list[TypeInfo]]):
    """Every sample type biomock produces."""


class ClockState(BaseModel):
    """The simulated clock."""

    now: str = Field(description="Simulated time, ISO 8601 UTC.")
    speed: float = Field(description="Simulated seconds per real second.")
    paused: bool
    lag_s: float = Field(
        0.0,
        description="Simulated seconds the clock fell behind the requested speed since the "
        "last change, when a tick would have held more than BIOMOCK_MAX_BATCH samples.",
    )


class SubjectInfo(BaseModel):
    """A simulated person: name, profile fields and current scenario."""

    model_config = ConfigDict(extra="allow")

    name: str
    scenario: str | None


class SubjectList(RootModel[list[SubjectInfo]]):
    """The simulated people, with their profiles and the scenario each is in."""


class ScenarioInfo(BaseModel):
    name: str
    description: str


class ScenarioList(RootModel[list[ScenarioInfo]]):
    """The scenarios a subject can be switched to."""


class ScenarioSwitch(BaseModel):
    scenario: str = Field(json_schema_extra={"enum": list(SCENARIOS)})
    subject: str = Field("default", description="The subject's name.")


class ScenarioSwitched(BaseModel):
    """The switch that was made."""

    subject: str
    scenario: str
    previous: str | None
    since: str = Field(description="Simulated time of the switch, ISO 8601 UTC.")


class OpenAPIDocument(RootModel[dict[str, Any]]):
    """An OpenAPI 3.1 document."""


class ClockUpdate(BaseModel):
    speed: float | None = Field(None, gt=0, le=100000)
    paused: bool | None = None
    now: str | None = Field(None, description="Jump forward to this ISO 8601 time.")


# --- Decorators for views whose body is not JSON ---------------------------------------------


def media_type(value: str, description: str) -> Callable[[F], F]:
    """Document that the view answers 200 with ``value`` (e.g. ``text/html``)."""

    def decorator(func: F) -> F:
        setattr(func, MEDIA_TYPE_ATTRIBUTE, (value, description))
        return func

    return decorator


# --- The stream route's declaration ----------------------------------------------------------


@document_querystring(StreamQuery)
@document_headers(StreamHeaders)
@media_type(
    "text/event-stream",
    "An endless stream: a retry: field first, then one event per sample (id: and data:), "
    "an event: reset when a resume point is gone, and a keepalive comment after 15 s of "
    "silence.",
)
async def stream() -> Response:
    """Server-Sent Events: every new sample, live.

    Resume with Last-Event-ID: the buffered samples after that id are replayed first,
    with no gap and no duplicate. Errors (400 for an unknown type, subject or format;
    503 with Retry-After at the subscriber limit) come before the stream starts.
    """
    # BiomockApp.asgi_app answers every request for /api/stream before Quart routes it.
    raise RuntimeError("/api/stream is served by biomock.stream.StreamRoute")


# --- Installing ----------------------------------------------------------------------------


def install_openapi(app: Quart) -> None:
    """Add ``GET /api/stream`` (declaration), ``/openapi.json`` and ``/docs`` to ``app``."""
    schema_ext = QuartSchema(
        app,
        openapi_path=None,  # served below, so that the route is documented like the others
        swagger_ui_path=None,
        redoc_ui_path=None,
        scalar_ui_path=None,
        info=Info(
            title="biomock",
            version=__version__,
            description="A streaming mock health-data service: HealthKit-like samples "
            "over Server-Sent Events.",
        ),
    )
    app.add_url_rule("/api/stream", "stream", stream, methods=["GET"])

    def build() -> dict[str, Any]:
        return finish_document(schema_ext.openapi_provider.schema(), app)

    @document_response(OpenAPIDocument)
    async def openapi() -> Response:
        """This document: OpenAPI 3.1, generated from the routes."""
        return Response(json.dumps(build()), content_type="application/json")

    @media_type("text/html", "The API reference as one page that needs no network.")
    async def docs() -> str:
        """The API reference, rendered from this document."""
        return await render_template_string(DOCS_TEMPLATE, doc=build(), dumps=_pretty, brief=_brief)

    app.add_url_rule("/openapi.json", "openapi", openapi, methods=["GET"])
    app.add_url_rule("/docs", "docs", docs, methods=["GET"])


def finish_document(schema: dict[str, Any], app: Quart) -> dict[str, Any]:
    """Add what the models cannot say: non-JSON bodies and the error shape of every operation."""
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    detail = schemas["ErrorBody"].pop("$defs", {})
    schemas.update(detail)
    error_response = {
        "description": "An error in the one JSON shape of every error.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }
    views = {
        _PATH_PARAMETER.sub(r"{\1}", rule.rule): app.view_functions[rule.endpoint]
        for rule in app.url_map.iter_rules()
    }
    for path, operations in schema["paths"].items():
        view = views.get(path)
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            messages = getattr(view, UPGRADE_ATTRIBUTE, None)
            if messages is not None:
                operation["description"] = f"{operation.get('description', '')}\n\n{messages}"
                responses.pop("200", None)
                responses["101"] = {
                    "description": "Switching Protocols: the WebSocket stream begins.",
                    "headers": {"Upgrade": {"schema": {"type": "string", "enum": ["websocket"]}}},
                }
            declared = getattr(view, MEDIA_TYPE_ATTRIBUTE, None)
            if declared is not None:
                value, description = declared
                responses["200"] = {
                    "description": description,
                    "content": {value: {"schema": {"type": "string"}}},
                }
            responses = {str(code): body for code, body in responses.items()}
            for body in responses.values():
                body["description"] = body.get("description") or "OK"
            responses["default"] = error_response
            operation["responses"] = responses
    return schema


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _brief(schema: dict[str, Any]) -> str:
    """A parameter's schema in a few words: ``integer >= 0``, ``one of native, fhir``."""
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    words = []
    for option in options:
        word = str(option.get("type", "any"))
        if "minimum" in option:
            word += f" >= {option['minimum']}"
        if "maximum" in option:
            word += f" <= {option['maximum']}"
        words.append(word)
    text = " or ".join(words)
    if "enum" in schema:
        text = "one of " + ", ".join(str(v) for v in schema["enum"])
    if schema.get("default") is not None:
        text += f" (default {schema['default']})"
    return text


DOCS_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ doc.info.title }} API {{ doc.info.version }}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem;
       color: #1d232a; }
code, pre { font: 13px/1.4 ui-monospace, monospace; }
pre { background: #f4f6f8; padding: .6rem; overflow-x: auto; border-radius: 4px; }
.op { border: 1px solid #d7dde3; border-radius: 6px; margin: 1rem 0; padding: .2rem 1rem; }
.method { display: inline-block; min-width: 4rem; font-weight: 700; text-transform: uppercase; }
.get { color: #1565c0; } .post { color: #2e7d32; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; border-bottom: 1px solid #e3e7eb; padding: .25rem .4rem;
         vertical-align: top; }
nav li { list-style: none; }
</style></head>
<body>
<h1>{{ doc.info.title }} <small>{{ doc.info.version }}</small></h1>
<p>{{ doc.info.description }} The machine-readable document is
<a href="/openapi.json">/openapi.json</a> (OpenAPI {{ doc.openapi }}).</p>
<nav><ul>
{% for path, ops in doc.paths.items() %}{% for method in ops %}
<li><a href="#{{ method }}-{{ path }}"><span class="method {{ method }}">{{ method }}</span>
<code>{{ path }}</code></a> {{ ops[method].summary or "" }}</li>
{% endfor %}{% endfor %}
</ul></nav>
{% for path, ops in doc.paths.items() %}{% for method, op in ops.items() %}
<section class="op" id="{{ method }}-{{ path }}">
<h2><span class="method {{ method }}">{{ method }}</span> <code>{{ path }}</code></h2>
{% if op.summary %}<p><strong>{{ op.summary }}</strong></p>{% endif %}
{% if op.description %}<p>{{ op.description }}</p>{% endif %}
{% if op.parameters %}<h3>Parameters</h3>
<table><tr><th>name</th><th>in</th><th>schema</th><th>description</th></tr>
{% for p in op.parameters %}<tr><td><code>{{ p.name }}</code>{% if p.required %} *{% endif %}</td>
<td>{{ p["in"] }}</td><td>{{ brief(p.schema) }}</td>
<td>{{ p.description or "" }}</td></tr>{% endfor %}
</table>{% endif %}
{% if op.requestBody %}<h3>Request body</h3>
{% for media, body in op.requestBody.content.items() %}<p><code>{{ media }}</code></p>
<pre>{{ dumps(body.schema) }}</pre>{% endfor %}{% endif %}
<h3>Responses</h3>
{% for status, response in op.responses.items() %}
<p><strong>{{ status }}</strong> {{ response.description }}</p>
{% for media, body in (response.content or {}).items() %}<p><code>{{ media }}</code></p>
<pre>{{ dumps(body.schema) }}</pre>{% endfor %}
{% endfor %}
</section>
{% endfor %}{% endfor %}
<h2>Schemas</h2>
{% for name, schema in doc.components.schemas.items() %}
<h3 id="schema-{{ name }}">{{ name }}</h3><pre>{{ dumps(schema) }}</pre>
{% endfor %}
</body></html>
"""
