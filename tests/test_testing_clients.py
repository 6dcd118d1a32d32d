"""The recipes of docs/testing-clients.md, run as written against a real server.

The JavaScript recipes run under Node with the npm `eventsource` package installed in
streaming-frontend/ (`make test` installs it first); the Python recipe is executed and
driven with httpx-sse. Each test checks what a user of that client would notice: every
sample once and in order, a malformed event skipped without a reconnect, a 503 answered
by waiting, a stalled stream left for a fresh one.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.serving import TickSource, serving_in_thread

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "testing-clients.md"
EVENTSOURCE = ROOT / "streaming-frontend" / "node_modules" / "eventsource" / "package.json"
RUNNER = Path(__file__).resolve().parent / "clients" / "run-recipe.mjs"
LOCAL = "http://localhost:8000"


def recipe(name: str) -> str:
    """The fenced block after ``<!-- recipe: name -->`` in the guide."""
    found = re.search(rf"<!-- recipe: {name} -->\n```\w+\n(.*?)\n```", GUIDE.read_text(), re.DOTALL)
    assert found, f"no recipe {name!r} in {GUIDE}"
    return found.group(1)


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    # Ten samples a second and a short retry: delay, so that reconnects take little time.
    with serving_in_thread(source=TickSource(period_ms=100), retry_ms=100) as url:
        yield url


def heart_rate_ids(url: str) -> list[int]:
    page = httpx.get(f"{url}/api/history", params={"limit": 10000}, timeout=60).json()
    return [item["id"] for item in page["items"]]


def in_order_without_gap(url: str, ids: list[int]) -> bool:
    """Whether ``ids`` are consecutive samples of the stream, none missing, none twice."""
    published = heart_rate_ids(url)
    start = published.index(ids[0])
    return ids == published[start : start + len(ids)]


def counter(url: str, name: str, kind: str | None = None) -> float:
    text = httpx.get(f"{url}/metrics", timeout=60).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and (kind is None or sample.labels.get("kind") == kind):
                return sample.value
    raise AssertionError(f"no {name} {kind or ''} in /metrics")


def injected(url: str, kind: str) -> float:
    return counter(url, "biomock_faults_injected_total", kind)


# --- JavaScript, with the npm eventsource package ---------------------------------------------


def run_node(
    name: str,
    url: str,
    count: int,
    tmp_path: Path,
    *,
    let_through_after: int | None = None,
    replace: tuple[str, str] | None = None,
) -> dict[str, Any]:
    if not EVENTSOURCE.parents[1].is_dir():
        pytest.skip("streaming-frontend/node_modules is absent: `make frontend-install` adds it")
    assert EVENTSOURCE.is_file(), "eventsource is not installed: run `make frontend-install`"
    node = shutil.which("node")
    assert node, "node is needed to run the JavaScript recipes"
    code = recipe(name)
    if replace is not None:
        assert replace[0] in code, replace
        code = code.replace(*replace)
    script = tmp_path / f"{name}.js"
    script.write_text(code)
    args = [node, str(RUNNER), str(script), url, str(count)]
    if let_through_after is not None:
        args.append(str(let_through_after))
    # Generous: node starts slowly on a loaded machine; a recipe that works ends in seconds.
    result = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out: dict[str, Any] = json.loads(result.stdout)
    return out


def logged_ids(out: dict[str, Any]) -> list[int]:
    return [int(entry["text"]) for entry in out["logged"] if entry["level"] == "log"]


def test_eventsource_resumes_after_each_drop(api_url: str, tmp_path: Path) -> None:
    before = injected(api_url, "disconnect")
    out = run_node("resume", api_url, 18, tmp_path)
    ids = logged_ids(out)
    assert in_order_without_gap(api_url, ids)
    assert injected(api_url, "disconnect") - before >= 3  # it really was cut, again and again
    assert len(out["requests"]) >= 4
    assert all(r["status"] == 200 for r in out["requests"])


def test_eventsource_skips_a_malformed_event_and_keeps_the_stream(
    api_url: str, tmp_path: Path
) -> None:
    out = run_node("malformed", api_url, 20, tmp_path)
    good = logged_ids(out)
    broken = [
        int(entry["text"].rsplit(" ", 1)[1]) for entry in out["logged"] if entry["level"] == "warn"
    ]
    assert broken, "no malformed event was sent"
    assert in_order_without_gap(api_url, sorted(good + broken))
    assert len(out["requests"]) == 1  # it never reconnected


def test_eventsource_backs_off_on_503_then_streams(api_url: str, tmp_path: Path) -> None:
    out = run_node("backoff", api_url, 3, tmp_path, let_through_after=2)
    requests = out["requests"]
    assert [r["status"] for r in requests] == [503, 503, 200]
    waits_s = [(b["at"] - a["at"]) / 1000 for a, b in itertools.pairwise(requests)]
    assert waits_s[0] >= 1.0  # Retry-After: 1
    assert waits_s[1] >= 2.0  # and twice as long after the second refusal
    assert in_order_without_gap(api_url, logged_ids(out))


def test_eventsource_leaves_a_stalled_stream_for_a_fresh_one(api_url: str, tmp_path: Path) -> None:
    before = injected(api_url, "stall")
    silence = ("const SILENCE_MS = 30_000;", "const SILENCE_MS = 1_000;")
    out = run_node("stall", api_url, 8, tmp_path, replace=silence)
    assert in_order_without_gap(api_url, logged_ids(out))
    assert injected(api_url, "stall") - before >= 2
    assert len(out["requests"]) >= 3


# --- Python, with httpx-sse -------------------------------------------------------------------


class Recovering(httpx.HTTPTransport):
    """Refused while the server is down (the URL's own faults), through afterwards: drops
    ``faults`` from every request after the first ``down_for``; records when each came."""

    def __init__(self, down_for: int) -> None:
        super().__init__()
        self.down_for = down_for
        self.requests: list[tuple[float, int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if len(self.requests) >= self.down_for:
            request.url = request.url.copy_remove_param("faults")
        response = super().handle_request(request)
        self.requests.append((time.monotonic(), response.status_code))
        return response


def python_follow(url: str) -> Any:
    namespace: dict[str, Any] = {"__name__": "testing_clients_guide"}
    exec(compile(recipe("python"), str(GUIDE), "exec"), namespace)
    namespace["BASE_URL"] = url
    return namespace["follow"]


def take(samples: Iterator[dict[str, Any]], n: int) -> list[int]:
    try:
        return [sample["id"] for sample in itertools.islice(samples, n)]
    finally:
        samples.close()  # type: ignore[attr-defined]


def test_python_resumes_and_skips_duplicates(api_url: str) -> None:
    follow = python_follow(api_url)
    before = injected(api_url, "disconnect"), injected(api_url, "duplicate")
    faults = {"faults": "disconnect_after=5,duplicate=0.3", "fault_seed": 7}
    ids = take(follow({"types": "heart_rate", **faults}), 18)
    assert in_order_without_gap(api_url, ids)
    assert injected(api_url, "disconnect") - before[0] >= 3
    assert injected(api_url, "duplicate") - before[1] >= 1


def test_python_skips_malformed_events_without_reconnecting(api_url: str) -> None:
    follow = python_follow(api_url)
    resumes = counter(api_url, "biomock_resume_requests_total")
    ids = take(follow({"types": "heart_rate", "faults": "malformed=0.3", "fault_seed": 7}), 20)
    published = heart_rate_ids(api_url)
    span = published[published.index(ids[0]) : published.index(ids[-1]) + 1]
    assert ids == [i for i in span if i in set(ids)] and len(span) > len(ids)  # gaps: skipped
    assert counter(api_url, "biomock_resume_requests_total") == resumes  # one connection


def test_python_backs_off_on_503_then_streams(api_url: str) -> None:
    follow = python_follow(api_url)
    transport = Recovering(down_for=2)
    ids = take(follow({"types": "heart_rate", "faults": "status=503"}, transport=transport), 3)
    times, statuses = zip(*transport.requests, strict=True)
    assert statuses == (503, 503, 200)
    assert times[1] - times[0] >= 1.0  # Retry-After: 1
    assert times[2] - times[1] >= 2.0  # then twice as long
    assert in_order_without_gap(api_url, ids)


def test_python_leaves_a_stalled_stream_for_a_fresh_one(api_url: str) -> None:
    follow = python_follow(api_url)
    before = injected(api_url, "stall")
    started = time.monotonic()
    params = {"types": "heart_rate", "faults": "stall_after=3"}
    ids = take(follow(params, read_timeout_s=1.0), 8)
    assert in_order_without_gap(api_url, ids)
    assert injected(api_url, "stall") - before >= 2
    # It left the stalls (1 s each) rather than wait for the server to end them (600 s):
    # a bound far from both, so that a loaded machine cannot make it fail.
    assert time.monotonic() - started < 120
