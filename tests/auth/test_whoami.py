"""GET /api/whoami: what a client (the dashboard) needs to show who is signed in."""

from __future__ import annotations

import calendar
import time
from pathlib import Path

import trio

from tests.auth.helpers import STATIC, auth_serving, bearer, mint
from tests.serving import serving


async def test_whoami_names_the_token_and_its_scopes(tmp_path: Path) -> None:
    token = mint(sub="alice", scope="read control", ttl_s=600)
    with trio.fail_after(30):
        async with auth_serving(tmp_path) as server, server.client() as client:
            static = (await client.get("/api/whoami", headers=bearer(STATIC["metrics"]))).json()
            admin = await client.get("/api/whoami", params={"access_token": STATIC["admin"]})
            jwt_ = (await client.get("/api/whoami", headers=bearer(token))).json()
            anonymous = await client.get("/api/whoami")
    assert static == {
        "authentication": True,
        "name": "metrics",
        "scopes": ["metrics"],
        "expires_at": None,
    }
    assert admin.json()["scopes"] == ["read", "control", "metrics", "admin"]
    assert jwt_["name"] == "alice" and jwt_["scopes"] == ["read", "control"]
    expires = calendar.timegm(time.strptime(jwt_["expires_at"], "%Y-%m-%dT%H:%M:%S.000Z"))
    assert abs(expires - (time.time() + 600)) < 120
    assert anonymous.status_code == 401
    assert STATIC["admin"] not in admin.text


async def test_whoami_without_auth_allows_everything() -> None:
    with trio.fail_after(30):
        async with serving() as server, server.client() as client:
            body = (await client.get("/api/whoami")).json()
    assert body == {
        "authentication": False,
        "name": None,
        "scopes": ["read", "control", "metrics", "admin"],
        "expires_at": None,
    }
