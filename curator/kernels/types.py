"""The Warp value types the generator knows: names, annotations, constructors and literals."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class WType:
    """One Warp value type.  ``key`` is the generator's name for it (``vec3d``, ``float32``)."""

    key: str
    kind: str  # scalar | bool | vec | mat | quat | transform | spatial | spatial_matrix
    scalar: str  # element scalar key (the type itself for scalars)
    size: int = 1  # vector length / matrix rows
    annotation: str = ""  # text used in signatures
    ctor: str = ""  # callable that builds or casts to this type


FLOAT_SCALARS = ("float16", "float32", "float64")
INT_SCALARS = ("int32", "int64", "uint32")
# Extra integer widths only used as intermediate cast targets (they broaden dtype coverage).
CAST_ONLY_SCALARS = ("int8", "uint8", "int16", "uint16", "uint64")
SCALAR_SUFFIX = {"float32": "", "float64": "d", "float16": "h", "int32": "i"}

TYPES: dict[str, WType] = {}


def _add(t: WType) -> None:
    TYPES[t.key] = t


_add(WType("float32", "scalar", "float32", 1, "float", "wp.float32"))
_add(WType("float64", "scalar", "float64", 1, "wp.float64", "wp.float64"))
_add(WType("float16", "scalar", "float16", 1, "wp.float16", "wp.float16"))
_add(WType("int32", "scalar", "int32", 1, "int", "wp.int32"))
_add(WType("int64", "scalar", "int64", 1, "wp.int64", "wp.int64"))
_add(WType("uint32", "scalar", "uint32", 1, "wp.uint32", "wp.uint32"))
_add(WType("bool", "bool", "bool", 1, "bool", "bool"))
for _s, _suf in SCALAR_SUFFIX.items():
    for _n in (2, 3, 4):
        _add(WType(f"vec{_n}{_suf}", "vec", _s, _n, f"wp.vec{_n}{_suf}", f"wp.vec{_n}{_suf}"))
for _s in ("float32", "float64"):
    _suf = SCALAR_SUFFIX[_s]
    for _n in (2, 3, 4):
        _add(WType(f"mat{_n}{_n}{_suf}", "mat", _s, _n, f"wp.mat{_n}{_n}{_suf}", f"wp.mat{_n}{_n}{_suf}"))
    _add(WType(f"quat{_suf}", "quat", _s, 4, f"wp.quat{_suf}", f"wp.quat{_suf}"))
    _add(WType(f"transform{_suf}", "transform", _s, 7, f"wp.transform{_suf}", f"wp.transform{_suf}"))
    _add(WType(f"spatial_vector{_suf}", "spatial", _s, 6, f"wp.spatial_vector{_suf}", f"wp.spatial_vector{_suf}"))
_add(WType("spatial_matrix", "spatial_matrix", "float32", 6, "wp.spatial_matrix", "wp.spatial_matrix"))

# Array element types: scalars (not bool) and the float32/float64 compound types.
ARRAY_DTYPES = tuple(k for k, t in TYPES.items() if t.kind != "bool" and t.key != "spatial_matrix")
# Types atomics accept (wp.atomic_min/max need scalars or float vectors).
ATOMIC_ADD_DTYPES = ("float32", "float64", "float16", "int32", "int64", "uint32", "vec2", "vec3", "vec4", "vec3d")
ATOMIC_MINMAX_DTYPES = ("float32", "float64", "int32", "int64", "uint32", "vec3")


def vec(scalar: str, n: int) -> WType:
    return TYPES[f"vec{n}{SCALAR_SUFFIX[scalar]}"]


def mat(scalar: str, n: int) -> WType:
    return TYPES[f"mat{n}{n}{SCALAR_SUFFIX[scalar]}"]


def compound(kind: str, scalar: str) -> WType:
    return TYPES[f"{kind}{SCALAR_SUFFIX[scalar]}"]


_FLOAT_TEXTS = ("0.5", "0.25", "1.0", "1.5", "2.0", "0.1", "0.75", "3.0", "0.01", "4.0", "0.3", "10.0")


