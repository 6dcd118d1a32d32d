"""Every route x every kind of credential: the documented status, body and challenge."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

from biomock.auth.scopes import AUTHENTICATED, ROUTE_SCOPES, required_scope
from biomock.auth.scopes import OPEN as OPEN_REQUIREMENT
from tests.auth.helpers import STATIC, auth_serving, bearer, mint


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    scope: str | None  # None: any valid token (an unknown /api path)
    ok: int
    body: dict[str, Any] | None = None


ROUTES = [
    Route("GET", "/api/stream", "read", 200),
    Route("GET", "/api/history", "read", 200),
    Route("GET", "/api/types", "read", 200),
    Route("GET", "/api/subjects", "read", 200),
    Route("GET", "/api/scenarios", "read", 200),
    Route("GET", "/api/clock", "read", 200),
    Route("GET", "/api/stats", "read", 200),
    Route("POST", "/api/clock", "control", 200, {"paused": False}),
    Route("POST", "/api/scenario", "control", 200, {"scenario": "workout"}),
    Route("GET", "/metrics", "metrics", 200),
    Route("GET", "/api/whoami", None, 200),
    Route("GET", "/api/no-such-route", None, 404),
    Route("DELETE", "/api/clock", None, 405),
]

OPEN = ["/healthz", "/readyz", "/docs", "/openapi.json", "/", "/assets/missing.js"]

REALM = 'Bearer realm="biomock"'


async def call(
    client: httpx.AsyncClient, route: Route, headers: dict[str, str], params: dict[str, str]
) -> httpx.Response:
    if route.path == "/api/stream":
        # The stream never ends: its status and headers are what is checked.
        async with client.stream("GET", route.path, headers=headers, params=params) as response:
            if response.status_code != 200:
                await response.aread()
            return response
    return await client.request(
        route.method, route.path, headers=headers, params=params, json=route.body
    )


def assert_unauthorized(response: httpx.Response, *, token_given: bool) -> None:
    assert response.status_code == 401, response.text
    challenge = f'{REALM}, error="invalid_token"' if token_given else REALM
    assert response.headers["www-authenticate"] == challenge
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "unauthorized" and error["message"]
    assert set(error) == {"code", "message"}


CREDENTIALS = ["none", "bad", "wrong_scheme", "expired_jwt", *STATIC, "jwt_read_query"]


def credential(kind: str) -> tuple[dict[str, str], dict[str, str], str | None]:
    """(headers, query, token) for one kind of credential."""
    if kind == "none":
        return {}, {}, None
    if kind == "bad":
        token = "not-a-token-" + "x" * 40
        return bearer(token), {}, token
    if kind == "wrong_scheme":
        return {"Authorization": "Basic dXNlcjpwYXNz"}, {}, "dXNlcjpwYXNz"
    if kind == "expired_jwt":
        token = mint(scope="admin", now=time.time() - 3600, ttl_s=60)
        return bearer(token), {}, token
    if kind == "jwt_read_query":
        token = mint(scope="read")
        return {}, {"access_token": token}, token
    return bearer(STATIC[kind]), {}, STATIC[kind]


def granted(kind: str) -> set[str]:
    if kind in STATIC:
        return set(ROUTE_SCOPES.values()) if kind == "admin" else {kind}
    return {"read"} if kind == "jwt_read_query" else set()


@pytest.mark.parametrize("kind", CREDENTIALS)
async def test_every_route_answers_as_documented(kind: str, tmp_path: Path) -> None:
    headers, params, token = credential(kind)
    seen: list[httpx.Response] = []
    with trio.fail_after(60):
        async with auth_serving(tmp_path) as server, server.client() as client:
            for route in ROUTES:
                response = await call(client, route, headers, params)
                seen.append(response)
                where = f"{route.method} {route.path} with {kind}"
                if kind in ("none", "bad", "wrong_scheme", "expired_jwt"):
                    assert_unauthorized(response, token_given=kind != "none")
                    if kind == "expired_jwt":
                        assert "expired" in response.json()["error"]["message"]
                elif route.scope is None or route.scope in granted(kind):
                    assert response.status_code == route.ok, f"{where}: {response.text}"
                else:
                    assert response.status_code == 403, where
                    assert response.headers["www-authenticate"] == (
                        f'{REALM}, error="insufficient_scope"'
                    )
                    assert response.json() == {
                        "error": {
                            "code": "forbidden",
                            "message": f"this token does not have the {route.scope!r} scope",
                        }
                    }
                # Refusals can be read by the dashboard in a browser, like every response.
                assert response.headers["access-control-allow-origin"] == "*", where
            for path in OPEN:
                response = await client.get(path, headers=headers, params=params)
                assert response.status_code in (200, 404), path
                assert response.status_code == (404 if "missing" in path else 200), path
                seen.append(response)
            stats = await client.get("/api/stats", headers=bearer(STATIC["admin"]))
            metrics = await client.get("/metrics", headers=bearer(STATIC["admin"]))
            seen += [stats, metrics]
    if token is not None:
        for response in seen:
            text = response.text if response.is_stream_consumed else ""
            assert token not in text and token not in str(response.headers)


async def test_failures_are_counted_by_reason(tmp_path: Path) -> None:
    expired = mint(now=time.time() - 3600, ttl_s=60)
    with trio.fail_after(30):
        async with auth_serving(tmp_path) as server, server.client() as client:
            await client.get("/api/stats")
            await client.get("/api/stats")
            await client.get("/api/stats", headers=bearer("y" * 40))
            await client.get("/api/stats", headers=bearer(expired))
            await client.get("/metrics", headers=bearer(STATIC["read"]))
            text = (await client.get("/metrics", headers=bearer(STATIC["metrics"]))).text
    counts = {
        line.split('"')[1]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("biomock_auth_failures_total{")
    }
    assert counts == {"missing": 2, "invalid": 1, "expired": 1, "scope": 1}


async def test_cors_preflight_answers_without_a_token(tmp_path: Path) -> None:
    with trio.fail_after(30):
        async with auth_serving(tmp_path) as server, server.client() as client:
            response = await client.options(
                "/api/stream",
                headers={
                    "Origin": "https://dashboard.example",
                    "Access-Control-Request-Method": "GET",
                    "Access-Control-Request-Headers": "authorization",
                },
            )
    assert response.status_code == 204
    assert "Authorization" in response.headers["access-control-allow-headers"]


async def test_the_header_wins_over_the_query(tmp_path: Path) -> None:
    with trio.fail_after(30):
        async with auth_serving(tmp_path) as server, server.client() as client:
            header_metrics = await client.get(
                "/api/stats",
                headers=bearer(STATIC["metrics"]),
                params={"access_token": STATIC["read"]},
            )
            header_read = await client.get(
                "/api/stats", headers=bearer(STATIC["read"]), params={"access_token": "bad"}
            )
    assert header_metrics.status_code == 403
    assert header_read.status_code == 200


async def test_a_cookie_is_never_a_token(tmp_path: Path) -> None:
    with trio.fail_after(30):
        async with auth_serving(tmp_path) as server, server.client() as client:
            cookies = {"access_token": STATIC["admin"], "token": STATIC["admin"]}
            response = await client.get("/api/stats", headers={"Cookie": _cookie(cookies)})
    assert_unauthorized(response, token_given=False)


def _cookie(values: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in values.items())


async def test_every_served_route_is_in_the_table_or_open(tmp_path: Path) -> None:
    """A route added without a line in the table would be served to anyone with a token."""
    async with auth_serving(tmp_path) as server:
        rules = list(server.app.url_map.iter_rules())
    for rule in rules:
        path = rule.rule
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            needed = required_scope(method, path.replace("<id>", "x"))
            if path.startswith(("/api", "/metrics")):
                listed = ROUTE_SCOPES.get((method, path.replace("<id>", "{id}")))
                assert needed != OPEN_REQUIREMENT and listed == needed, (method, path)
                assert needed != AUTHENTICATED or path == "/api/whoami", (method, path)
            else:
                assert needed == OPEN_REQUIREMENT, (method, path)


def test_dot_segments_do_not_open_a_protected_route() -> None:
    assert required_scope("GET", "/assets/../api/stats") == "read"
    assert required_scope("POST", "/x/../api/clock") == "control"
    assert required_scope("HEAD", "/api/stream") == "read"
    assert required_scope("GET", "/healthz") == "open"
