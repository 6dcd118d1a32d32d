"""biomock: a streaming mock health-data service."""

__version__ = "0.1.0"
