"""Every format served end to end: a real Hypercorn, ``?format=`` on stream and history."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import trio
from fhir.resources.R4B.observation import Observation
from httpx_sse import aconnect_sse

from biomock.catalogue import TYPES
from biomock.formats import FORMATS
from biomock.sample import parse_time
from tests.formats.omh_schemas import check_data_point
from tests.formats.sample_kinds import every_kind_of_sample
from tests.serving import ScriptedSource, serving

START = parse_time("2026-02-03T08:00:00.000Z")
SAMPLES = sorted(every_kind_of_sample(), key=lambda s: s.time_ms)


@asynccontextmanager
async def running_server() -> AsyncIterator[httpx.AsyncClient]:
    """A real server on 127.0.0.1 port 0 playing every kind of sample at high speed."""
    source = ScriptedSource(SAMPLES, START)
    async with (
        serving(source=source, wall_ms=START, speed=100000, graceful_timeout_s=1) as server,
        server.client() as client,
    ):
        yield client


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
        assert item["sourceName"] in {"import", "Apple Watch", "iPhone", "Dexcom G7"} | {
            "OMRON connect",
            "Withings Body+",
        }
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
