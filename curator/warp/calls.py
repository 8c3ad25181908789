"""Which visible builtin signatures a kernel really calls: the overloads Warp resolves while building it."""

from __future__ import annotations

import contextlib
import functools
import re
import sys
from collections.abc import Iterator
from types import FrameType
from typing import Any

from curator.warp.surface import is_visible, signature_text

# `wp.static(...)` is evaluated while Warp parses the kernel, before any overload resolution, so it
# never reaches resolve_func; a kernel whose source calls it has used its one visible signature.
_STATIC_CALL = re.compile(r"\bwp\.static\s*\(")
STATIC_SIGNATURE = "static(expr: Any) -> Any"


# Builtin calls Warp's codegen inserts by itself: `where` merges a variable assigned in both branches
# of an `if` (a phi node) and wraps negative tile indices.  Counting them would credit every kernel
# with an if/else with `where`; an explicit `a if c else b` or `wp.where(...)` still counts.
_INTERNAL_CALLERS = {"where": frozenset({"emit_If", "resolve_tile_int_index"})}


def _emitter() -> str:
    """Name of the nearest codegen method on the stack that lowers a construct (emit_*, resolve_tile_*)."""
    frame: FrameType | None = sys._getframe(2)
    for _ in range(12):
        if frame is None:
            break
        name = frame.f_code.co_name
        if name.startswith(("emit_", "resolve_tile_")):
            return name
        frame = frame.f_back
    return ""


@contextlib.contextmanager
def recording_builtin_calls() -> Iterator[list[tuple[Any, Any, list, dict]]]:
    """Record (builtin, resolved overload, arg types, kwarg types) for every builtin call Warp
    resolves while the block runs: calls written as ``wp.name(...)``, operators (``a + b`` resolves
    ``add``), subscripts and calls inside the kernel's ``@wp.func`` helpers alike.  Calls made inside
    helpers that Warp itself implements in Python (modules under ``warp._src``) are not the kernel's
    own and are left out."""
    from warp._src.codegen import Adjoint
    from warp._src.context import builtin_functions

    calls: list[tuple[Any, Any, list, dict]] = []
    original = Adjoint.resolve_func

    def resolve_func(adj, func, arg_types, kwarg_types, min_outputs):
        resolved = original(adj, func, arg_types, kwarg_types, min_outputs)
        if getattr(adj.func, "__module__", "").startswith("warp._src"):
            return resolved
        if func.is_builtin():
            if func.key in _INTERNAL_CALLERS and _emitter() in _INTERNAL_CALLERS[func.key]:
                return resolved  # Warp's own lowering, nothing the kernel wrote
            calls.append((func, resolved, list(arg_types), dict(kwarg_types)))
        elif builtin_functions.get(func.key) is func:
            # a builtin Warp writes in Python (norm_l2, quat_to_rpy, transform_compose...): one signature,
            # the registered function itself, whatever overload of it the arguments specialise
            calls.append((func, func, list(arg_types), dict(kwarg_types)))
        return resolved

    Adjoint.resolve_func = resolve_func  # type: ignore[method-assign]  # recording, restored below
    try:
        yield calls
    finally:
        Adjoint.resolve_func = original  # type: ignore[method-assign]  # Warp's own, back


# Registry objects (builtins and their overloads) live as long as the process, so their ids are stable
# keys.  A call resolved to a visible overload, or to a hidden overload with concrete input types (the
# exported copies Warp makes of generic overloads), stands for the same visible signature whatever the
# call: that answer is kept per resolved overload.  Only calls resolved to a hidden generic overload
# are matched against the visible overloads one by one.
_BY_RESOLVED: dict[int, str | None] = {}
_VISIBLE: dict[int, list[Any]] = {}


def visible_signature(func: Any, resolved: Any, arg_types: list, kwarg_types: dict) -> str | None:
    """The visible signature a resolved call stands for, or None for a call only hidden overloads take.

    Warp resolves to the first overload that matches, often a hidden concrete copy of a generic
    visible one (``min(float32, float32)`` for ``min(Scalar, Scalar)``); the visible overload is the
    first visible one that matches the same argument types, with Warp's own two-pass rule."""
    key = id(resolved)
    if key in _BY_RESOLVED:
        return _BY_RESOLVED[key]
    if not func.is_builtin():
        # A builtin Warp writes in Python (transform_compose...) learns its return type only when a
        # kernel using it is built, so its text then differs from the table's (written before any
        # build): the table's text is the signature.
        builtin = _surface_names().get(func.key)
        if builtin is not None and len(builtin.signatures) == 1:
            text = _BY_RESOLVED[key] = builtin.signatures[0].text
            return text
    if is_visible(resolved):
        text = _BY_RESOLVED[key] = signature_text(func.key, resolved)
        return text
    text = _match_visible(func, arg_types, kwarg_types)
    if not getattr(resolved, "generic", True):
        _BY_RESOLVED[key] = text
    return text


def _match_visible(func: Any, arg_types: list, kwarg_types: dict) -> str | None:
    from warp._src.codegen import func_match_args

    overloads = _VISIBLE.get(id(func))
    if overloads is None:
        overloads = _VISIBLE[id(func)] = [
            o for o in (getattr(func, "overloads", None) or [func]) if is_visible(o) and not o.variadic
        ]
    for allow_erasure in (False, True):
        for overload in overloads:
            if len(overload.input_types) < len(arg_types) + len(kwarg_types):
                continue
            if func_match_args(overload, arg_types, kwarg_types, allow_erasure=allow_erasure):
                return signature_text(func.key, overload)
    return None


@functools.cache
def _surface_names() -> dict[str, Any]:
    """The committed table's builtins by name (one dict per process, not one per kernel)."""
    from curator.kernels.surface import load_surface

    return load_surface().names()


def signatures_of_calls(calls: list[tuple[Any, Any, list, dict]], source: str = "") -> list[str]:
    """Sorted distinct visible signatures of recorded calls (plus ``static`` when the source calls it)."""
    # struct constructors join Warp's registry as the process defines structs; only the table's names count
    names = _surface_names()
    found = {visible_signature(*call) for call in calls if call[0].key in names}
    found.discard(None)
    if _STATIC_CALL.search(source):
        found.add(STATIC_SIGNATURE)
    return sorted(found)  # type: ignore[arg-type]
