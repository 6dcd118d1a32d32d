"""Sharing one stream across processes through Redis Streams (``BIOMOCK_BUS``).

Modules: ``url`` (pure: which Redis, shown redacted), ``codec`` (pure: a sample as an
entry), ``log`` (the Redis keys, scripts and commands), ``control`` (the shared clock and
scenarios), ``leader`` (the lease and the one generator), ``node`` (each process's reader,
and what the routes ask), ``status``. Without a bus nothing here is imported; ``app``
imports ``biomock.bus.node`` only when ``BIOMOCK_BUS`` is set.
"""
