"""Start-up refusals (one line, exit 2) and the ``biomock token`` commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import trio
from click.testing import CliRunner

from biomock.cli import main
from tests.auth.helpers import SECRET, STATIC, bearer, issue, tokens_toml
from tests.serving import serving


def start(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BIOMOCK_")}
    return subprocess.run(
        [sys.executable, "-m", "biomock", "serve", "--host", "127.0.0.1", "--port", "0"],
        env={**environ, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("short static token", "is 10 characters; at least 32 are required"),
        ("short secret", "BIOMOCK_JWT_SECRET is 12 bytes; at least 32 are required"),
        ("secret and key", "not both"),
        ("unknown scope", "unknown scope 'write'"),
        ("missing file", "cannot read tokens file"),
    ],
)
def test_bad_credentials_refuse_to_start_in_one_line(
    case: str, expected: str, tmp_path: Path
) -> None:
    tokens = tmp_path / "tokens.toml"
    short = issue("0123456789")
    env = {"BIOMOCK_AUTH_TOKENS_FILE": str(tokens)}
    if case == "short static token":
        tokens.write_text(tokens_toml([("ci", STATIC["read"], ["read"]), ("old", short, ["read"])]))
    elif case == "short secret":
        env = {"BIOMOCK_JWT_SECRET": issue("short-secret")}
    elif case == "secret and key":
        env = {"BIOMOCK_JWT_SECRET": SECRET, "BIOMOCK_JWT_PUBLIC_KEY_FILE": str(tokens)}
    elif case == "unknown scope":
        tokens.write_text(tokens_toml([("ci", STATIC["read"], ["write"])]))
    result = start(tmp_path, **env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("biomock: ") and expected in lines[0], lines[0]
    for secret in (short, SECRET, STATIC["read"], "short-secret"):
        assert secret not in result.stderr + result.stdout


async def test_token_new_prints_a_token_and_the_lines_that_make_it_work(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["token", "new", "--name", "ci", "--scopes", "read,control"])
    assert result.exit_code == 0, result.output
    token, blank, *toml = result.output.splitlines()
    issue(token)
    assert blank == "" and len(token) >= 43 and token.replace("-", "").replace("_", "").isalnum()
    assert toml == [
        "[[token]]",
        'name = "ci"',
        f'token = "{token}"',
        'scopes = ["read", "control"]',
    ]
    tokens = tmp_path / "tokens.toml"
    tokens.write_text("\n".join(toml) + "\n")
    with trio.fail_after(30):
        async with serving(auth_tokens_file=tokens) as server, server.client() as client:
            clock = await client.post("/api/clock", headers=bearer(token), json={"paused": False})
            metrics = await client.get("/metrics", headers=bearer(token))
    assert (clock.status_code, metrics.status_code) == (200, 403)


async def test_token_jwt_mints_what_the_server_accepts(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["token", "jwt", "--secret-env", "TEST_JWT_SECRET", "--sub", "ci", "--scopes", "read"],
        env={"TEST_JWT_SECRET": SECRET},
    )
    assert result.exit_code == 0, result.output
    token = issue(result.output.strip())
    with trio.fail_after(30):
        async with serving(jwt_secret=SECRET) as server, server.client() as client:
            stats = await client.get("/api/stats", headers=bearer(token))
            clock = await client.post("/api/clock", headers=bearer(token), json={"paused": False})
    assert (stats.status_code, clock.status_code) == (200, 403)


def test_token_commands_refuse_bad_input() -> None:
    runner = CliRunner()
    unknown = runner.invoke(main, ["token", "new", "--name", "ci", "--scopes", "write"])
    assert unknown.exit_code == 2 and "unknown scope 'write'" in unknown.output
    unset = runner.invoke(
        main, ["token", "jwt", "--secret-env", "NOT_SET_ANYWHERE", "--sub", "a", "--scopes", "read"]
    )
    assert unset.exit_code == 2 and "NOT_SET_ANYWHERE is not set" in unset.output
    bad_ttl = runner.invoke(
        main,
        ["token", "jwt", "--secret-env", "S", "--sub", "a", "--scopes", "read", "--ttl", "soon"],
        env={"S": SECRET},
    )
    assert bad_ttl.exit_code == 2 and "not a duration" in bad_ttl.output
