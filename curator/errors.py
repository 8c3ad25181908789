"""The errors curator raises on purpose: ``CuratorError``, a sentence for the user that the command
line shows as is (exit code 1), and ``WarpDriftError``, Warp's internals no longer being what
curator was written against (a fault to report, not the user's)."""

from __future__ import annotations


class CuratorError(Exception):
    """Something the user can act on (bad input, a busy or broken store, a cluster gone...): the
    message is one sentence; ``curator.cli`` turns it into one line and exit code 1."""


class WarpDriftError(RuntimeError):
    """Warp's private API or generated code is not what curator's pinned Warp series gives (a new
    Warp, or a patched one).  Not a user message: the command line names it as curator's fault."""


def describe(exc: BaseException, limit: int | None = None) -> str:
    """An exception as curator records it: ``Type: message``, cut to ``limit`` characters."""
    return f"{type(exc).__name__}: {exc}"[:limit]
