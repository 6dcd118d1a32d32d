"""/openapi.json declares the bearer scheme and each operation's scope; /docs takes a token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio

from biomock.auth.scopes import ROUTE_SCOPES
from tests.auth.helpers import auth_serving
from tests.serving import serving

OPEN = {"/healthz", "/readyz", "/docs", "/openapi.json", "/", "/{path}"}


async def document(**settings: Any) -> dict[str, Any]:
    async with serving(**settings) as server, server.client() as client:
        response = await client.get("/openapi.json")
    assert response.status_code == 200
    doc: dict[str, Any] = response.json()
    return doc


async def test_each_operation_declares_the_scope_the_gate_enforces(tmp_path: Path) -> None:
    with trio.fail_after(30):
        async with auth_serving(tmp_path) as server, server.client() as client:
            doc = (await client.get("/openapi.json")).json()  # open, like /docs
            page = await client.get("/docs")
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer"}
    assert schemes["access_token"]["in"] == "query"
    seen = set()
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            key = (method.upper(), path)
            if path in OPEN:
                assert operation["security"] == [], key
                continue
            scope = ROUTE_SCOPES[key]
            seen.add(key)
            scopes = [] if scope == "authenticated" else [scope]
            assert operation["security"] == [{"bearer": scopes}, {"access_token": scopes}], key
            assert not scopes or f"Scope: `{scope}`" in operation["description"], key
            assert {"401", "403"} <= set(operation["responses"]), key
    assert ("POST", "/api/clock") in seen and ("GET", "/metrics") in seen
    assert page.status_code == 200
    html = page.text
    assert 'id="token-input"' in html and "sessionStorage" in html
    assert 'class="try"\ndata-path="/api/stats"' in html


async def test_without_auth_the_scopes_are_listed_as_optional() -> None:
    with trio.fail_after(30):
        doc = await document()
    stats = doc["paths"]["/api/stats"]["get"]
    assert stats["security"] == [{"bearer": ["read"]}, {"access_token": ["read"]}, {}]
