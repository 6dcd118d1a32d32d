"""The OpenAPI document (``/openapi.json``) and its page (``/docs``), built from the routes.

quart-schema reads every rule of the app's URL map and the models attached to
each view (``biomock.models``, through its ``document_*`` and ``validate_*``
decorators); this module adds what the models cannot say (non-JSON answers, the
error shape of every operation) and renders ``/docs`` as one self-contained page:
no script or style is fetched from anywhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from quart import Quart
from quart_schema import QuartSchema
from quart_schema.openapi import Info

from biomock import __version__
from biomock.auth.openapi import declare_security
from biomock.models import ErrorBody

F = TypeVar("F", bound=Callable[..., Any])

_PATH_PARAMETER = re.compile("<(?:[^:]*:)?([^>]+)>")  # werkzeug's <conv:name>, as quart-schema

MEDIA_TYPE_ATTRIBUTE = "_biomock_media_type"
UPGRADE_ATTRIBUTE = "_biomock_upgrade"
"""On a view that upgrades to WebSocket: the description of its messages."""

# --- Decorators for views whose body is not JSON ---------------------------------------------


def media_type(value: str | None, description: str) -> Callable[[F], F]:
    """Document that the view answers 200 with ``value`` (e.g. ``text/html``), or 204 with
    no body when ``value`` is ``None``."""

    def decorator(func: F) -> F:
        setattr(func, MEDIA_TYPE_ATTRIBUTE, (value, description))
        return func

    return decorator


# --- Installing ----------------------------------------------------------------------------


def install_openapi(app: Quart) -> None:
    """Let quart-schema read the app's routes; ``biomock.routes.docs`` serves the result."""
    QuartSchema(
        app,
        openapi_path=None,  # served by routes.docs, so that the route is documented like the others
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


def build_document(app: Quart) -> dict[str, Any]:
    """The OpenAPI document of ``app``'s routes."""
    schema_ext: QuartSchema = app.extensions["QUART_SCHEMA"]
    document = finish_document(schema_ext.openapi_provider.schema(), app)
    gate = getattr(app, "gate", None)  # BiomockApp's; absent on a bare Quart app
    declare_security(document, enabled=gate is not None and gate.enabled)
    return document


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
        (method.lower(), _PATH_PARAMETER.sub(r"{\1}", rule.rule)): app.view_functions[rule.endpoint]
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
    }
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            view = views.get((method, path))
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
                if value is None:
                    responses["204"] = {"description": description}
                else:
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


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def brief(schema: dict[str, Any]) -> str:
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
{{ token_box|safe }}
{% for path, ops in doc.paths.items() %}{% for method, op in ops.items() %}
<section class="op" id="{{ method }}-{{ path }}">
<h2><span class="method {{ method }}">{{ method }}</span> <code>{{ path }}</code></h2>
{% if op.summary %}<p><strong>{{ op.summary }}</strong></p>{% endif %}
{% if method == "get" and "{" not in path %}<div><button type="button" class="try"
data-path="{{ path }}">Try it</button><pre class="out" hidden></pre></div>{% endif %}
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
