"""`curator eval`: a release's records as an execution-checked translation benchmark."""

from __future__ import annotations

from curator.errors import CuratorError


class EvalError(CuratorError):
    """Bad input to `curator eval` (one sentence for the user)."""
