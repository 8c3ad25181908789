"""Run stored kernels: import a kernel's Python source and launch it on random inputs built
from its argument annotations (``curator verify --run``)."""

from __future__ import annotations

import re

from curator.warp import CodegenError, init_warp
from curator.warp.build import load_module, release_module


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


def _random_value(dtype, shape, rng, device):
    """A random Warp value of ``dtype``: an array of ``shape``, or a scalar/struct if no shape."""
    import numpy as np

    wp = init_warp()
    from warp._src import codegen as wcodegen
    from warp._src import types as wtypes

    if isinstance(dtype, wcodegen.Struct):
        if shape is None:
            value = dtype()
            for name, var in dtype.vars.items():
                setattr(value, name, _random_value(var.type, None, rng, device))
            return value
        items = [_random_value(dtype, None, rng, device) for _ in range(int(np.prod(shape)))]
        return wp.array(items, dtype=dtype, device=device).reshape(shape)
    python = {float: wp.float32, int: wp.int32, bool: wp.bool}
    dtype = python.get(dtype, dtype)
    scalar = getattr(dtype, "_wp_scalar_type_", dtype)  # vectors, matrices, quaternions...
    elem_shape = tuple(getattr(dtype, "_shape_", ()))
    np_type = np.dtype(wtypes.warp_type_to_np_dtype[scalar])
    count = int(np.prod(shape or ())) * int(np.prod(elem_shape))
    if np_type.kind == "f":
        raw = rng.uniform(-1.0, 1.0, count).astype(np_type)
    elif np_type.kind == "b":
        raw = rng.integers(0, 2, count).astype(np_type)
    else:  # small non-negative integers: they often end up as loop bounds or indices
        raw = rng.integers(0, 8, count).astype(np_type)
    if shape is not None:
        return wp.array(raw.reshape(tuple(shape) + elem_shape), dtype=dtype, device=device)
    if not elem_shape:
        return raw[0].item()  # a Python number: Warp converts it to the parameter's type
    return dtype(*raw.tolist())


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
            value = _random_value(_resolve_type(inner["dtype"], module), (size,) * ndim, rng, device)
            arrays.append((name, value))
            inputs[name] = _array_numpy(value)
        else:
            value = inputs[name] = _random_value(_resolve_type(annotation, module), None, rng, device)
        values.append(value)
    wp.launch(kernel, dim=(size,) * launch_dim, inputs=values, device=device)
    wp.synchronize_device(device)
    return inputs, {name: _array_numpy(a) for name, a in arrays}


def _array_numpy(array):
    import numpy as np

    out = array.numpy().copy()  # on CPU numpy() is a view of the array's memory
    if out.dtype.names:  # structs: compare their raw bytes field by field
        return np.concatenate(
            [
                np.ascontiguousarray(out[f]).reshape(len(out.reshape(-1)), -1).astype(np.float64)
                for f in out.dtype.names
            ],
            axis=1,
        )
    return out


def cuda_available() -> bool:
    """Whether this process can launch on a GPU (a CUDA driver and a device)."""
    return init_warp().is_cuda_available()
