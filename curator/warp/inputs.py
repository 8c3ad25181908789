"""Seeded launch inputs of one kernel for CPU runs, built from the types Warp resolved for its
parameters: arrays, structs (array fields included), indexed and fabric arrays, textures, and
``wp.uint64`` handles of small real meshes, BVHs, hash grids and volumes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from curator.warp import init_warp
from curator.warp.values import SIZE, random_value

ROOM = 4  # arrays have ROOM * SIZE elements per dimension: room for strided layouts (i * 2 + 1, i * 4 + 3)
_GEOMETRY = re.compile(r"wp\.(?:tile_)?(mesh|bvh|hash_grid|volume)_\w+\(\s*([\w.]+)")
_TEXTURE_CHANNELS = {"float": 1, "float32": 1, "vec2": 2, "vec2f": 2, "vec4": 4, "vec4f": 4}


class NotRunnable(Exception):
    """The kernel cannot be launched with generated inputs (the message says why)."""


@dataclass
class _Spec:
    """How to make one value afresh: ``kind`` array | struct | view | fixed."""

    kind: str
    value: Any = None  # the array (array, view backing), the struct type, or the fixed value
    fields: dict = field(default_factory=dict)  # struct: field name -> _Spec
    wrap: Any = None  # view: backing wp.array -> the indexed / fabric array passed to the kernel


class Inputs:
    """The launch arguments of one kernel for one seed (arrays fresh on every ``values()``).

    ``arrays`` holds the plain top-level arrays (the ones the adjoint check may perturb);
    ``materialize`` also returns the arrays held inside structs and behind indexed or fabric
    views, so a checksum covers everything the kernel can write."""

    def __init__(self, kernel, source: str, seed: int, size: int = SIZE, device: str = "cpu"):
        import numpy as np

        self.rng = np.random.default_rng(seed)
        self.source, self.size = source, size
        # Every value is made on ``device``, never on Warp's default device (the GPU, where there
        # is one): the same seed gives the same values on every device.
        self.device = device
        self.names: list[str] = []
        self._specs: list[_Spec] = []
        self._alive: list[list] = []  # every array handed out, alive as long as these inputs
        self._scratch: tuple | None = None  # (values, [(array, its seeded original)], name -> index)
        self.arrays: dict = {}
        for arg in kernel.adj.args:
            spec = self._spec(arg.label, arg.type)
            self.names.append(arg.label)
            self._specs.append(spec)
            if spec.kind == "array":
                self.arrays[arg.label] = spec.value

    def _spec(self, name: str, t) -> _Spec:
        wp = init_warp()
        from warp._src import codegen as wcodegen

        kind = type(t).__name__
        if isinstance(t, type) and issubclass(t, wp.Texture):
            return _Spec("fixed", _texture(t, name, self.source, self.rng, self.size, self.device))
        if isinstance(t, wcodegen.Struct):
            return _Spec("struct", t, {f: self._spec(f, var.type) for f, var in t.vars.items()})
        if hasattr(t, "dtype") and hasattr(t, "ndim"):
            dtype = {float: wp.float32, int: wp.int32, bool: wp.bool}.get(t.dtype, t.dtype)
            backing = random_value(dtype, (ROOM * self.size,) * t.ndim, self.rng, self.device)
            if "indexed" in kind or "fabric" in kind:
                return _Spec("view", backing, wrap=_view_maker(kind, t.ndim, self.rng, self.size, self.device))
            return _Spec("array", backing)
        if t is wp.uint64 and (geo := _geometry_kind(name, self.source)):
            return _Spec("fixed", _geometry(geo, name, self.source, self.rng, self.device))
        return _Spec("fixed", _scalar(t, self.rng, self.size))

    def materialize(
        self, shift: dict | None = None, requires_grad: frozenset = frozenset(), labels: list | None = None
    ) -> tuple[list, list]:
        """(launch arguments, every array they hold) with fresh copies of the arrays
        (``shift``: name -> ndarray added to that top-level array; ``labels``, if given, gets
        the argument name of each array held)."""
        held: list = []
        self._alive.append(held)  # a nested struct copies its fields' pointers, not the arrays
        out = []
        for name, spec in zip(self.names, self._specs, strict=True):
            out.append(_fresh(spec, held, (shift or {}).get(name), name in requires_grad))
            if labels is not None:
                labels.extend([name] * (len(held) - len(labels)))
        return out, held

    def values(self, shift: dict | None = None, requires_grad: frozenset = frozenset()) -> list:
        """Launch arguments with fresh copies of the arrays (``shift``: name -> ndarray added)."""
        return self.materialize(shift, requires_grad)[0]

    def scratch(self, shift: dict | None = None) -> list:
        """Launch arguments for a launch whose outputs are read before the next such call (the
        adjoint check's difference launches): what ``values(shift)`` gives, but the same arrays
        every call, reset in place to the seeded values (plus ``shift``) instead of allocated anew."""
        import numpy as np

        if self._scratch is None:
            held: list = []
            self._alive.append(held)
            bases: list = []
            top: dict[str, int] = {}
            values = []
            for name, spec in zip(self.names, self._specs, strict=True):
                if spec.kind in ("array", "view"):
                    top[name] = len(bases)  # _fresh makes this argument's array first
                values.append(_fresh(spec, held, bases=bases))
            self._scratch = (values, bases, top)
        values, bases, top = self._scratch
        for array, original in bases:
            np.copyto(array.numpy(), original.numpy())
        for name, d in (shift or {}).items():
            data = bases[top[name]][0].numpy()
            data += d.astype(data.dtype)
        return values


def _scalar(t, rng, size: int):
    """A random scalar, vector or struct value; integers in [1, size]: integer parameters are sizes,
    counts, strides, periods and moduli in the code the generator writes, and 0 is none of those."""
    from warp._src import types as wtypes

    wp = init_warp()
    dtype = {int: wp.int32}.get(t, t)
    scalar = getattr(dtype, "_wp_scalar_type_", dtype)
    if scalar in wtypes.int_types and scalar is not wp.uint64:
        shape = tuple(getattr(dtype, "_shape_", ()))
        raw = rng.integers(1, size + 1, shape or None)
        return dtype(*raw.reshape(-1).tolist()) if shape else int(raw)
    return random_value(t, None, rng, "cpu")


def _fresh(spec: _Spec, held: list, shift=None, requires_grad: bool = False, bases: list | None = None):
    """A fresh value of ``spec``: its arrays are copies, appended to ``held`` (and, with ``bases``,
    each with the array it copies)."""
    wp = init_warp()
    if spec.kind == "fixed":
        return spec.value
    if spec.kind == "struct":
        value = spec.value()
        for name, sub in spec.fields.items():
            setattr(value, name, _fresh(sub, held, bases=bases))
        return value
    array = wp.clone(spec.value, requires_grad=requires_grad)
    if shift is not None:
        array.assign(array.numpy() + shift.astype(array.numpy().dtype))
    held.append(array)
    if bases is not None:
        bases.append((array, spec.value))
    return spec.wrap(array) if spec.kind == "view" else array


def _view_maker(kind: str, ndim: int, rng, size: int, device: str = "cpu"):
    """A function wrapping a backing array in the indexed or fabric array ``kind`` names: indices
    are a seeded permutation of the first axis, a fabric array is one bucket over the data."""
    import numpy as np

    wp = init_warp()
    order = rng.permutation(size).astype(np.int32)
    if "fabric" in kind and ndim != 1:
        raise NotRunnable(f"a {ndim}-d {kind}: only 1-d fabric arrays are built for runs")

    def indices():
        return [wp.array(order, dtype=wp.int32, device=device)] + [None] * (ndim - 1)

    def wrap(backing):
        if kind == "indexedarray":
            view = wp.indexedarray(backing, indices())
        else:
            view = wp.fabricarray(_fabric_interface(backing, device), "data")
            view.dtype = backing.dtype  # Fabric has no quaternion or transform role: keep the kernel's type
            if kind == "indexedfabricarray":
                view = wp.indexedfabricarray(view, indices()[0])
        # wp.Tape.backward reads ``.grad`` of every array argument, and these view types have
        # none (an AttributeError in Warp 1.19): no gradient, they are constants to the tape.
        view.grad = None
        return view

    return wrap


def _fabric_interface(data, device: str = "cpu") -> dict:
    """Fabric's array interface over one bucket: a Warp array posing as Fabric attribute data."""
    wp = init_warp()
    scalars = {
        wp.bool: "b",
        wp.int8: "i1",
        wp.int16: "i2",
        wp.int32: "i4",
        wp.int64: "i8",
        wp.uint8: "u1",
        wp.uint16: "u2",
        wp.uint32: "u4",
        wp.uint64: "u8",
        wp.float16: "f2",
        wp.float32: "f4",
        wp.float64: "f8",
    }
    dtype = data.dtype
    if hasattr(dtype, "_wp_scalar_type_"):
        role = "vector" if len(dtype._shape_) == 1 else "matrix"
        kind = (True, scalars[dtype._wp_scalar_type_], dtype._length_, 0, role)
    else:
        kind = (True, scalars[dtype], 1, 0, "")
    attrib = {"type": kind, "access": 2, "pointers": [int(data.ptr)], "counts": [data.size]}
    return {"version": 1, "device": str(device), "attribs": {"data": attrib}, "_ref": data}


def _geometry_kind(name: str, source: str) -> str | None:
    """Which geometry a ``wp.uint64`` parameter (or struct field) is a handle of, by its use in
    ``wp.mesh_*``/``wp.bvh_*``/``wp.hash_grid_*``/``wp.volume_*`` calls or else by its name."""
    for kind, arg in _GEOMETRY.findall(source):
        if arg.split(".")[-1] == name:
            return kind
    lowered = name.lower()
    return next((k for k in ("mesh", "bvh", "volume", "grid") if k in lowered), None)


def _geometry(kind: str, name: str, source: str, rng, device: str = "cpu") -> int:
    """A small real geometry object on ``device``; its handle (the object kept alive in ``_KEEP``)."""
    import numpy as np

    wp = init_warp()
    points = rng.uniform(-1, 1, (8, 3)).astype(np.float32)
    if kind == "mesh":
        faces = np.array([0, 1, 2, 1, 3, 2, 4, 5, 6, 5, 7, 6], dtype=np.int32)
        obj = wp.Mesh(wp.array(points, dtype=wp.vec3, device=device), wp.array(faces, dtype=int, device=device))
    elif kind == "bvh":
        lower, upper = (wp.array(p, dtype=wp.vec3, device=device) for p in (points - 0.1, points + 0.1))
        obj = wp.Bvh(lower, upper)
    elif kind in ("grid", "hash_grid"):
        obj = wp.HashGrid(4, 4, 4, device=device)
        obj.build(wp.array(points, dtype=wp.vec3, device=device), 0.5)
    else:
        obj = _volume(name, source, rng, device)
    _KEEP.append(obj)
    return obj.id


_KEEP: list = []  # geometry and textures of the kernel being run (released before the next one)


def release_objects() -> None:
    """Drop the geometry and textures built for the previous kernel (a worker runs thousands)."""
    _KEEP.clear()


_VOLUME_USE = r"wp\.volume_(\w+)\(\s*(?:\w+\.)?{name}\b([^\n]*)"


def _volume(name: str, source: str, rng, device: str = "cpu"):
    """A small NanoVDB volume on ``device`` of the grid type the kernel's calls on ``name`` ask for:
    an index grid of ``SIZE - 1`` active voxels (``*_index`` sampling: voxel data arrays of
    ``SIZE`` elements cover its indices), else a dense 8x8x8 grid of floats in [-1, 1], integers
    in [0, 8) or vec3 (``_i``/``_v`` calls, or ``dtype=``), unit voxels at the origin."""
    import numpy as np

    wp = init_warp()
    grid = "f"
    for call, rest in re.findall(_VOLUME_USE.format(name=re.escape(name)), source):
        dtype = re.search(r"dtype=([\w.]+)", rest)
        if call.endswith("_index") and call != "lookup_index":
            grid = "index"
        elif call.endswith(("_i", "_v")):
            grid = call[-1]
        elif dtype:
            grid = {"int": "i", "wp.int32": "i", "wp.vec3": "v", "wp.vec3f": "v"}.get(dtype.group(1), "f")
    if grid == "index":
        voxels = rng.integers(0, SIZE, (SIZE - 1, 3)).astype(np.int32)
        return wp.Volume.allocate_by_voxels(wp.array(voxels, dtype=wp.vec3i, device=device), 1.0, device=device)
    if grid == "i":
        return wp.Volume.load_from_numpy(rng.integers(0, SIZE, (SIZE,) * 3).astype(np.int32), bg_value=0, device=device)
    if grid == "v":
        data = rng.uniform(-1, 1, (SIZE,) * 3 + (3,)).astype(np.float32)
        return wp.Volume.load_from_numpy(data, bg_value=wp.vec3(0.0), device=device)
    data = rng.uniform(-1, 1, (SIZE,) * 3).astype(np.float32)
    return wp.Volume.load_from_numpy(data, bg_value=0.0, device=device)


def _texture(cls, name: str, source: str, rng, size: int, device: str = "cpu"):
    """A texture on ``device`` of ``cls``'s dimension (``size`` texels a side) with the channel count the
    kernel's ``wp.texture_sample(name, ..., dtype=...)`` calls ask for (float: 1, vec2, vec4)."""
    import numpy as np

    use = re.search(rf"wp\.texture_sample\(\s*{re.escape(name)}\b[^\n]*?dtype=(?:wp\.)?(\w+)", source)
    channels = _TEXTURE_CHANNELS.get(use.group(1), 1) if use else 1
    ndim = {"Texture1D": 1, "Texture2D": 2, "Texture3D": 3}.get(cls.__name__, 2)
    shape = (size,) * ndim + ((channels,) if channels > 1 else ())
    texture = cls(rng.uniform(0, 1, shape).astype(np.float32), device=device)
    _KEEP.append(texture)
    return texture