def float_text(rng: random.Random) -> str:
    """A short float literal such as ``0.25`` or ``-3.5`` (one draw picks the kind and the value)."""
    r = rng.random()
    if r < 0.65:
        return _FLOAT_TEXTS[int(r * (len(_FLOAT_TEXTS) / 0.65))]
    digits = 1 + min(2, int((r - 0.65) * (3 / 0.35)))
    return repr(round(rng.uniform(-8.0, 8.0), digits))


def int_text(rng: random.Random, lo: int = 0, hi: int = 9) -> str:
    return str(rng.randint(lo, hi))


def scalar_literal(rng: random.Random, key: str, dynamic: bool = False) -> str:
    """A literal of scalar type ``key``; float32/int32 literals are bare unless ``dynamic``.

    Warp treats a bare literal bound to a name as a compile-time constant that cannot be
    mutated inside a dynamic loop, so declarations wrap it (``float(1.5)``).
    """
    if key == "float32":
        text = float_text(rng)
        return f"float({text})" if dynamic else text
    if key == "int32":
        text = int_text(rng, 0, 9)
        return f"int({text})" if dynamic else text
    if key == "bool":
        return rng.choice(("True", "False")) if not dynamic else f"bool({rng.choice(('True', 'False'))})"
    if key in FLOAT_SCALARS:
        return f"{TYPES[key].ctor}({float_text(rng)})"
    return f"{TYPES[key].ctor}({int_text(rng, 0, 9)})"


def one_literal(key: str) -> str:
    """The value 1 of scalar type ``key`` (used in guards like ``abs(x) + 1``)."""
    return {"float32": "1.0", "int32": "1"}.get(key, f"wp.{key}({'1.0' if key in FLOAT_SCALARS else '1'})")


def literal(rng: random.Random, t: WType, dynamic: bool = False) -> str:
    """A constant expression of type ``t`` (constructor calls for compound types)."""
    if t.kind in ("scalar", "bool"):
        return scalar_literal(rng, t.key, dynamic)
    suf = SCALAR_SUFFIX[t.scalar]
    dtype = "wp.float64" if t.scalar == "float64" else "wp.float32"
    if t.kind == "vec":
        lit = (lambda: int_text(rng)) if t.scalar == "int32" else (lambda: float_text(rng))
        if rng.random() < 0.3:
            return f"{t.ctor}({lit()})"
        return f"{t.ctor}({', '.join(lit() for _ in range(t.size))})"
    if t.kind == "mat":
        roll = rng.random()
        if roll < 0.3:
            return f"wp.identity(n={t.size}, dtype={dtype})"
        if roll < 0.5:
            return f"{t.ctor}({float_text(rng)})"
        return f"{t.ctor}({', '.join(float_text(rng) for _ in range(t.size * t.size))})"
    if t.kind == "quat":
        roll = rng.random()
        if roll < 0.4:
            return "wp.quat_identity()" if suf == "" else f"wp.quat_identity(dtype={dtype})"
        if roll < 0.7:
            axis = f"{vec(t.scalar, 3).ctor}({float_text(rng)}, {float_text(rng)}, {float_text(rng)})"
            return f"wp.quat_from_axis_angle(wp.normalize({axis}), {scalar_literal(rng, t.scalar)})"
        return f"wp.quat_rpy({', '.join(scalar_literal(rng, t.scalar) for _ in range(3))})"
    if t.kind == "transform":
        if rng.random() < 0.35:
            return "wp.transform_identity()" if suf == "" else f"wp.transform_identity(dtype={dtype})"
        pos = literal(rng, vec(t.scalar, 3))
        return f"{t.ctor}({pos}, {literal(rng, compound('quat', t.scalar))})"
    if t.kind == "spatial":
        if t.scalar == "float64" or rng.random() < 0.5:
            return f"{t.ctor}({', '.join(float_text(rng) for _ in range(6))})"
        return f"{t.ctor}({literal(rng, vec(t.scalar, 3))}, {literal(rng, vec(t.scalar, 3))})"
    if t.kind == "spatial_matrix":
        return "wp.identity(n=6, dtype=wp.float32)"
    raise ValueError(t.key)
