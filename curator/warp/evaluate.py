"""Launch a stored kernel on the CPU with a given object file in place of the one Warp would build
(a prediction's translation unit, or the stored code's), for `curator eval`: every array it holds
after a launch on seeded inputs, or every gradient of a tape launch."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil

from curator.warp import fresh_function_numbering, init_warp
from curator.warp.build import load_module, release_module
from curator.warp.execute import clear_cache
from curator.warp.inputs import Inputs, NotRunnable, release_objects
from curator.warp.launch import launch

__all__ = ["NotRunnable", "kernel_outputs"]
_RUNS = itertools.count()


@contextlib.contextmanager
def _serving(module_name: str, unit: str, device: str):
    """While Warp loads ``module_name``: on the CPU hand it the object file ``unit`` instead of
    compiling its own C++; on a GPU have it compile the CUDA source ``unit`` in place of its own,
    with its own options for the device (other modules it builds meanwhile, such as a volume's
    index grid, compile as usual)."""
    from warp._src import build

    ours = lambda path: os.path.basename(os.path.dirname(path)).startswith(f"wp_{module_name}")  # noqa: E731
    real_cpu, real_cuda = build.build_cpu, build.build_cuda

    def build_cpu(obj_path, cpp_path, *args, **kwargs):
        if not ours(cpp_path):
            return real_cpu(obj_path, cpp_path, *args, **kwargs)
        shutil.copyfile(unit, obj_path)
        return None

    def build_cuda(cu_path, *args, **kwargs):
        if ours(cu_path):
            with open(cu_path, "w", encoding="utf-8") as fh:
                fh.write(unit)
        return real_cuda(cu_path, *args, **kwargs)

    build.build_cpu, build.build_cuda = build_cpu, build_cuda
    try:
        yield
    finally:
        build.build_cpu, build.build_cuda = real_cpu, real_cuda


def kernel_outputs(record: dict, unit: str, seeds: list[int], target: str, device: str = "cpu") -> list[dict]:
    """Per seed, name -> ndarray: after one launch on ``device`` of the record's kernel built from
    ``unit`` (CPU: an object file; a GPU, ``cuda:0``: the CUDA source)
    (``target`` forward: every array the arguments hold, ``name#k`` for the k-th of one argument;
    ``inputs``: the same arrays as seeded, not launched),
    or the gradient of each float array after a tape launch and a backward pass from seeded
    adjoints of the arrays the launch changed (``target`` backward).  Raises NotRunnable."""
    with fresh_function_numbering():
        module_name = f"curator_eval_{record['id']}_{os.getpid()}_{next(_RUNS)}"
        clear_cache(init_warp().config.kernel_cache_dir)
        release_objects()
        try:
            module = load_module(record["source"], module_name)
            kernel = getattr(module, record["name"])
            with _serving(module_name, unit, device):
                if target == "backward":
                    return [_backward(kernel, record, seed, device) for seed in seeds]
                return [_forward(kernel, record, seed, target == "forward", device) for seed in seeds]
        finally:
            release_module(module_name)


def _forward(kernel, record: dict, seed: int, run: bool, device: str) -> dict:
    inputs = Inputs(kernel, record["source"], seed, device=device)
    labels: list = []
    values, arrays = inputs.materialize(labels=labels)
    if run:
        launch(kernel, values, record["launch_dim"], device=device)
    out: dict = {}
    seen: dict[str, int] = {}
    for label, array in zip(labels, arrays, strict=True):
        k = seen[label] = seen.get(label, -1) + 1
        out[label if k == 0 else f"{label}#{k}"] = array.numpy().copy()
    return out


def _float_array(array) -> bool:
    data = array.numpy()
    return not data.dtype.names and data.dtype.kind == "f" and data.dtype.itemsize in (4, 8)


def _backward(kernel, record: dict, seed: int, device: str) -> dict:
    import numpy as np

    wp = init_warp()
    inputs = Inputs(kernel, record["source"], seed, device=device)
    floats = frozenset(n for n, a in inputs.arrays.items() if _float_array(a))
    if not floats:
        raise NotRunnable("no float array to differentiate")
    values = inputs.values(requires_grad=floats)
    by_name = dict(zip(inputs.names, values, strict=True))
    tape = wp.Tape()
    with tape:
        launch(kernel, values, record["launch_dim"], device=device)
    rng = np.random.default_rng(seed + 7919)
    grads = {}
    for n in sorted(floats):
        a, original = by_name[n], inputs.arrays[n].numpy()
        if not np.array_equal(a.numpy(), original, equal_nan=True):
            grads[a] = wp.array(
                rng.standard_normal(original.shape).astype(original.dtype), dtype=a.dtype, device=a.device
            )
        a.assign(inputs.arrays[n])  # the backward pass replays the forward: give it the inputs again
    if not grads:
        raise NotRunnable("the launch changes no float array")
    tape.backward(grads=grads)
    out = {n: by_name[n].grad.numpy().copy() for n in sorted(floats)}
    tape.zero()
    return out
