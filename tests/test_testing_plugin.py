"""The pytest plugin (``biomock.testing``): docs/integration.md's example, run as written."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from biomock.testing import read_samples
from tests.auth.helpers import simulator
from tests.deploy.test_guides import snippet
from tests.serving import serving_in_thread


def run_example(directory: Path, **env: str) -> subprocess.CompletedProcess[str]:
    (directory / "test_heart_client.py").write_text(snippet("pytest-plugin"))
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BIOMOCK_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_heart_client.py"],
        cwd=directory,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_guides_example_passes_against_an_in_process_server(tmp_path: Path) -> None:
    done = run_example(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_with_biomock_url_it_uses_that_server_and_cleans_up(tmp_path: Path) -> None:
    with serving_in_thread(source=simulator()) as url:
        done = run_example(tmp_path, BIOMOCK_URL=url)
        assert done.returncode == 0, done.stdout + done.stderr
        metrics = httpx.get(f"{url}/metrics").text
        assert "biomock_sessions_created_total 2.0" in metrics
        assert "biomock_sessions_active 0.0" in metrics  # each test's session deleted after it


def test_read_samples_gives_up_at_its_timeout_though_keepalives_arrive() -> None:
    # A paused session sends no sample, only a keepalive each second: each resets a read
    # timeout, so only a deadline on the whole read can end it.
    with (
        serving_in_thread(source=simulator(), heartbeat_s=1) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        session = client.post("/api/sessions", json={"paused": True}).json()["id"]
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="0 of 5 samples"):
            read_samples(client, 5, timeout_s=3, session=session)
        took = time.monotonic() - started
    assert 3 <= took < 20, took  # promptly, with room for a loaded machine
