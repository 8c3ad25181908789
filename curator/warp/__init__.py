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
import re
import sys

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
        wp.config.quiet = True
        wp.config.log_level = wp.LOG_WARNING  # no greeting banner from every worker
        with _native_stderr_silenced():  # "CUDA driver not found" is expected here
            wp.init()
        from warp._src import context

        _FRESH_COUNTS.update(context.function_key_counts)
        _warp = wp
    return _warp


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


_NUMBERED = re.compile(r"(.+)_(\d+)")


@contextlib.contextmanager
def stored_source_numbering(kernel):
    """While generating code for an imported kernel: its @wp.func helpers bear the names a fresh
    process gives them when it loads the kernel's stored source (the helpers in Warp's build
    order, then the kernel), not the names this process gave them, which count every function
    of the same name that it imported before (``square_1`` when another module defined a
    ``square`` first).  Warp's own functions, numbered at ``wp.init()``, keep theirs; the old
    names are restored afterwards.  A build that fails here is left to the caller's build."""
    from warp._src import context

    from curator.warp.build import build_options, single_kernel_hasher

    init_warp()
    try:
        functions = list(
            context.ModuleBuilder(
                kernel.module, build_options(kernel.module, "cuda"), hasher=single_kernel_hasher(kernel)
            ).functions
        )
    except Exception:  # the caller's own build of the kernel raises it as a CodegenError
        functions = []
    renamed = _renumber(functions)
    try:
        yield
    finally:
        for fn, (name, specializations) in renamed.items():
            fn.native_func = name
            if specializations is None:
                fn.__dict__.pop("_callable_specializations", None)
            else:
                fn._callable_specializations = specializations


def _renumber(functions: list) -> dict:
    """Give the user functions of a build (in build order) fresh-process numbers: per name, from
    the count after ``wp.init()`` up.  Returns {function: (old name, old specializations)}."""
    new_names: dict[str, str] = {}
    taken: dict[str, int] = {}
    renamed: dict = {}
    for fn in functions:
        fn = _specialized_from(fn) or fn
        for f in (fn, fn.custom_grad_func, fn.custom_replay_func):  # these share fn's name
            if f in renamed:
                continue
            match = _NUMBERED.fullmatch(f.native_func) if f is not None and f.func is not None else None
            if match is None or match[1] != f.key or int(match[2]) < _FRESH_COUNTS.get(f.key, 0):
                continue  # a builtin, a specialization (``_callable_``), or one of Warp's own
            if f.native_func not in new_names:
                number = _FRESH_COUNTS.get(f.key, 0) + taken.get(f.key, 0)
                taken[f.key] = taken.get(f.key, 0) + 1
                new_names[f.native_func] = f"{f.key}_{number}"
            # specializations on function-valued arguments are named after this name: made again
            renamed[f] = (f.native_func, f.__dict__.pop("_callable_specializations", None))
            f.native_func = new_names[f.native_func]
    return renamed


def _specialized_from(fn):
    """The function a specialization on function-valued arguments (``<name>_callable_<hash>``,
    built in its place) was made from, or None."""
    group = fn.module.functions.get(fn.key) if "_callable_" in fn.native_func and fn.module else None
    if group is None:
        return None
    for parent in (group, *group.user_overloads.values(), *group.user_templates.values()):
        if any(s is fn for s in getattr(parent, "_callable_specializations", {}).values()):
            return parent
    return None


def warp_version() -> str:
    return init_warp().config.version
