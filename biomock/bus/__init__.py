"""Sharing one stream across processes through Redis Streams (``BIOMOCK_BUS``).

Without a bus nothing here runs and nothing here is imported on the publish path.
"""

from biomock.bus.node import BusNode, BusStatus

__all__ = ["BusNode", "BusStatus"]
