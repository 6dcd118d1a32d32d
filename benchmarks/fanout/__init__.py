"""Fan-out benchmark: biomock against an asyncio peer, side by side in one run.

``python -m benchmarks.fanout.run`` (or ``make bench-fanout``) starts each server in
its own process pinned to one core, drives it with :mod:`benchmarks.fanout.client`
pinned to the other, and writes the comparison into ``docs/performance.md``.
"""
