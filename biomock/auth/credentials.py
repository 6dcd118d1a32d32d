"""Who a token belongs to: static tokens from a TOML file, and JWTs.

JWTs are verified with PyJWT: the algorithms come from the configuration (HS256 for a
secret, RS256 or ES256 from the public key's type), never from the token, so ``none``
and algorithm confusion are impossible; ``exp`` is required and checked with a 30 s
leeway.
"""

from __future__ import annotations

import hashlib
import hmac
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from biomock.auth.scopes import SCOPES
from biomock.config import ConfigError

LEEWAY_S = 30.0
"""Clock skew allowed on ``exp`` and ``nbf``; a stream also ends this long after ``exp``."""

MIN_STATIC_TOKEN_CHARS = 32
MIN_SECRET_BYTES = 32
MAX_TOKEN_CHARS = 8192
"""Longer values are refused unread: no legitimate token comes near this."""

FailureReason = Literal["missing", "invalid", "expired", "scope"]


class CredentialsError(ConfigError):
    """The tokens file, the secret or the key is unusable; the message is one line
    that names the file or setting and never contains a token or a secret."""


class AuthFailure(Exception):
    """A token was given but is not accepted (``reason`` is ``invalid`` or ``expired``)."""

    def __init__(self, reason: FailureReason) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Principal:
    """Who made a request.

    Attributes:
        name: the static token's ``name``, or the JWT's ``sub`` (``jwt`` without one).
        scopes: what the token allows (``admin`` allows everything).
        expires_at: the JWT's ``exp`` (epoch seconds); ``None`` for static tokens.
        kind: a static token or a JWT.
        anonymous: a JWT without ``sub``: it names nobody, so it owns nothing.
    """

    name: str
    scopes: frozenset[str]
    expires_at: float | None = None
    kind: Literal["token", "jwt"] = "token"
    anonymous: bool = False

    @property
    def identity(self) -> str | None:
        """Who owns what this principal creates: ``token:<name>`` or ``jwt:<sub>``, so a
        JWT whose ``sub`` equals a static token's name is someone else; ``None`` for a
        JWT without ``sub``."""
        return None if self.anonymous else f"{self.kind}:{self.name}"

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()


class StaticTokens:
    """The tokens of a TOML file; only their SHA-256 digests are kept in memory."""

    def __init__(self, entries: Sequence[tuple[str, str, Sequence[str]]]) -> None:
        self._entries = [
            (_digest(token), Principal(name, frozenset(scopes))) for name, token, scopes in entries
        ]

    def __len__(self) -> int:
        return len(self._entries)

    @classmethod
    def load(cls, path: Path) -> StaticTokens:
        """Read ``[[token]]`` tables (``name``, ``token``, ``scopes``) from ``path``.

        Raises:
            CredentialsError: unreadable file, bad entry, or a token shorter than 32
                characters (named by its position and ``name``, never by its value).
        """
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise CredentialsError(f"cannot read tokens file {path}: {error}") from None
        raw = table.get("token")
        if not isinstance(raw, list) or not raw:
            raise CredentialsError(f"tokens file {path} has no [[token]] entries")
        entries = [_entry(item, n, path) for n, item in enumerate(raw, start=1)]
        return cls(entries)

    def lookup(self, token: str) -> Principal | None:
        """The principal of ``token``, comparing with every entry in constant time."""
        digest = _digest(token)
        found = None
        for candidate, principal in self._entries:
            # No early exit: the time taken does not tell which entry (if any) matched.
            if hmac.compare_digest(candidate, digest):
                found = principal
        return found


