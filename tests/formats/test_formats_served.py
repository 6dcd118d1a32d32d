"""Every format served end to end: a real Hypercorn, ``?format=`` on stream and history."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import httpx
import pytest
import trio
from fhir.resources.R4B.observation import Observation
from httpx_sse import aconnect_sse
from omh_schemas import check_data_point
from sample_kinds import every_kind_of_sample

from biomock.app import create_app
from biomock.catalogue import TYPES
from biomock.config import Config
from biomock.formats import FORMATS
from biomock.sample import Sample, parse_time
from biomock.server import open_listen_socket, serve

START = parse_time("2026-02-03T08:00:00.000Z")
SAMPLES = sorted(every_kind_of_sample(), key=lambda s: s.time_ms)


class ScriptedSource:
    """Plays a fixed list of samples in simulated time, then is finished."""

    def __init__(self, samples: list[Sample]) -> None:
        self._pending = list(samples)

    @property
    def start_ms(self) -> int:
        return START

    @property
    def subjects(self) -> list[str]:
        return sorted({s.subject for s in SAMPLES})

    @property
    def finished(self) -> bool:
        return not self._pending

    def advance(self, until_ms: int) -> list[Sample]:
        due = [s for s in self._pending if s.time_ms <= until_ms]
        self._pending = self._pending[len(due) :]
        return due

    def jump(self, to_ms: int) -> None:
        self._pending = [s for s in self._pending if s.time_ms > to_ms]


@asynccontextmanager
async def running_server() -> AsyncIterator[httpx.AsyncClient]:
    """A real server on 127.0.0.1 port 0 playing every kind of sample at high speed."""
    config = Config(host="127.0.0.1", port=0, speed=100000, graceful_timeout_s=1)
    app = create_app(config, source=ScriptedSource(SAMPLES), wall_ms=START)
    sock = open_listen_socket("127.0.0.1", 0, user_timeout_s=config.slow_client_timeout_s)
    port = sock.getsockname()[1]
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        await nursery.start(partial(serve, app, config, sock, shutdown_trigger=stop.wait))
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                yield client
        finally:
            stop.set()


def expected_count(fmt: str) -> int:
    return sum(FORMATS[fmt](1, s) is not None for s in SAMPLES)


def check(fmt: str, item: dict[str, Any], sample_id: int) -> None:
    """The validator of each format, as in the format tests."""
    if fmt == "fhir":
        Observation.model_validate(item)
        assert item["id"] == str(sample_id)
    elif fmt == "openmhealth":
        check_data_point(item, sample_id)
    elif fmt == "healthkit":
        assert item["id"] == sample_id
        assert item["sourceName"] == "biomock"
        assert item["type"] in {t.healthkit for t in TYPES.values()}
    else:
        assert item["id"] == sample_id


async def wait_all_published(client: httpx.AsyncClient) -> None:
    for _ in range(400):
        if (await client.get("/api/stats")).json()["published"] == len(SAMPLES):
            return
        await trio.sleep(0.05)
    raise AssertionError("the scripted source was not published")


@pytest.mark.parametrize("fmt", ["healthkit", "openmhealth", "fhir", "native"])
async def test_history_serves_the_format(fmt: str) -> None:
    with trio.fail_after(20):
        async with running_server() as client:
            await wait_all_published(client)
            response = await client.get("/api/history", params={"format": fmt})
            assert response.status_code == 200
            items = response.json()["items"]
            assert len(items) == expected_count(fmt)
            all_ids = [i["id"] for i in (await client.get("/api/history")).json()["items"]]
            assert len(all_ids) == len(SAMPLES)
            for item in items:
                sample_id = _id_of(fmt, item, all_ids)
                check(fmt, item, sample_id)


@pytest.mark.parametrize("fmt", ["healthkit", "openmhealth", "fhir"])
async def test_stream_serves_the_format(fmt: str) -> None:
    with trio.fail_after(20):
        async with running_server() as client:
            received: list[tuple[int, dict[str, Any]]] = []
            params = {"format": fmt, "history": "1000"}
            async with aconnect_sse(client, "GET", "/api/stream", params=params) as source:
                assert source.response.status_code == 200
                async for event in source.aiter_sse():
                    if not event.data:
                        continue  # the opening retry: field, or a keepalive
                    received.append((int(event.id), json.loads(event.data)))
                    if len(received) == expected_count(fmt):
                        break
            ids = [sample_id for sample_id, _ in received]
            assert all(a < b for a, b in itertools.pairwise(ids)), ids
            for sample_id, item in received:
                check(fmt, item, sample_id)
            # The stream and history serve the same bytes for the same sample.
            history = (await client.get("/api/history", params={"format": fmt})).json()
            assert [item for _, item in received] == history["items"]


async def test_unknown_format_is_a_400() -> None:
    with trio.fail_after(20):
        async with running_server() as client:
            for path in ("/api/history", "/api/stream"):
                response = await client.get(path, params={"format": "hl7v2"})
                assert response.status_code == 400
                error = response.json()["error"]
                assert (error["code"], error["parameter"]) == ("invalid_parameter", "format")
                assert "fhir" in error["message"]


async def test_types_name_their_omh_schema() -> None:
    with trio.fail_after(20):
        async with running_server() as client:
            types = {t["name"]: t for t in (await client.get("/api/types")).json()}
            assert types["heart_rate"]["omh_schema"] == "omh:heart-rate:2.0"
            assert types["distance_walking_running"]["omh_schema"] is None
            assert types["distance_walking_running"]["loinc"] == "55430-3"


def _id_of(fmt: str, item: dict[str, Any], all_ids: list[int]) -> int:
    """The sample id an item carries, in the format's own way."""
    if fmt == "fhir":
        return int(item["id"])
    if fmt == "openmhealth":
        return int(item["header"]["acquisition_provenance"]["source_data_point_id"])
    sample_id = item["id"]
    assert sample_id in all_ids
    return int(sample_id)
