"""Checks that span the whole test run.

Everything the servers started by the tests log (at the production level, INFO) is
formatted as biomock prints it, in both log formats, and searched for every token and
secret the tests made (``tests.auth.helpers.ISSUED``). A credential in any line fails
the run at its end, naming the line's logger.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from biomock.logs import JsonFormatter, TextFormatter
from tests.auth.helpers import ISSUED


class CredentialWatch(logging.Handler):
    """Formats each record as ``biomock serve`` would print it and looks for credentials."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.formatters: tuple[logging.Formatter, ...] = (TextFormatter(), JsonFormatter())
        self.lines = 0
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines += 1
        for formatter in self.formatters:
            line = formatter.format(record)
            if any(credential in line for credential in ISSUED):
                self.leaks.append(f"{record.name}: a credential in a {type(formatter).__name__}")


@pytest.fixture(scope="session", autouse=True)
def no_credential_in_any_log_line() -> Iterator[CredentialWatch]:
    root = logging.getLogger()
    watch = CredentialWatch()
    level = root.level
    root.addHandler(watch)
    root.setLevel(min(level or logging.WARNING, logging.INFO))
    try:
        yield watch
    finally:
        root.removeHandler(watch)
        root.setLevel(level)
    assert not watch.leaks, "credentials were logged:\n" + "\n".join(watch.leaks[:20])
