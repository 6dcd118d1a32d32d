"""The container's runtime layout, built without Docker: the wheel in a fresh venv, serving.

This follows deploy/Dockerfile step by step: the `wheel` stage's COPY lines pick the
files the wheel is built from, the wheel goes into an empty venv (dependencies from
the package index, as `pip install` in the runtime stage does), the dashboard's build
goes where BIOMOCK_STATIC_DIR points, and the image's CMD and HEALTHCHECK run against
it. About 30 s, most of it installing the dependencies.
"""

from __future__ import annotations

import json
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import venv
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest
from httpx_sse import connect_sse

from tests.deploy.test_deploy import ROOT, final_stage, one, stages

pytestmark = pytest.mark.slow

DIST = ROOT / "streaming-frontend" / "dist"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")  # as .dockerignore


def copy_like_the_stage(stage: str, context: Path, dest_root: Path) -> Path:
    """Apply the stage's COPY-from-context lines; returns its WORKDIR inside ``dest_root``."""
    commands = stages()[stage]
    workdir = dest_root / one(commands, "WORKDIR").value[0].lstrip("/")
    workdir.mkdir(parents=True)
    for copy in (c for c in commands if c.cmd == "COPY" and not c.flags):
        *sources, target = copy.value
        for source in sources:
            src, dst = context / source, workdir / target
            if src.is_dir():  # Docker copies a folder's contents into the target
                shutil.copytree(src, dst, dirs_exist_ok=True, ignore=IGNORED)
            elif target.endswith("/"):
                dst.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst / src.name)
            else:
                shutil.copy2(src, dst)
    return workdir


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel built from the Dockerfile's `wheel` stage installed."""
    tmp = tmp_path_factory.mktemp("runtime")
    src = copy_like_the_stage("wheel", ROOT, tmp / "stage")
    assert sorted(p.name for p in src.iterdir()) == ["README.md", "biomock", "pyproject.toml"]
    wheels = tmp / "wheels"
    run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), "."],
        cwd=src,
    )
    (wheel,) = wheels.glob("biomock-*.whl")
    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=True)
    run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)], cwd=tmp)
    return env_dir


def run(args: list[str], *, cwd: Path) -> None:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    """The dashboard's build where the runtime stage puts it; a stand-in page without a build."""
    target = tmp_path / "static"
    if (DIST / "index.html").is_file():
        shutil.copytree(DIST, target)
    else:
        # No `npm run build` has run here: serve a stand-in page so the layout is still checked.
        print("streaming-frontend/dist is not built: serving a stand-in index.html")
        target.mkdir()
        (target / "index.html").write_text("<!doctype html><title>biomock stand-in</title>\n")
        (target / "assets").mkdir()
        (target / "assets" / "app.js").write_text("console.log('stand-in');\n")
    return target


class Served(NamedTuple):
    url: str
    proc: subprocess.Popen[str]
    log: list[str]  # stderr lines so far
    reader: threading.Thread  # ends once the process has exited and stderr is read


@pytest.fixture
def server(installed: Path, static_dir: Path, tmp_path: Path) -> Iterator[Served]:
    """The image's CMD, run from the fresh venv on a free port, with the image's ENV."""
    command = list(one(final_stage(), "CMD").value)
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = "0"
    env = {
        "PATH": f"{installed / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "BIOMOCK_STATIC_DIR": str(static_dir),
        "BIOMOCK_SPEED": "20",
        "BIOMOCK_SEED": "1",
        "BIOMOCK_LOG_FORMAT": "json",
    }
    proc = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    log: list[str] = []

    def read() -> None:
        for line in proc.stderr or ():
            log.append(line)
            lines.put(line)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        url = None
        while url is None:
            line = lines.get(timeout=20)
            found = re.search(r"Running on (http://127\.0\.0\.1:\d+)", line)
            url = found.group(1) if found else None
        yield Served(url, proc, log, reader)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        reader.join(timeout=10)


def test_the_wheel_in_a_fresh_venv_serves_stream_dashboard_and_health(
    installed: Path, static_dir: Path, server: Served
) -> None:
    url, proc = server.url, server.proc
    python = str(installed / "bin" / "python")
    where = subprocess.run(
        [python, "-c", "import biomock; print(biomock.__file__)"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=static_dir,
    )
    assert where.stdout.startswith(str(installed)), where.stdout

    # The image's HEALTHCHECK, as Docker would run it, against this server's port.
    health = list(one(final_stage(), "HEALTHCHECK").value[1:])
    health[2] = health[2].replace("127.0.0.1:8000", url.removeprefix("http://"))
    assert subprocess.run([python, *health[1:]], timeout=30).returncode == 0

    with httpx.Client(base_url=url, timeout=10) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        index = client.get("/")
        assert index.status_code == 200
        assert index.text == (static_dir / "index.html").read_text()
        asset = next(p for p in static_dir.rglob("*") if p.is_file() and p.name != "index.html")
        assert (
            client.get("/" + asset.relative_to(static_dir).as_posix()).content == asset.read_bytes()
        )
        assert client.get("/metrics").text.count("biomock_samples_published_total") >= 1

        samples = []
        with connect_sse(client, "GET", "/api/stream") as source:
            for event in source.iter_sse():
                if event.data:
                    samples.append(json.loads(event.data))
                    if len(samples) == 3:
                        break
    ids = [s["id"] for s in samples]
    assert ids[0] < ids[1] < ids[2]
    assert all(s["type"] and s["timestamp"].endswith("Z") for s in samples)

    # The stream's end is logged as the client leaving, not as the shutdown that follows:
    # wait for that line before signalling (the server notices the close asynchronously).
    deadline = time.monotonic() + 10
    while not any(json.loads(line).get("reason") == "disconnected" for line in server.log):
        assert time.monotonic() < deadline, "no stream line with reason 'disconnected'"
        time.sleep(0.05)

    # STOPSIGNAL SIGTERM: a clean, prompt exit.
    assert one(final_stage(), "STOPSIGNAL").value == ("SIGTERM",)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0

    # BIOMOCK_LOG_FORMAT=json: every line is one JSON object; requests and streams are in it.
    server.reader.join(timeout=10)
    entries = [json.loads(line) for line in server.log]
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    assert any(e.get("path") == "/healthz" and e.get("status") == 200 for e in entries)
    assert any(
        e.get("reason") == "disconnected" for e in entries if e["logger"] == "biomock.stream"
    )


def test_the_runtime_stage_takes_nothing_from_the_repository_directly() -> None:
    # Only the wheel and the dashboard's build, both from earlier stages, reach the image.
    copies = [c for c in final_stage() if c.cmd == "COPY"]
    assert {flag for c in copies for flag in c.flags} == {"--from=wheel", "--from=dashboard"}
