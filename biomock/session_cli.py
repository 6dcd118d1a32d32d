"""``biomock session``: create and delete sessions on a running server, from a shell or CI.

Two requests, made with the standard library's ``urllib``: the command needs no HTTP
client beyond it, and the server's own dependencies stay as they are.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, NoReturn

import click

DEFAULT_SERVER = "http://127.0.0.1:8000"
TIMEOUT_S = 30.0


def _fail(message: str, status: int = 1) -> NoReturn:
    click.echo(f"biomock: {message}", err=True)
    sys.exit(status)


def call(
    server: str, method: str, path: str, *, token: str | None = None, body: Any = None
) -> tuple[int, Any]:
    """One request to ``server``; returns the status and the decoded JSON body (or ``None``).

    Exits with API.md's error message (status 1), or status 2 when the server cannot be
    reached.
    """
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.rstrip("/") + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        try:
            message = json.loads(error.read())["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = error.reason
        _fail(f"{method} {path}: {error.code} {message}")
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        _fail(f"cannot reach {server}: {reason}", status=2)


_server = click.option(
    "--server",
    envvar="BIOMOCK_URL",
    default=DEFAULT_SERVER,
    show_default=True,
    help="The biomock server (or BIOMOCK_URL).",
)
_token = click.option(
    "--token", envvar="BIOMOCK_TOKEN", default=None, help="A bearer token (or BIOMOCK_TOKEN)."
)


@click.group("session")
def session_command() -> None:
    """Create and delete sessions: private simulations on a shared server."""


@session_command.command("new")
@_server
@_token
@click.option("--seed", type=int, default=None, help="Simulation seed [random].")
@click.option("--subjects", default=None, help="Comma-separated names [default].")
@click.option("--scenario", default=None, help="Scenario every subject starts in [normal_day].")
@click.option("--start", default=None, help="Simulated start, ISO 8601 [now].")
@click.option("--speed", type=float, default=None, help="Clock speed [1].")
@click.option("--paused", is_flag=True, default=False, help="Create it with the clock paused.")
@click.option("--ttl", "ttl_s", type=int, default=None, help="Seconds of inactivity [3600].")
def new_session(
    server: str, token: str | None, subjects: str | None, paused: bool, **fields: Any
) -> None:
    """Create a session; prints its id, then a line for the shell: eval it to use the id.

    \b
    eval "$(biomock session new --seed 7 --subjects alice --paused | tail -1)"
    """
    # Only what was given: the server's defaults apply to the rest (``--seed 0`` is given).
    body = {name: value for name, value in fields.items() if value is not None}
    if paused:
        body["paused"] = True
    if subjects is not None:
        body["subjects"] = [name.strip() for name in subjects.split(",") if name.strip()]
    _, created = call(server, "POST", "/api/sessions", token=token, body=body)
    click.echo(created["id"])
    click.echo(f"export BIOMOCK_SESSION={created['id']}")


@session_command.command("rm")
@_server
@_token
@click.argument("session_id", envvar="BIOMOCK_SESSION")
def remove_session(server: str, token: str | None, session_id: str) -> None:
    """Delete a session (by default $BIOMOCK_SESSION); its streams end."""
    call(server, "DELETE", f"/api/sessions/{urllib.parse.quote(session_id, safe='')}", token=token)
    click.echo(f"deleted {session_id}")
