"""Authentication and authorization: static tokens and JWTs with scopes (API.md v2).

Off unless ``BIOMOCK_AUTH_TOKENS_FILE``, ``BIOMOCK_JWT_SECRET`` or
``BIOMOCK_JWT_PUBLIC_KEY_FILE`` is set. :func:`open_gate` builds the one
:class:`AuthGate` of an app; the app calls :meth:`AuthGate.admit` once per request.
"""

from __future__ import annotations

from biomock.auth.credentials import (
    Authenticator,
    CredentialsError,
    JwtVerifier,
    Principal,
    StaticTokens,
)
from biomock.auth.gate import AuthCollector, AuthGate, principal_of, stream_deadline
from biomock.config import Config

__all__ = [
    "AuthCollector",
    "AuthGate",
    "CredentialsError",
    "Principal",
    "open_gate",
    "principal_of",
    "stream_deadline",
]


def open_gate(config: Config) -> AuthGate:
    """The gate ``config`` asks for; a pass-through when no credentials are configured.

    Raises:
        CredentialsError: (a ``ConfigError``) a short token or secret, an unreadable
            file or key, or both a secret and a public key (one line, no secret in it).
    """
    static = None if config.auth_tokens_file is None else StaticTokens.load(config.auth_tokens_file)
    claims = {"issuer": config.jwt_issuer, "audience": config.jwt_audience}
    verifier = None
    if config.jwt_secret is not None and config.jwt_public_key_file is not None:
        raise CredentialsError(
            "set BIOMOCK_JWT_SECRET or BIOMOCK_JWT_PUBLIC_KEY_FILE, not both"
            " (one key, one algorithm)"
        )
    if config.jwt_secret is not None:
        verifier = JwtVerifier.from_secret(config.jwt_secret.get_secret_value(), **claims)
    elif config.jwt_public_key_file is not None:
        verifier = JwtVerifier.from_public_key_file(config.jwt_public_key_file, **claims)
    if static is None and verifier is None:
        return AuthGate(None)
    return AuthGate(Authenticator(static, verifier))
