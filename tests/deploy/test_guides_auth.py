"""The "With a token" snippets of docs/integration.md, run as written against a server with
authentication on (the Flutter one is checked for what it promises: no SDK here)."""

from __future__ import annotations

import itertools
import json
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.auth.helpers import SECRET, STATIC, write_tokens
from tests.deploy.test_guides import (
    BROWSER,
    GUIDE,
    LOCAL,
    SAMPLE_LINE,
    events_of,
    run_curl,
    snippet,
)
from tests.serving import CONFIGURED, serving_in_thread


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tokens = write_tokens(tmp_path_factory.mktemp("auth"))
    settings = {"speed": 20, "auth_tokens_file": tokens, "jwt_secret": SECRET}
    with serving_in_thread(source=CONFIGURED, **settings) as url:
        yield url


def test_curl_token_snippets(api_url: str) -> None:
    lines = [line for line in snippet("curl-token").splitlines() if not line.startswith("#")]
    commands = [
        shlex.split(line.replace("$BIOMOCK_TOKEN", STATIC["admin"]).replace(LOCAL, api_url))
        for line in lines
    ]
    stream, history, clock = commands
    live = events_of(run_curl(stream, max_time_s=1.5))
    assert live and all(json.loads(e["data"])["type"] == "heart_rate" for e in live)
    page = json.loads(run_curl(history, max_time_s=10))
    assert len(page["items"]) == 5
    headers = dict(clock[i + 1].split(": ", 1) for i, a in enumerate(clock) if a == "-H")
    body = clock[clock.index("-d") + 1]
    assert clock[clock.index("-X") + 1] == "POST"
    response = httpx.post(clock[-1], headers=headers, content=body, timeout=10)
    assert response.status_code == 200 and response.json()["speed"] == 60
    httpx.post(clock[-1], headers=headers, json={"speed": 20}, timeout=10)
    unauthorized = httpx.get(f"{api_url}/api/history", timeout=10)
    assert unauthorized.status_code == 401


def test_browser_token_snippet_streams_with_access_token(api_url: str, tmp_path: Path) -> None:
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
    code.write_text(snippet("browser-token").replace("YOUR_TOKEN", STATIC["read"]))
    result = subprocess.run(
        [node, str(BROWSER / "run-snippet.mjs"), str(code), api_url, "3"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    lines = [e["text"] for e in json.loads(result.stdout) if e["level"] == "log"]
    assert len(lines) == 3 and all(SAMPLE_LINE.match(line) for line in lines), lines


def python_snippet(api_url: str, tokens: Iterator[str]) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "integration_guide"}
    exec(compile(snippet("python-token"), str(GUIDE), "exec"), namespace)
    namespace["BASE_URL"] = api_url
    namespace["get_token"] = tokens.__next__
    return namespace


def test_python_token_snippet_retries_a_refused_token_once(api_url: str) -> None:
    # The first token is refused (as an expired one would be); the next one is used.
    ns = python_snippet(api_url, itertools.chain(["x" * 40], itertools.repeat(STATIC["read"])))
    stream = ns["follow"]()
    first = list(itertools.islice(stream, 3))
    stream.close()
    assert [s["type"] for s in first] == ["heart_rate"] * 3
    resumed = ns["follow"](last_event_id=first[0]["id"])
    again = list(itertools.islice(resumed, 2))
    resumed.close()
    assert [s["id"] for s in again] == [s["id"] for s in first[1:3]]

    ns = python_snippet(api_url, itertools.repeat(STATIC["metrics"]))
    with pytest.raises(httpx.HTTPStatusError) as refused:
        next(ns["follow"]())
    assert refused.value.response.status_code == 403
    ns = python_snippet(api_url, itertools.repeat("y" * 40))
    with pytest.raises(httpx.HTTPStatusError) as bad:
        next(ns["follow"]())
    assert bad.value.response.status_code == 401  # a token that stays bad is not retried forever


def test_flutter_token_snippet_sends_a_current_token_on_every_reconnect() -> None:
    dart = snippet("flutter-token")
    assert "'Authorization': 'Bearer ${await getToken!()}'" in dart
    assert "reconnectHeader: () async => _headers()" in dart
