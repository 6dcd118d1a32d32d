"""The one error every reader raises for a file that cannot be replayed."""

from __future__ import annotations


class ReplayError(Exception):
    """A recording or import that cannot be replayed.

    The message is one line that names the file and the line or element at
    fault, fit to show a user as it is.
    """
