"""``GET /metrics``: the hub's and the generator's counters in Prometheus text format.

Nothing here runs per event or per subscriber: the hub keeps plain integer
counters (bumped where the work happens anyway) and this collector reads a
snapshot of them when Prometheus scrapes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import accumulate
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from biomock.faults import KINDS as FAULT_KINDS
from biomock.faults import FaultCounts
from biomock.generator import GeneratorStatus
from biomock.hub import DROP_REASONS, FANOUT_BUCKETS_S, Hub

if TYPE_CHECKING:
    from biomock.bus.status import BusStatus


class BiomockCollector(Collector):
    """Reads :meth:`Hub.statistics` and the generator's status at scrape time.

    Args:
        hub: the hub whose counters are exported.
        generator: the generator's status (tick lag).
        uptime_s: returns the seconds since the server started serving.
        faults: the faults clients asked for on their streams (``biomock.faults``).
    """

    def __init__(
        self,
        hub: Hub,
        generator: GeneratorStatus,
        uptime_s: Callable[[], float],
        faults: FaultCounts | None = None,
    ) -> None:
        self._hub = hub
        self._generator = generator
        self._uptime_s = uptime_s
        self._faults = FaultCounts() if faults is None else faults

    def collect(self) -> Iterator[Metric]:
        stats = self._hub.statistics()
        generator = self._generator
        counters: list[tuple[str, str, float]] = [
            (
                "biomock_samples_published",
                "Samples the hub numbered and buffered.",
                stats.published,
            ),
            (
                "biomock_samples_delivered",
                "Sample events written to subscribers (one per subscriber that received it).",
                stats.delivered,
            ),
            ("biomock_writes", "Chunks written to subscribers.", stats.writes),
            ("biomock_bytes_sent", "Stream bytes written to subscribers.", stats.bytes_sent),
            (
                "biomock_resume_requests",
                "Streams opened with Last-Event-ID (or last_event_id).",
                stats.resumes,
            ),
            (
                "biomock_reset_events",
                "reset events sent because a resume point had expired or was unknown.",
                stats.resets,
            ),
            ("biomock_generator_ticks", "Generator ticks.", generator.ticks),
            (
                "biomock_generator_restarts",
                "Times the generator crashed and was started again (each crash is logged).",
                generator.restarts,
            ),
        ]
        gauges: list[tuple[str, str, float]] = [
            ("biomock_subscribers", "Streams open now.", stats.subscribers),
            ("biomock_buffer_samples", "Samples in the buffer.", stats.buffer_size),
            ("biomock_buffer_capacity", "Samples the buffer holds.", stats.buffer_capacity),
            (
                "biomock_buffer_fill_ratio",
                "Buffer fill, 0 to 1.",
                stats.buffer_size / stats.buffer_capacity,
            ),
            (
                "biomock_generator_tick_lag_seconds",
                "How late the generator's last tick ran after its deadline.",
                generator.last_tick_lag_s,
            ),
            ("biomock_generator_running", "1 while the generator runs.", int(generator.running)),
            ("biomock_uptime_seconds", "Seconds since the server started.", self._uptime_s()),
        ]
        for name, documentation, value in counters:
            yield CounterMetricFamily(name, documentation, value=value)
        for name, documentation, value in gauges:
            yield GaugeMetricFamily(name, documentation, value=value)
        dropped = CounterMetricFamily(
            "biomock_dropped_subscribers",
            "Subscribers the server disconnected: lagged (fell behind the buffer), "
            "stalled (stopped reading) or error (their delivery failed).",
            labels=["reason"],
        )
        for reason in sorted({*DROP_REASONS, *stats.dropped}):
            dropped.add_metric([reason], stats.dropped.get(reason, 0))
        yield dropped
        contained = CounterMetricFamily(
            "biomock_contained_errors",
            "Errors kept from reaching the generator: encode_<format> (a sample one format "
            "cannot encode; left out of that format), listener, subscriber.",
            labels=["kind"],
        )
        for kind, count in sorted(stats.contained_errors.items()):
            contained.add_metric([kind], count)
        yield contained
        injected = CounterMetricFamily(
            "biomock_faults_injected",
            "Faults injected into streams because their clients asked (?faults=): disconnect, "
            "stall, drop, duplicate, malformed (one per sample), delay (one per held write), "
            "status (one per refused request).",
            labels=["kind"],
        )
        counts = self._faults.counts
        for kind in FAULT_KINDS:
            injected.add_metric([kind], counts.get(kind, 0))
        yield injected
        bounds = [str(b) for b in FANOUT_BUCKETS_S] + ["+Inf"]
        yield HistogramMetricFamily(
            "biomock_fanout_latency_seconds",
            "Per write: from the publish of its oldest sample to the end of the write "
            "(for the writes a publish makes itself, to the end of its fan-out).",
            buckets=list(zip(bounds, accumulate(stats.fanout_counts), strict=True)),
            sum_value=stats.fanout_sum_s,
        )


def make_registry(
    hub: Hub,
    generator: GeneratorStatus,
    uptime_s: Callable[[], float],
    faults: FaultCounts | None = None,
) -> CollectorRegistry:
    """A registry of one app: its own counters and the process's (CPU, memory, open files)."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(BiomockCollector(hub, generator, uptime_s, faults))
    ProcessCollector(registry=registry)
    return registry


class BusCollector(Collector):
    """The shared bus's gauges and counter (``biomock.bus``), read at scrape time."""

    def __init__(self, status: BusStatus) -> None:
        self._status = status

    def collect(self) -> Iterator[Metric]:
        status = self._status
        yield GaugeMetricFamily(
            "biomock_bus_leader",
            "1 on the process running the generator of the shared stream, else 0.",
            value=int(status.leader),
        )
        yield GaugeMetricFamily(
            "biomock_bus_connected",
            "1 while Redis (BIOMOCK_BUS) is reachable.",
            value=int(status.connected),
        )
        yield GaugeMetricFamily(
            "biomock_bus_lag_seconds",
            "Wall time from the leader's append to this process's reader, for the last read.",
            value=status.lag_s,
        )
        yield CounterMetricFamily(
            "biomock_bus_failovers",
            "Generator leaderships after the first, as Redis counts them.",
            value=status.failovers,
        )
