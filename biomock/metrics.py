"""``GET /metrics``: the hub's and the generator's counters in Prometheus text format.

Nothing here runs per event or per subscriber: the hub keeps plain integer
counters (bumped where the work happens anyway) and this collector reads a
snapshot of them when Prometheus scrapes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import accumulate

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from biomock.generator import GeneratorStatus
from biomock.hub import FANOUT_BUCKETS_S, Hub

DROP_REASONS = ("lagged", "stalled")
"""Why the server disconnects a subscriber: it fell behind the buffer, or stopped reading."""


class BiomockCollector(Collector):
    """Reads :meth:`Hub.statistics` and the generator's status at scrape time.

    Args:
        hub: the hub whose counters are exported.
        generator: the generator's status (tick lag).
        uptime_s: returns the seconds since the server started serving.
    """

    def __init__(self, hub: Hub, generator: GeneratorStatus, uptime_s: Callable[[], float]) -> None:
        self._hub = hub
        self._generator = generator
        self._uptime_s = uptime_s

    def collect(self) -> Iterator[Metric]:
        stats = self._hub.statistics()
        yield GaugeMetricFamily("biomock_subscribers", "Streams open now.", value=stats.subscribers)
        yield CounterMetricFamily(
            "biomock_samples_published",
            "Samples the hub numbered and buffered.",
            value=stats.published,
        )
        yield CounterMetricFamily(
            "biomock_samples_delivered",
            "Sample events written to subscribers (one per subscriber that received it).",
            value=stats.delivered,
        )
        yield CounterMetricFamily(
            "biomock_writes", "Chunks written to subscribers.", value=stats.writes
        )
        yield CounterMetricFamily(
            "biomock_bytes_sent", "Stream bytes written to subscribers.", value=stats.bytes_sent
        )
        dropped = CounterMetricFamily(
            "biomock_dropped_subscribers",
            "Subscribers the server disconnected: lagged (fell behind the buffer) or "
            "stalled (stopped reading).",
            labels=["reason"],
        )
        for reason in sorted({*DROP_REASONS, *stats.dropped}):
            dropped.add_metric([reason], stats.dropped.get(reason, 0))
        yield dropped
        yield CounterMetricFamily(
            "biomock_resume_requests",
            "Streams opened with Last-Event-ID (or last_event_id).",
            value=stats.resumes,
        )
        yield CounterMetricFamily(
            "biomock_reset_events",
            "reset events sent because a resume point had expired or was unknown.",
            value=stats.resets,
        )
        yield GaugeMetricFamily(
            "biomock_buffer_samples", "Samples in the buffer.", value=stats.buffer_size
        )
        yield GaugeMetricFamily(
            "biomock_buffer_capacity", "Samples the buffer holds.", value=stats.buffer_capacity
        )
        yield GaugeMetricFamily(
            "biomock_buffer_fill_ratio",
            "Buffer fill, 0 to 1.",
            value=stats.buffer_size / stats.buffer_capacity,
        )
        yield GaugeMetricFamily(
            "biomock_generator_tick_lag_seconds",
            "How late the generator's last tick ran after its deadline.",
            value=self._generator.last_tick_lag_s,
        )
        yield CounterMetricFamily(
            "biomock_generator_ticks", "Generator ticks.", value=self._generator.ticks
        )
        yield GaugeMetricFamily(
            "biomock_generator_running",
            "1 while the generator runs.",
            value=int(self._generator.running),
        )
        bounds = [str(b) for b in FANOUT_BUCKETS_S] + ["+Inf"]
        yield HistogramMetricFamily(
            "biomock_fanout_latency_seconds",
            "Per write: from the publish of its oldest sample to the end of the write.",
            buckets=list(zip(bounds, accumulate(stats.fanout_counts), strict=True)),
            sum_value=stats.fanout_sum_s,
        )
        yield GaugeMetricFamily(
            "biomock_uptime_seconds", "Seconds since the server started.", value=self._uptime_s()
        )


def make_registry(
    hub: Hub, generator: GeneratorStatus, uptime_s: Callable[[], float]
) -> CollectorRegistry:
    """A registry of one app: its own counters and the process's (CPU, memory, open files)."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(BiomockCollector(hub, generator, uptime_s))
    ProcessCollector(registry=registry)
    return registry
