"""The values of a launch: random Warp values of a type (arrays, structs, scalars) and arrays
read back as numpy, for the inputs of CPU runs, differential launches and the adjoint check."""

from __future__ import annotations

from curator.warp import init_warp

SIZE = 8  # threads per launch dimension; integer values drawn from [0, SIZE) (arrays) or [1, SIZE] (scalars)


def random_value(dtype, shape, rng, device):
    """A random Warp value of ``dtype``: an array of ``shape``, or a scalar/struct if no shape."""
    import numpy as np

    wp = init_warp()
    from warp._src import codegen as wcodegen
    from warp._src import types as wtypes

    if isinstance(dtype, wcodegen.Struct):
        if shape is None:
            value = dtype()
            for name, var in dtype.vars.items():
                setattr(value, name, random_value(var.type, None, rng, device))
            return value
        items = [random_value(dtype, None, rng, device) for _ in range(int(np.prod(shape)))]
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


def array_numpy(array):
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
