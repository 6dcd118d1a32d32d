"""JWTs: what is accepted, what is refused, and streams that end when their token expires."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from httpx_sse import aconnect_sse

from tests.auth.helpers import SECRET, auth_serving, bearer, issue, mint
from tests.serving import TickSource, serving


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(claims: dict[str, Any], header: dict[str, Any]) -> str:
    head = b64(json.dumps(header).encode())
    body = b64(json.dumps(claims).encode())
    return issue(f"{head}.{body}.")


def claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "ci", "scope": "read", "iat": now, "exp": now + 600, **extra}


async def status(server_url_client: httpx.AsyncClient, token: str) -> int:
    response = await server_url_client.get("/api/stats", headers=bearer(token))
    return response.status_code


async def test_none_wrong_key_and_bad_claims_are_401(tmp_path: Path) -> None:
    cases = {
        "alg none": unsigned(claims(), {"alg": "none", "typ": "JWT"}),
        "alg None": unsigned(claims(), {"alg": "None", "typ": "JWT"}),
        "wrong key": mint(key="another-secret-of-at-least-32-bytes!!"),
        "other audience": mint(aud="someone-else"),
        "no audience": mint(),
        "other issuer": mint(aud="biomock", iss="https://evil.example"),
        "no exp": issue(
            __import__("jwt").encode({"sub": "ci", "scope": "read", "aud": "biomock"}, SECRET)
        ),
        "not yet valid": mint(aud="biomock", iss="https://id.example", nbf=int(time.time()) + 300),
        "HS512": mint(aud="biomock", iss="https://id.example", algorithm="HS512"),
        "garbage": issue("eyJhbGciOiJIUzI1NiJ9.e30.c2ln"),
    }
    good = mint(aud="biomock", iss="https://id.example")
    within_leeway = mint(aud="biomock", iss="https://id.example", now=time.time() - 70, ttl_s=60)
    with trio.fail_after(30):
        async with (
            auth_serving(tmp_path, jwt_audience="biomock", jwt_issuer="https://id.example") as srv,
            srv.client() as client,
        ):
            got = {name: await status(client, token) for name, token in cases.items()}
            assert await status(client, good) == 200
            assert await status(client, within_leeway) == 200
    assert got == dict.fromkeys(cases, 401)


def pem_public(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize("kind", ["RS256", "ES256"])
async def test_public_key_tokens_and_no_algorithm_confusion(kind: str, tmp_path: Path) -> None:
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if kind == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        other: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = rsa.generate_private_key(
            public_exponent=65537, key_size=2048
        )
    else:
        private = ec.generate_private_key(ec.SECP256R1())
        other = ec.generate_private_key(ec.SECP256R1())
    key_file = tmp_path / "jwt.pem"
    key_file.write_bytes(pem_public(private))
    good = mint(key=private, algorithm=kind, scope="read")
    wrong_key = mint(key=other, algorithm=kind, scope="read")
    # The classic confusion: HS256 "signed" with the public key's PEM as the HMAC secret.
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims()).encode())
    mac = hmac.new(pem_public(private), f"{head}.{body}".encode(), hashlib.sha256).digest()
    confused = issue(f"{head}.{body}.{b64(mac)}")
    hs256 = mint(scope="read")
    with trio.fail_after(30):
        async with (
            serving(jwt_public_key_file=key_file) as server,
            server.client() as client,
        ):
            assert await status(client, good) == 200
            assert await status(client, wrong_key) == 401
            assert await status(client, confused) == 401
            assert await status(client, hs256) == 401


async def test_scopes_come_from_the_space_separated_scope_claim(tmp_path: Path) -> None:
    token = mint(scope="read control unknown")
    with trio.fail_after(30):
        async with auth_serving(tmp_path) as server, server.client() as client:
            stats = await client.get("/api/stats", headers=bearer(token))
            clock = await client.post("/api/clock", headers=bearer(token), json={"paused": False})
            metrics = await client.get("/metrics", headers=bearer(token))
    assert (stats.status_code, clock.status_code, metrics.status_code) == (200, 200, 403)


async def read_until_end(
    client: httpx.AsyncClient, token: str, last_id: int | None = None, limit: int | None = None
) -> list[int]:
    """Sample ids of one stream, until the server ends it (or ``limit`` ids arrived)."""
    headers = {} if last_id is None else {"Last-Event-ID": str(last_id)}
    ids: list[int] = []
    params = {"access_token": token}  # as a browser's EventSource sends it
    async with aconnect_sse(client, "GET", "/api/stream", params=params, headers=headers) as es:
        assert es.response.status_code == 200
        async for event in es.aiter_sse():
            if event.event == "message" and event.data:
                ids.append(int(event.id))
                if len(ids) == limit:
                    break
    return ids


@pytest.mark.parametrize("fast_path", [True, False])
async def test_a_stream_ends_when_its_jwt_expires_and_resumes_with_a_new_one(
    fast_path: bool, tmp_path: Path, autojump_clock: trio.abc.Clock
) -> None:
    short = mint(scope="read", ttl_s=5)
    expires_in = json.loads(base64.urlsafe_b64decode(short.split(".")[1] + "=="))["exp"] - (
        time.time()
    )
    with trio.fail_after(120):
        async with (
            auth_serving(tmp_path, source=TickSource(), fast_path=fast_path) as server,
            server.client() as client,
        ):
            opened = trio.current_time()
            first = await read_until_end(client, short)  # ends cleanly: no exception
            ended_after = trio.current_time() - opened
            fresh = mint(scope="read", ttl_s=3600)
            second = await read_until_end(client, fresh, last_id=first[-1], limit=5)
    # Not before the token (with its 30 s leeway) expired, and within 35 s of its expiry.
    assert expires_in + 30 - 1 <= ended_after <= expires_in + 35
    assert len(first) >= 30
    assert first == list(range(first[0], first[0] + len(first)))
    assert second == list(range(first[-1] + 1, first[-1] + 6))  # no gap, no duplicate
