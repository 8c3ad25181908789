"""Run one stored kernel on the CPU through Warp's own JIT: seeded random inputs of valid shapes,
a checksum of the outputs, the pair check (stored code vs the .cpp Warp compiled) and the
adjoint check (``wp.Tape`` against central finite differences).  Runs inside a worker process
(``curator.execution``); a crash or hang here kills only that worker."""

from __future__ import annotations

import glob
import hashlib
import os
import re
import shutil
import time
from dataclasses import dataclass

from curator.warp import init_warp
from curator.warp.build import load_module, module_source, normalize_line_comments, release_module
from curator.warp.launch import _random_value

SIZE = 8  # elements per array dimension and threads per launch dimension
_HASH_SUFFIX = re.compile(r"_[0-9a-f]{7,}(?=_(?:cpu|cuda)_)")
_GEOMETRY = re.compile(r"wp\.(mesh|bvh|hash_grid|volume)_\w+\(\s*(\w+)")


class NotRunnable(Exception):
    """The kernel cannot be launched with generated inputs (the message says why)."""


@dataclass
class Execution:
    status: str  # ran | failed | not-runnable
    message: str = ""
    checksum: str | None = None
    repeatable: bool | None = None
    nonfinite: bool | None = None
    pair_ok: bool | None = None
    grad: str | None = None  # pass | fail | not-differentiable
    grad_error: float | None = None
    grad_note: str = ""
    ms: float = 0.0


class Inputs:
    """The launch arguments of one kernel for one seed (arrays fresh on every ``values()``)."""

    def __init__(self, kernel, source: str, seed: int, size: int = SIZE):
        """Values for ``kernel``'s parameters, from the types Warp resolved for them (whatever
        annotation style the source uses: ``wp.array(dtype=...)``, ``wp.array[...]``, aliases)."""
        import numpy as np

        wp = init_warp()
        self.rng = np.random.default_rng(seed)
        self.names, self._values, self.arrays = [], [], {}
        for arg in kernel.adj.args:
            name, t = arg.label, arg.type
            self.names.append(name)
            kind = type(t).__name__
            if hasattr(t, "dtype") and hasattr(t, "ndim") and ("indexed" in kind or "fabric" in kind):
                raise NotRunnable(f"parameter {name} is a {kind}: no such array is built for CPU runs")
            if hasattr(t, "dtype") and hasattr(t, "ndim"):  # wp.array(dtype=...), wp.array[...], array2d...
                value = _random_value(t.dtype, (size,) * t.ndim, self.rng, "cpu")
                self.arrays[name] = value
            elif t is wp.uint64 and _geometry_kind(name, source):
                value = _geometry(_geometry_kind(name, source), self.rng)
            else:
                value = _random_value(t, None, self.rng, "cpu")
            self._values.append(value)

    def values(self, shift: dict | None = None, requires_grad: frozenset = frozenset()) -> list:
        """Launch arguments with fresh copies of the arrays (``shift``: name -> ndarray added)."""
        wp = init_warp()
        out = []
        for name, value in zip(self.names, self._values, strict=True):
            if name in self.arrays:
                value = wp.clone(value, requires_grad=name in requires_grad)
                if shift and name in shift:
                    value.assign(value.numpy() + shift[name].astype(value.numpy().dtype))
            out.append(value)
        return out


def _geometry_kind(name: str, source: str) -> str | None:
    """Which geometry a ``wp.uint64`` parameter is a handle of, by its use or its name."""
    for kind, arg in _GEOMETRY.findall(source):
        if arg == name:
            return kind
    lowered = name.lower()
    return next((k for k in ("mesh", "bvh", "volume", "grid") if k in lowered), None)


def _geometry(kind: str, rng) -> int:
    """A small real geometry object on the CPU; its handle (kept alive in ``_KEEP``)."""
    import numpy as np

    wp = init_warp()
    points = rng.uniform(-1, 1, (8, 3)).astype(np.float32)
    if kind == "mesh":
        faces = np.array([0, 1, 2, 1, 3, 2, 4, 5, 6, 5, 7, 6], dtype=np.int32)
        obj = wp.Mesh(wp.array(points, dtype=wp.vec3), wp.array(faces, dtype=int))
    elif kind == "bvh":
        obj = wp.Bvh(wp.array(points - 0.1, dtype=wp.vec3), wp.array(points + 0.1, dtype=wp.vec3))
    elif kind in ("grid", "hash_grid"):
        obj = wp.HashGrid(4, 4, 4, device="cpu")
        obj.build(wp.array(points, dtype=wp.vec3), 0.5)
    else:
        raise NotRunnable(f"a wp.uint64 {kind} handle: no {kind} is built for CPU runs")
    _KEEP.append(obj)
    return obj.id


