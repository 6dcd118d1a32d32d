"""Development hot reload: run the server in a child process, restart it on code changes."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import watchfiles

logger = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent


def run_with_reload(argv: list[str]) -> int:
    """Run ``biomock serve`` without ``--reload`` as a child; restart it when a .py file changes.

    The child ends with SIGTERM, so its streams end cleanly and clients resume
    from their ``Last-Event-ID`` once it is back (ids keep increasing across restarts).
    """
    args = [arg for arg in argv[1:] if arg != "--reload"]
    os.environ["BIOMOCK_RELOAD"] = "false"  # the child must not supervise in turn
    command = [sys.executable, "-m", "biomock", *args]
    logger.info("watching %s for changes", PACKAGE_DIR)
    watchfiles.run_process(
        PACKAGE_DIR,
        target=subprocess.list2cmdline(command),
        target_type="command",
        watch_filter=watchfiles.PythonFilter(),
        callback=lambda changes: logger.info("reloading: %d file(s) changed", len(changes)),
    )
    return 0
