"""Warp's registries as `curator ingest` needs them: the kernels a file defined, generic
overloads, a kernel's struct/function dependencies, and Warp's global settings."""

from __future__ import annotations

import re
import types

from curator.warp import CodegenError, init_warp
from curator.warp.build import build_options, single_kernel_hasher


def kernels_from_file(filename: str) -> list:
    """Live ``wp.Kernel`` objects (of any Warp module) whose Python function is defined in
    ``filename``, in a stable order (line, key, Warp module name)."""
    import os

    from warp._src import context

    init_warp()
    want = os.path.realpath(filename)
    found = []
    for wmodule in list(context.user_modules.values()):
        for kernel in wmodule._get_live_kernels():
            code = getattr(kernel.func, "__code__", None)
            if code is not None and os.path.realpath(code.co_filename) == want:
                found.append(kernel)
    found.sort(key=instance_order)
    return found


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def instance_order(kernel) -> tuple:
    """A kernel's place among the live kernels of a file: line, key, Warp module, then what its
    closure holds.  A factory's instances share line, key and module; Warp lists them in an order
    that can differ from one process to the next, and the first of those with the same source is
    the one stored, so they are told apart by their closure values (reprs without addresses)."""
    cells = getattr(kernel.func, "__closure__", None) or ()
    values = []
    for cell in cells:
        try:
            values.append(_ADDRESS.sub("", repr(cell.cell_contents)))
        except Exception:  # an empty cell (ValueError), or a repr that fails
            values.append("")
    return (kernel.func.__code__.co_firstlineno, kernel.key, kernel.module.name, tuple(values))


def concrete_kernels(kernel) -> list:
    """The kernel itself, or for a generic kernel its overloads (``wp.overload``) by signature."""
    if not getattr(kernel, "is_generic", False):
        return [kernel]
    return [kernel.overloads[sig] for sig in sorted(kernel.overloads)]


def kernel_signature(kernel) -> str:
    """The overload signature of a generic kernel's instance ("" for a plain kernel)."""
    return getattr(kernel, "sig", "") or ""


def kernel_dependencies(kernel) -> tuple[list, list]:
    """(``@wp.struct`` classes, ``@wp.func`` Python functions) that building ``kernel`` uses, in
    Warp's dependency order; built-ins and native snippets are left out.  Raises CodegenError."""
    from warp._src import context

    init_warp()
    try:
        builder = context.ModuleBuilder(
            kernel.module, build_options(kernel.module, "cuda"), hasher=single_kernel_hasher(kernel)
        )
    except Exception as exc:
        raise CodegenError("build", exc) from exc
    structs = [s.cls for s in builder.structs if getattr(s, "cls", None) is not None]
    funcs = []
    for fn in builder.functions:
        if fn.is_builtin() or getattr(fn, "native_snippet", None) is not None or fn.func is None:
            continue
        funcs.append(fn.func)
    return structs, funcs


def config_snapshot() -> dict:
    """Warp's global settings (``wp.config``), so a module that changes them at import (e.g.
    ``wp.config.verify_fp = True``) does not change the code generated for the next one."""
    wp = init_warp()
    return {k: v for k, v in vars(wp.config).items() if not k.startswith("_") and not isinstance(v, types.ModuleType)}


def config_restore(snapshot: dict) -> None:
    wp = init_warp()
    for k, v in snapshot.items():
        setattr(wp.config, k, v)
