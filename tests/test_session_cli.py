"""``biomock session new`` / ``rm`` against a real server."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
from click.testing import CliRunner

from biomock.cli import main
from tests.auth.helpers import STATIC, bearer, simulator, write_tokens
from tests.serving import serving_in_thread


def test_new_prints_the_id_and_an_export_line_and_rm_deletes_it() -> None:
    runner = CliRunner()
    with serving_in_thread(source=simulator()) as url:
        made = runner.invoke(
            main,
            [
                "session",
                "new",
                "--server",
                url,
                "--seed",
                "7",
                "--subjects",
                "alice,bob",
                "--paused",
                "--start",
                "2026-01-01T00:00:00Z",
            ],
        )
        assert made.exit_code == 0, made.output
        session_id, export = made.output.splitlines()
        assert export == f"export BIOMOCK_SESSION={session_id}"
        created = httpx.get(f"{url}/api/sessions/{session_id}").json()
        assert created["seed"] == 7 and created["subjects"] == ["alice", "bob"]
        assert created["paused"] is True and created["now"] == "2026-01-01T00:00:00.000Z"

        removed = runner.invoke(main, ["session", "rm", session_id], env={"BIOMOCK_URL": url})
        assert removed.exit_code == 0 and session_id in removed.output
        assert httpx.get(f"{url}/api/sessions/{session_id}").status_code == 404

        again = runner.invoke(
            main, ["session", "rm", "--server", url], env={"BIOMOCK_SESSION": session_id}
        )
        assert again.exit_code == 1
        assert "404" in again.output and "no session" in again.output
        refused = runner.invoke(main, ["session", "new", "--server", url, "--subjects", "a b"])
        assert refused.exit_code == 1 and "400" in refused.output


def test_a_token_is_sent_and_an_unreachable_server_is_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    with serving_in_thread(source=simulator(), auth_tokens_file=write_tokens(tmp_path)) as url:
        anonymous = runner.invoke(main, ["session", "new", "--server", url])
        assert anonymous.exit_code == 1 and "401" in anonymous.output
        made = runner.invoke(
            main, ["session", "new", "--server", url], env={"BIOMOCK_TOKEN": STATIC["control"]}
        )
        assert made.exit_code == 0, made.output
        session_id = made.output.splitlines()[0]
        got = httpx.get(f"{url}/api/sessions/{session_id}", headers=bearer(STATIC["admin"]))
        assert got.status_code == 200
        removed = runner.invoke(
            main, ["session", "rm", "--server", url, "--token", STATIC["control"], session_id]
        )
        assert removed.exit_code == 0, removed.output
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = runner.invoke(main, ["session", "new", "--server", f"http://127.0.0.1:{port}"])
    assert down.exit_code == 2
    assert down.output.count("\n") == 1 and "cannot reach" in down.output


def test_seed_zero_is_sent() -> None:
    runner = CliRunner()
    with serving_in_thread(source=simulator()) as url:
        made = runner.invoke(main, ["session", "new", "--server", url, "--seed", "0"])
        assert made.exit_code == 0, made.output
        session_id = made.output.splitlines()[0]
        created = httpx.get(f"{url}/api/sessions/{session_id}").json()
        assert created["seed"] == 0 and created["paused"] is False