def _entry(item: Any, n: int, path: Path) -> tuple[str, str, list[str]]:
    where = f"token #{n} in {path}"
    if not isinstance(item, dict):
        raise CredentialsError(f"{where}: expected a [[token]] table")
    unknown = sorted(set(item) - {"name", "token", "scopes"})
    if unknown:
        raise CredentialsError(f"{where}: unknown key {unknown[0]!r}")
    name, token, scopes = item.get("name"), item.get("token"), item.get("scopes")
    if not isinstance(name, str) or not name.strip():
        raise CredentialsError(f"{where}: name must be a non-empty string")
    where = f"token #{n} ({name!r}) in {path}"
    if not isinstance(token, str):
        raise CredentialsError(f"{where}: token must be a string")
    if len(token) < MIN_STATIC_TOKEN_CHARS:
        raise CredentialsError(
            f"{where} is {len(token)} characters; at least {MIN_STATIC_TOKEN_CHARS} are required"
            " (make one with `biomock token new`)"
        )
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise CredentialsError(f"{where}: scopes must be a list of strings")
    bad = [s for s in scopes if s not in SCOPES]
    if bad:
        raise CredentialsError(f"{where}: unknown scope {bad[0]!r}; valid: {', '.join(SCOPES)}")
    return name, token, scopes


class JwtVerifier:
    """Verifies JWTs with one key and the algorithm that key implies.

    Args:
        key: the HS256 secret (bytes) or a PEM public key object.
        algorithm: ``HS256``, ``RS256`` or ``ES256``, fixed by the configuration.
        issuer: required ``iss``, when set.
        audience: required ``aud``, when set (otherwise ``aud`` is not checked).
    """

    def __init__(
        self,
        key: Any,
        algorithm: str,
        *,
        issuer: str | None = None,
        audience: str | None = None,
    ) -> None:
        self._key = key
        self.algorithm = algorithm
        self._issuer = issuer
        self._audience = audience

    @classmethod
    def from_secret(cls, secret: str, **claims: str | None) -> JwtVerifier:
        key = secret.encode()
        if len(key) < MIN_SECRET_BYTES:
            raise CredentialsError(
                f"BIOMOCK_JWT_SECRET is {len(key)} bytes; at least {MIN_SECRET_BYTES} are required"
            )
        return cls(key, "HS256", **claims)

    @classmethod
    def from_public_key_file(cls, path: Path, **claims: str | None) -> JwtVerifier:
        try:
            key = load_pem_public_key(path.read_bytes())
        except (OSError, ValueError) as error:
            raise CredentialsError(f"cannot read the PEM public key {path}: {error}") from None
        if isinstance(key, rsa.RSAPublicKey):
            return cls(key, "RS256", **claims)
        if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
            return cls(key, "ES256", **claims)
        raise CredentialsError(f"{path}: expected an RSA or a P-256 (ES256) public key")

    def verify(self, token: str) -> Principal:
        """The principal of a valid token.

        Raises:
            AuthFailure: ``expired`` past ``exp`` + leeway (signature valid), else ``invalid``.
        """
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[self.algorithm],
                issuer=self._issuer,
                audience=self._audience,
                leeway=LEEWAY_S,
                options={"require": ["exp"], "verify_aud": self._audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise AuthFailure("expired") from None
        except jwt.InvalidTokenError:
            raise AuthFailure("invalid") from None
        scope, sub, exp = claims.get("scope", ""), claims.get("sub"), claims["exp"]
        if not isinstance(scope, str) or not isinstance(sub, str | None):
            raise AuthFailure("invalid")
        scopes = frozenset(s for s in scope.split() if s in SCOPES)
        return Principal(sub or "jwt", scopes, expires_at=float(exp), kind="jwt", anonymous=not sub)


class Authenticator:
    """Static tokens first, then JWTs; either may be absent, not both."""

    def __init__(self, static: StaticTokens | None, jwt_verifier: JwtVerifier | None) -> None:
        self.static = static
        self.jwt = jwt_verifier

    def authenticate(self, token: str) -> Principal:
        """The principal of ``token``.

        Raises:
            AuthFailure: the token is not accepted (``invalid`` or ``expired``).
        """
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise AuthFailure("invalid")
        if self.static is not None:
            principal = self.static.lookup(token)
            if principal is not None:
                return principal
        if self.jwt is not None:
            return self.jwt.verify(token)
        raise AuthFailure("invalid")
