"""The snippets of docs/integration.md, run as written against a real server.

The browser snippet runs under Node with the `eventsource` package (a WHATWG
EventSource) standing in for the browser's, the browser WebSocket snippet under
Node's own WHATWG WebSocket; curl runs as a subprocess (or, where curl is
missing, its requests are made with httpx); the Python snippets are executed.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from tests.serving import CONFIGURED, serving_in_thread

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "integration.md"
BROWSER = Path(__file__).resolve().parent / "browser"
LOCAL = "http://localhost:8000"


def snippet(name: str) -> str:
    """The fenced block after ``<!-- snippet: name -->`` in the guide."""
    found = re.search(
        rf"<!-- snippet: {name} -->\n```\w+\n(.*?)\n```", GUIDE.read_text(), re.DOTALL
    )
    assert found, f"no snippet {name!r} in {GUIDE}"
    return found.group(1)


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    with serving_in_thread(source=CONFIGURED, speed=20) as url:
        yield url


def stream_ids(url: str, n: int) -> list[int]:
    ids: list[int] = []
    with (
        httpx.Client(timeout=10) as client,
        connect_sse(client, "GET", f"{url}/api/stream", params={"types": "heart_rate"}) as source,
    ):
        for event in source.iter_sse():
            if event.data:
                ids.append(int(event.id))
                if len(ids) == n:
                    return ids
    raise AssertionError("the stream ended")


SAMPLE_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z heart_rate \d+(\.\d+)? count/min$"
)


def test_browser_snippet_logs_samples(api_url: str, tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node, "node is needed to run the browser snippet"
    if not (BROWSER / "node_modules" / "eventsource" / "package.json").is_file():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=BROWSER,
            check=True,
            timeout=180,
            capture_output=True,
        )
    code = tmp_path / "browser.js"
    code.write_text(snippet("browser"))
    result = subprocess.run(
        [node, str(BROWSER / "run-snippet.mjs"), str(code), api_url, "3"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    logged = json.loads(result.stdout)
    lines = [entry["text"] for entry in logged if entry["level"] == "log"]
    assert len(lines) == 3
    assert all(SAMPLE_LINE.match(line) for line in lines), lines


def curl_commands() -> list[list[str]]:
    lines = [line for line in snippet("curl").splitlines() if line and not line.startswith("#")]
    return [shlex.split(line) for line in lines]


def run_curl(args: list[str], max_time_s: float) -> str:
    """Run a curl command line; a stream is cut after ``max_time_s``. Without curl, use httpx."""
    curl = shutil.which("curl")
    if curl is not None:
        result = subprocess.run(
            [curl, "--silent", "--max-time", str(max_time_s), *args[1:]],
            capture_output=True,
            text=True,
            timeout=max_time_s + 10,
        )
        assert result.returncode in (0, 28), result.stderr  # 28: cut by --max-time
        return result.stdout
    # The same request with httpx: the URL, and the -H headers.
    url = next(a for a in args if a.startswith("http"))
    headers = dict(args[i + 1].split(": ", 1) for i, a in enumerate(args) if a == "-H")
    out: list[str] = []
    try:
        with httpx.stream("GET", url, headers=headers, timeout=max_time_s) as response:
            for text in response.iter_text():
                out.append(text)
    except httpx.ReadTimeout:
        pass
    return "".join(out)


def events_of(text: str) -> list[dict[str, str]]:
    events = []
    for block in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if ": " in line and line[0] != ":"
        )
        if "data" in fields:
            events.append(fields)
    return events


def test_curl_snippets_stream_resume_and_page(api_url: str) -> None:
    live, resume, history = curl_commands()
    assert live[:2] == ["curl", "-N"] and resume[:2] == ["curl", "-N"]

    def here(args: list[str]) -> list[str]:
        return [arg.replace(LOCAL, api_url) for arg in args]

    text = run_curl(here(live), max_time_s=1.5)
    assert text.startswith("retry: 3000\n\n")
    live_events = events_of(text)
    assert live_events and all(json.loads(e["data"])["type"] == "heart_rate" for e in live_events)

    seen = stream_ids(api_url, 3)
    header = resume.index("-H") + 1
    example_id = resume[header].split(": ")[1]
    resume[header] = resume[header].replace(example_id, str(seen[0]))
    resumed = events_of(run_curl(here(resume), max_time_s=1.5))
    assert [int(e["id"]) for e in resumed[:2]] == seen[1:3]

    page = json.loads(run_curl(here(history), max_time_s=10))
    assert len(page["items"]) == 5
    assert all(item["type"] == "heart_rate" for item in page["items"])


def test_python_snippet_follows_and_resumes(api_url: str) -> None:
    namespace: dict[str, Any] = {"__name__": "integration_guide"}
    exec(compile(snippet("python"), str(GUIDE), "exec"), namespace)
    namespace["BASE_URL"] = api_url
    follow = namespace["follow"]

    stream = follow()
    first = list(itertools.islice(stream, 3))
    stream.close()
    assert [s["type"] for s in first] == ["heart_rate"] * 3
    ids = [s["id"] for s in first]
    assert all(a < b for a, b in itertools.pairwise(ids)), ids  # no repeat, no disorder

    resumed = follow(last_event_id=ids[0])
    again = list(itertools.islice(resumed, 2))
    resumed.close()
    assert [s["id"] for s in again] == ids[1:3]  # no gap, no duplicate

    with pytest.raises(httpx.HTTPStatusError) as refused:
        next(follow(types="hart_rate"))
    assert refused.value.response.status_code == 400


def test_flutter_snippet_resumes_and_streams_on_the_web() -> None:
    # Not run (no Flutter SDK here); it must keep the two things the guide promises.
    dart = snippet("flutter")
    assert "'Last-Event-ID': _lastEventId!" in dart
    assert "reconnectHeader: () async => _headers()" in dart
    assert "webConfig: kIsWeb" in dart


def test_browser_websocket_snippet_logs_samples(api_url: str, tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node, "node is needed to run the browser snippet"
    code = tmp_path / "browser-ws.js"
    code.write_text(snippet("browser-ws"))
    runner = BROWSER / "run-ws-snippet.mjs"
    result = subprocess.run(
        [node, "--experimental-websocket", str(runner), str(code), api_url, "3"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    logged = json.loads(result.stdout)
    lines = [entry["text"] for entry in logged if entry["level"] == "log"]
    assert len(lines) == 3
    assert all(SAMPLE_LINE.match(line) for line in lines), lines


def test_python_websocket_snippet_follows_and_resumes(api_url: str) -> None:
    from websockets.exceptions import InvalidStatus

    namespace: dict[str, Any] = {"__name__": "integration_guide"}
    exec(compile(snippet("python-ws"), str(GUIDE), "exec"), namespace)
    namespace["WS_URL"] = "ws" + api_url.removeprefix("http") + "/api/ws"
    follow = namespace["follow"]

    stream = follow()
    first = list(itertools.islice(stream, 3))
    stream.close()
    assert [s["type"] for s in first] == ["heart_rate"] * 3
    ids = [s["id"] for s in first]
    assert ids == sorted(ids)

    resumed = follow(last_event_id=ids[0])
    again = list(itertools.islice(resumed, 2))
    resumed.close()
    assert [s["id"] for s in again] == ids[1:3]  # no gap, no duplicate

    with pytest.raises(InvalidStatus) as refused:
        next(follow(types="hart_rate"))
    assert refused.value.response.status_code == 400


def test_flutter_websocket_snippet_resumes_with_last_event_id() -> None:
    # Not run (no Flutter SDK here); it must keep what the guide promises.
    dart = snippet("flutter-ws")
    assert "WebSocketChannel.connect(uri)" in dart
    assert "if (_lastEventId != null) 'last_event_id': '$_lastEventId'," in dart
    assert "_lastEventId = sample['id'] as int;" in dart
    assert "await Future<void>.delayed(backoff);" in dart  # reconnects after a close
