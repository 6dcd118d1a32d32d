"""``biomock token``: make static tokens for the tokens file, and JWTs for tests and scripts."""

from __future__ import annotations

import os
import secrets
import sys
import time

import click
import jwt

from biomock.auth.credentials import MIN_SECRET_BYTES
from biomock.auth.scopes import SCOPES
from biomock.generate import parse_duration

TOKEN_BYTES = 32
"""Random bytes in a new static token: 43 URL-safe characters, above the 32 required."""


def parse_scopes(text: str) -> list[str]:
    """``read,control`` -> ``["read", "control"]``.

    Raises:
        click.BadParameter: an empty list or an unknown scope.
    """
    scopes = [s.strip() for s in text.split(",") if s.strip()]
    if not scopes:
        raise click.BadParameter(f"give at least one of {', '.join(SCOPES)}")
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise click.BadParameter(f"unknown scope {unknown[0]!r}; valid: {', '.join(SCOPES)}")
    return list(dict.fromkeys(scopes))


def _scopes_option(ctx: click.Context, param: click.Parameter, value: str) -> list[str]:
    return parse_scopes(value)


def _ttl_option(ctx: click.Context, param: click.Parameter, value: str) -> int:
    try:
        return parse_duration(value) // 1000
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@click.group("token")
def token_command() -> None:
    """Make tokens for a server with authentication on (docs/operations.md)."""


@token_command.command("new")
@click.option("--name", required=True, help="Who the token is for (shown in logs and sessions).")
@click.option(
    "--scopes",
    required=True,
    callback=_scopes_option,
    help=f"Comma-separated: {', '.join(SCOPES)}.",
)
def new_token(name: str, scopes: list[str]) -> None:
    """Print a new random token, then the lines to add to BIOMOCK_AUTH_TOKENS_FILE."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    quoted = ", ".join(f'"{scope}"' for scope in scopes)
    click.echo(token)
    click.echo("")
    click.echo("[[token]]")
    click.echo(f"name = {_toml_string(name)}")
    click.echo(f'token = "{token}"')
    click.echo(f"scopes = [{quoted}]")


@token_command.command("jwt")
@click.option(
    "--secret-env",
    required=True,
    metavar="VAR",
    help="The environment variable holding the HS256 secret (the server's BIOMOCK_JWT_SECRET).",
)
@click.option("--sub", required=True, help="The subject: who the token is for.")
@click.option("--scopes", required=True, callback=_scopes_option, help="Comma-separated scopes.")
@click.option("--ttl", default="1h", show_default=True, callback=_ttl_option, help="Lifetime.")
@click.option("--issuer", default=None, help="iss claim (when the server checks one).")
@click.option("--audience", default=None, help="aud claim (when the server checks one).")
def new_jwt(
    secret_env: str,
    sub: str,
    scopes: list[str],
    ttl: int,
    issuer: str | None,
    audience: str | None,
) -> None:
    """Print an HS256 JWT signed with the secret in $VAR (never pass a secret as an argument)."""
    secret = os.environ.get(secret_env)
    if not secret:
        _fail(f"the environment variable {secret_env} is not set")
        return
    if len(secret.encode()) < MIN_SECRET_BYTES:
        _fail(f"the secret in {secret_env} is shorter than {MIN_SECRET_BYTES} bytes")
        return
    now = int(time.time())
    claims: dict[str, object] = {"sub": sub, "scope": " ".join(scopes), "iat": now}
    claims["exp"] = now + ttl
    if issuer is not None:
        claims["iss"] = issuer
    if audience is not None:
        claims["aud"] = audience
    click.echo(jwt.encode(claims, secret.encode(), algorithm="HS256"))


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fail(message: str) -> None:
    click.echo(f"biomock: {message}", err=True)
    sys.exit(2)
