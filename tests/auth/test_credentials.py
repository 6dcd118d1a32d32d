"""The credential checks alone: any string gives a principal or an AuthFailure, never a crash."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biomock.auth.credentials import (
    Authenticator,
    AuthFailure,
    CredentialsError,
    JwtVerifier,
    StaticTokens,
)
from tests.auth.helpers import SECRET, STATIC, mint

AUTH = Authenticator(
    StaticTokens([(scope, token, [scope]) for scope, token in STATIC.items()]),
    JwtVerifier.from_secret(SECRET),
)


def segment(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_refused_cleanly(token: str) -> None:
    with pytest.raises(AuthFailure) as refused:
        AUTH.authenticate(token)
    assert refused.value.reason == "invalid"


@settings(max_examples=300, deadline=None)
@given(header=json_values, claims=json_values, signature=st.binary(max_size=40))
def test_any_jwt_shaped_token_is_refused_cleanly(
    header: object, claims: object, signature: bytes
) -> None:
    sig = base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    with pytest.raises(AuthFailure):
        AUTH.authenticate(f"{segment(header)}.{segment(claims)}.{sig}")


def test_claims_of_the_wrong_type_are_invalid() -> None:
    now = int(time.time())
    for claims in [
        {"sub": 7, "scope": "read", "exp": now + 60},
        {"sub": "a", "scope": ["read"], "exp": now + 60},
        {"sub": "a", "scope": "read", "exp": "soon"},
    ]:
        with pytest.raises(AuthFailure):
            AUTH.authenticate(jwt.encode(claims, SECRET, algorithm="HS256"))


def test_principals() -> None:
    assert AUTH.authenticate(STATIC["control"]).name == "control"
    principal = AUTH.authenticate(mint(scope="read metrics", sub="ci"))
    assert (principal.name, principal.scopes) == ("ci", frozenset({"read", "metrics"}))
    assert principal.expires_at is not None and principal.expires_at > time.time()
    assert principal.allows("read") and not principal.allows("control")
    assert AUTH.authenticate(STATIC["admin"]).allows("control")


def test_a_secret_below_32_bytes_is_refused_without_showing_it() -> None:
    with pytest.raises(CredentialsError) as refused:
        JwtVerifier.from_secret("é" * 15)  # 30 bytes of UTF-8
    assert "30 bytes" in str(refused.value) and "é" not in str(refused.value)
