"""The only package that touches Warp internals (``warp._src``): building kernels and their
code (``build``), Warp's bundled compilers (``compile``), running kernels (``launch``) and the
registries ``curator ingest`` reads (``registry``).

Warp has no public codegen-only API.  We use ``warp._src.context.ModuleBuilder`` (as Warp's
own tests do) and ``warp._src.codegen``; the pieces are checked against the public
``wp.compile_aot_module`` output by ``tests/integration/test_codegen_aot.py``.  The Warp
version is pinned in ``pyproject.toml`` to the series tested here (``SUPPORTED_WARP``).
Importing this package does not import Warp; ``init_warp()`` does, once per process.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

from curator.errors import WarpDriftError, describe

SUPPORTED_WARP = "1.19."
DEFAULT_ARCH = 86  # the CUDA architecture `curator verify` compiles for (sm_86)
_warp = None


class CodegenError(Exception):
    """Warp could not build or generate code for a kernel."""

    def __init__(self, stage: str, exc: BaseException):
        super().__init__(f"{stage}: {describe(exc)}")
        self.stage = stage
        self.exc_type = type(exc).__name__
        self.message = str(exc)


def init_warp():
    """Import and initialise Warp once per process (no GPU or driver needed)."""
    global _warp
    if _warp is None:
        import warp as wp

        if not wp.config.version.startswith(SUPPORTED_WARP):
            raise WarpDriftError(f"curator supports warp-lang {SUPPORTED_WARP}x, found {wp.config.version}")
        wp.config.log_level = wp.LOG_WARNING  # no greeting banner from every worker
        with _native_stderr_silenced():  # "CUDA driver not found" is expected here
            wp.init()
        from warp._src import context

        _FRESH_COUNTS.update(context.function_key_counts)
        _warp = wp
    return _warp


def warp_runtime() -> Any:
    """Warp's runtime (``warp._src.context.runtime``) once ``init_warp()`` has run.  Typed Any: Warp
    declares it ``runtime = None`` and fills in what is read here (``llvm``, ``core``,
    ``toolkit_version``, ...) from its native libraries, which a type checker cannot follow."""
    from warp._src import context

    return context.runtime


@contextlib.contextmanager
def _native_stderr_silenced():
    """Discard what native code writes to file descriptor 2 (Python's sys.stderr is untouched)."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


# Warp numbers @wp.func native names with a process-global counter per name (helper_0, helper_1,
# ...), which Warp's own functions start at init.  Building a kernel from these counts gives the
# names a fresh process gives it, whatever the process built before.
_FRESH_COUNTS: dict[str, int] = {}


@contextlib.contextmanager
def fresh_function_numbering():
    """While building: Warp's function counters as right after ``wp.init()`` in a fresh process;
    the process's own counters are restored afterwards."""
    init_warp()
    from warp._src import context

    saved = dict(context.function_key_counts)
    context.function_key_counts.clear()
    context.function_key_counts.update(_FRESH_COUNTS)
    try:
        yield
    finally:
        context.function_key_counts.clear()
        context.function_key_counts.update(saved)


def fresh_counts() -> dict[str, int]:
    """How many @wp.func of each name Warp has numbered right after ``wp.init()`` (its own)."""
    init_warp()
    return dict(_FRESH_COUNTS)


def warp_version() -> str:
    return init_warp().config.version
