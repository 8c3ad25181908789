"""The names Warp gives an imported kernel's @wp.func helpers, made what a fresh process loading its
stored source gives them (Warp numbers helpers with a process-wide counter per name)."""

from __future__ import annotations

import contextlib
import re

from curator.warp import fresh_counts, init_warp

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
    fresh = fresh_counts()
    new_names: dict[str, str] = {}
    taken: dict[str, int] = {}
    renamed: dict = {}
    for fn in functions:
        fn = _specialized_from(fn) or fn
        for f in (fn, fn.custom_grad_func, fn.custom_replay_func):  # these share fn's name
            if f in renamed:
                continue
            match = _NUMBERED.fullmatch(f.native_func) if f is not None and f.func is not None else None
            if match is None or match[1] != f.key or int(match[2]) < fresh.get(f.key, 0):
                continue  # a builtin, a specialization (``_callable_``), or one of Warp's own
            if f.native_func not in new_names:
                number = fresh.get(f.key, 0) + taken.get(f.key, 0)
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
