"""For operators: ``/healthz``, ``/readyz``, ``/api/stats`` and ``/metrics``."""

from __future__ import annotations

from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from quart import Blueprint, Response
from quart_schema import document_headers, document_response, validate_querystring

from biomock.errors import ApiError
from biomock.models import SessionHeaders, SessionQuery, Stats, Status
from biomock.openapi import media_type
from biomock.routes.common import json_response
from biomock.state import current_simulation, current_state

blueprint = Blueprint("ops", __name__)


@blueprint.get("/healthz")
@document_response(Status)
async def healthz() -> Response:
    """Liveness: 200 while the process serves; 503 ``degraded`` while the generator is down."""
    if current_state().generator.state == "stopped":
        return json_response({"status": "degraded", "generator": "stopped"}, 503)
    return json_response({"status": "ok"})


@blueprint.get("/readyz")
@document_response(Status)
async def readyz() -> Response:
    """Readiness: 200 while the generator runs (or a replay has ended), else 503.

    With a shared bus: 200 while Redis is reachable, whichever process generates.
    """
    state = current_state()
    if state.bus is not None:
        if not state.bus.ready:
            raise ApiError(503, "unavailable", "the shared bus (Redis) is unreachable")
        return json_response({"status": "ready"})
    generator = state.generator.state
    if generator not in ("running", "finished"):
        raise ApiError(503, "unavailable", f"the generator is {generator}")
    return json_response({"status": "ready"})


@blueprint.get("/api/stats")
@validate_querystring(SessionQuery)
@document_headers(SessionHeaders)
@document_response(Stats)
async def stats(query_args: SessionQuery) -> Response:
    """The hub's counters: subscribers, samples, drops and the buffer."""
    state = current_state()
    snapshot = (await current_simulation()).hub.statistics()
    body: dict[str, Any] = {
        "subscribers": snapshot.subscribers,
        "published": snapshot.published,
        "delivered": snapshot.delivered,
        "dropped_slow": snapshot.dropped_slow,
        "buffer": {
            "size": snapshot.buffer_size,
            "capacity": snapshot.buffer_capacity,
            "oldest_id": snapshot.oldest_id,
            "newest_id": snapshot.newest_id,
        },
        "uptime_s": round(state.uptime_s(), 3),
    }
    if state.bus is not None:
        bus = state.bus.status
        body["bus"] = {
            "url": bus.url,
            "leader": bus.leader,
            "connected": bus.connected,
            "lag_s": round(bus.lag_s, 3),
            "failovers": bus.failovers,
        }
    return json_response(body)


@blueprint.get("/metrics")
@media_type(CONTENT_TYPE_LATEST, "Prometheus text format; every name starts with biomock_.")
async def metrics() -> Response:
    """Counters and gauges for Prometheus."""
    return Response(generate_latest(current_state().registry), content_type=CONTENT_TYPE_LATEST)