_KEEP: list = []


def launch(kernel, values: list, launch_dim: int, size: int = SIZE) -> None:
    wp = init_warp()
    dim = (size,) * launch_dim
    if "tile" in (kernel.adj.source or ""):  # tile kernels: CPU launches use block_dim 1
        wp.launch_tiled(kernel, dim=dim, inputs=values, block_dim=1, device="cpu")
    else:
        wp.launch(kernel, dim=dim, inputs=values, device="cpu")
    wp.synchronize_device("cpu")


def checksum(arrays: list) -> tuple[str, bool]:
    """(blake2b of the arrays' bytes, whether a float holds NaN/Inf)."""
    import numpy as np

    h, nonfinite = hashlib.blake2b(digest_size=16), False
    for a in arrays:
        data = np.ascontiguousarray(a.numpy())
        h.update(data.tobytes())
        fields = [data[f] for f in data.dtype.names] if data.dtype.names else [data]
        nonfinite |= any(f.dtype.kind == "f" and not np.isfinite(f).all() for f in fields)
    return h.hexdigest(), bool(nonfinite)


def pair_check(cache_dir: str, stored_cpu: dict[str, str]) -> str:
    """'' if the .cpp Warp wrote to its kernel cache equals the stored pieces' translation unit
    (``<L n>`` comments, source file comments and kernel hash suffixes normalised), else why not."""
    found = glob.glob(os.path.join(cache_dir, "*", "*.cpp"))
    if len(found) != 1:
        return f"pair check: {len(found)} .cpp files in Warp's kernel cache, expected 1"
    with open(found[0], encoding="utf-8") as fh:
        compiled = _normalise(fh.read())
    stored = _normalise(module_source("cpu", stored_cpu))
    if compiled == stored:
        return ""
    a, b = compiled.splitlines(), stored.splitlines()
    line = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    got = a[line] if line < len(a) else "<end>"
    want = b[line] if line < len(b) else "<end>"
    return (
        f"pair check: stored code differs from Warp's at line {line + 1}: Warp {got.strip()!r}, stored {want.strip()!r}"
    )


def _normalise(code: str) -> str:
    return _HASH_SUFFIX.sub("", normalize_line_comments(code).replace("#define WP_NO_BFLOAT16\n", ""))


def clear_cache(cache_dir: str) -> None:
    """Remove the modules Warp built before (the next .cpp found there is this kernel's)."""
    for entry in os.listdir(cache_dir):
        shutil.rmtree(os.path.join(cache_dir, entry), ignore_errors=True)


def execute(kernel_row: dict, stored_cpu: dict[str, str], seed: int, grad: bool = True) -> Execution:
    """Launch a stored kernel on the CPU (see the module docstring).  Raises NotRunnable; any
    other exception is the kernel's failure, reported by the caller.  Warp's kernel cache
    (``wp.config.kernel_cache_dir``) must be this worker's own: it is emptied first."""

    from warp._src import context

    from curator.warp.adjoint import adjoint_check

    t0 = time.perf_counter()
    saved_counts = dict(context.function_key_counts)
    module_name = f"curator_exec_{kernel_row['id']}"
    cache_dir = init_warp().config.kernel_cache_dir
    clear_cache(cache_dir)
    try:
        module = load_module(kernel_row["source"], module_name)
        kernel = getattr(module, kernel_row["name"])
        dim = kernel_row["launch_dim"]
        inputs = Inputs(kernel, kernel_row["source"], seed)
        values = inputs.values()
        launch(kernel, values, dim)
        arrays = [v for n, v in zip(inputs.names, values, strict=True) if n in inputs.arrays]
        digest, nonfinite = checksum(arrays)
        again = Inputs(kernel, kernel_row["source"], seed).values()
        launch(kernel, again, dim)
        repeat, _ = checksum([v for n, v in zip(inputs.names, again, strict=True) if n in inputs.arrays])
        pair = pair_check(cache_dir, stored_cpu)
        result = Execution("ran" if not pair else "failed", pair, digest, repeat == digest, nonfinite, not pair)
        if grad:
            result.grad, result.grad_error, result.grad_note = adjoint_check(kernel, inputs, dim, kernel_row["source"])
        result.ms = (time.perf_counter() - t0) * 1000
        return result
    finally:
        release_module(module_name)
        context.function_key_counts.clear()
        context.function_key_counts.update(saved_counts)
