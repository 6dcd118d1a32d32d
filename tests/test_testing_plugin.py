"""The pytest plugin (``biomock.testing``): docs/integration.md's example, run as written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

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
