"""``GET /`` and its files: the dashboard's build, or a page linking the API without one."""

from __future__ import annotations

from quart import Blueprint, Response, send_from_directory

from biomock.errors import not_found
from biomock.openapi import media_type
from biomock.state import current_state

blueprint = Blueprint("dashboard", __name__)


@blueprint.get("/")
@media_type("text/html", "The dashboard, or a page linking the API when it is not built.")
async def index() -> Response:
    """The dashboard."""
    static_dir = current_state().static_dir
    if static_dir is not None and (static_dir / "index.html").is_file():
        return await send_from_directory(static_dir, "index.html")
    return Response(NO_DASHBOARD, content_type="text/html; charset=utf-8")


@blueprint.get("/<path:path>")
@media_type("application/octet-stream", "A file of the dashboard's build.")
async def static_file(path: str) -> Response:
    """The dashboard's files."""
    static_dir = current_state().static_dir
    if static_dir is None or not (static_dir / path).is_file():
        raise not_found(f"no route GET /{path}")
    return await send_from_directory(static_dir, path)


NO_DASHBOARD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>biomock</title></head>
<body><h1>biomock</h1>
<p>The dashboard has not been built (run <code>npm run build</code> in
<code>streaming-frontend/</code>, or <code>make run</code>).</p>
<ul>
<li><a href="/api/stream">/api/stream</a>: the Server-Sent Events stream</li>
<li><a href="/api/history">/api/history</a>: buffered samples</li>
<li><a href="/api/types">/api/types</a>: the catalogue</li>
<li><a href="/api/subjects">/api/subjects</a> and <a href="/api/scenarios">/api/scenarios</a>:
the simulated people and what they can be switched to</li>
<li><a href="/api/stats">/api/stats</a>: statistics</li>
<li><a href="/healthz">/healthz</a></li>
</ul></body></html>
"""
