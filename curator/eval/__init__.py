"""`curator eval`: a release's records as an execution-checked translation benchmark."""

from __future__ import annotations


class EvalError(Exception):
    """Bad input to `curator eval` (one sentence for the user)."""
