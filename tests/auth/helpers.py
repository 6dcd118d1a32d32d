"""Tokens for the auth tests, and a server with authentication on.

Every token and secret a test makes is registered in :data:`ISSUED`, so that the
conftest's check of everything the server logged during the run can look for it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import jwt

from biomock.sim import Simulator
from tests.serving import WALL_MS, Running, serving

ISSUED: set[str] = set()
"""Every credential made by a test: none may ever appear in what the server logs."""


def issue(value: str) -> str:
    ISSUED.add(value)
    return value


SECRET = issue("hs256-test-secret-" + secrets.token_urlsafe(48))
STATIC = {
    scope: issue(secrets.token_urlsafe(32)) for scope in ("read", "control", "metrics", "admin")
}
"""One static token per scope, named after it."""


def tokens_toml(entries: Iterable[tuple[str, str, list[str]]]) -> str:
    lines = []
    for name, token, scopes in entries:
        quoted = ", ".join(f'"{s}"' for s in scopes)
        lines += ["[[token]]", f'name = "{name}"', f'token = "{token}"', f"scopes = [{quoted}]", ""]
    return "\n".join(lines)


def write_tokens(directory: Path) -> Path:
    path = directory / "tokens.toml"
    path.write_text(tokens_toml((scope, token, [scope]) for scope, token in STATIC.items()))
    return path


def mint(
    *,
    scope: str = "read",
    ttl_s: float = 3600,
    sub: str = "ci",
    key: Any = SECRET,
    algorithm: str = "HS256",
    now: float | None = None,
    **claims: Any,
) -> str:
    """A JWT signed with ``key``; registered as issued."""
    now = time.time() if now is None else now
    payload = {"sub": sub, "scope": scope, "iat": int(now), "exp": int(now + ttl_s), **claims}
    return issue(jwt.encode(payload, key, algorithm=algorithm))


def simulator() -> Simulator:
    return Simulator(WALL_MS, seed=1, subjects=["default"])


@asynccontextmanager
async def auth_serving(directory: Path, **settings: Any) -> AsyncIterator[Running]:
    """A server with the static tokens of :data:`STATIC` and HS256 JWTs on."""
    settings.setdefault("source", simulator())
    async with serving(
        auth_tokens_file=write_tokens(directory), jwt_secret=SECRET, **settings
    ) as server:
        yield server


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
