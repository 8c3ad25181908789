"""Run stored kernels: import a kernel's Python source and launch it on random inputs built
from its argument annotations (``curator verify --run``)."""

from __future__ import annotations

import re

from curator.warp import CodegenError, init_warp
from curator.warp.build import BLOCK_DIM, load_module, release_module
from curator.warp.values import SIZE, array_numpy, random_value


def load_kernel(source: str, kernel_name: str, module_name: str):
    """Import a stored kernel's Python source as a module: (module, wp.Kernel).  Release it
    with ``release_module(module_name)``.  Raises CodegenError (stage ``import``)."""
    init_warp()
    try:
        module = load_module(source, module_name)
        return module, getattr(module, kernel_name)
    except Exception as exc:
        release_module(module_name)
        raise CodegenError("import", exc) from exc


_ANNOTATION = re.compile(r"^wp\.array(?P<nd>[1-4]d)?\((?P<inner>.*)\)$")


def _resolve_type(text: str, module):
    """A Warp type from its annotation text (``wp.vec3``, ``float``, ``Body``...)."""
    wp = init_warp()
    namespace = {"wp": wp, "float": float, "int": int, "bool": bool} | vars(module)
    return eval(text, namespace)  # the text comes from the kernel's own source annotations


def launch_random(kernel, module, kernel_args: list, launch_dim: int, device: str, seed: int = 0, size: int = 8):
    """Launch ``kernel`` on ``device`` with random inputs built from its argument annotations
    (``kernels.kernel_args``): arrays of ``size`` per dimension, ``launch_dim`` dimensions of
    ``size`` threads; the same seed gives the same inputs on every device.  Returns (inputs,
    outputs): every argument's value before the launch (arrays as ndarrays, scalars and structs
    as given) and every array argument's contents after it (name -> ndarray)."""
    import numpy as np

    wp = init_warp()
    rng = np.random.default_rng(seed)
    values, inputs, arrays = [], {}, []
    for name, annotation in kernel_args:
        m = _ANNOTATION.match(annotation.replace(" ", ""))
        if m:
            inner = dict(kv.split("=", 1) for kv in m.group("inner").split(","))
            ndim = int(m.group("nd")[0]) if m.group("nd") else int(inner.get("ndim", 1))
            value = random_value(_resolve_type(inner["dtype"], module), (size,) * ndim, rng, device)
            arrays.append((name, value))
            inputs[name] = array_numpy(value)
        else:
            value = inputs[name] = random_value(_resolve_type(annotation, module), None, rng, device)
        values.append(value)
    wp.launch(kernel, dim=(size,) * launch_dim, inputs=values, device=device)
    wp.synchronize_device(device)
    return inputs, {name: array_numpy(a) for name, a in arrays}


def cuda_available() -> bool:
    """Whether this process can launch on a GPU (a CUDA driver and a device)."""
    return init_warp().is_cuda_available()


def launch(kernel, values: list, launch_dim: int, size: int = SIZE, device: str = "cpu") -> None:
    """Launch as Warp launches it, on ``device``; a tile kernel tiled with the block_dim its stored
    code was built for (CPU 1, CUDA 256: what Warp uses at launch)."""
    wp = init_warp()
    dim = (size,) * launch_dim
    if is_tiled(kernel):
        block_dim = BLOCK_DIM["cpu" if str(device) == "cpu" else "cuda"]
        wp.launch_tiled(kernel, dim=dim, inputs=values, block_dim=block_dim, device=device)
    else:
        wp.launch(kernel, dim=dim, inputs=values, device=device)
    wp.synchronize_device(device)


def is_tiled(kernel) -> bool:
    """Whether the kernel uses tiles (launched tiled; what it computes may depend on block_dim)."""
    return "tile" in (kernel.adj.source or "")
