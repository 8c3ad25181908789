"""The type names and constants Warp 1.19 exports for kernel code (beside its builtins), written
out so the generator and the coverage measure need not import Warp; a unit test compares them
with the installed Warp's namespace."""

from __future__ import annotations

_VEC_SUFFIXES = ("b", "ub", "s", "us", "i", "ui", "l", "ul", "h", "f", "d")
# Scalar types; ``wp.bool`` is a type too, ``wp.float32`` etc. also spelled ``float``/``int``.
SCALAR_TYPES = (
    "bool",
    "int8",
    "uint8",
    "int16",
    "uint16",
    "int32",
    "uint32",
    "int64",
    "uint64",
    "bfloat16",
    "float16",
    "float32",
    "float64",
)
# Vector, matrix, quaternion, transform and spatial types under every name Warp exports: the
# float32 ones twice (wp.vec3 is wp.vec3f).
COMPOUND_TYPES = (
    *(f"vec{n}" for n in (2, 3, 4)),
    *(f"vec{n}{s}" for n in (2, 3, 4) for s in _VEC_SUFFIXES),
    *(f"mat{n}{n}{s}" for n in (2, 3, 4) for s in ("", "h", "f", "d")),
    *(f"{t}{s}" for t in ("quat", "transform", "spatial_vector", "spatial_matrix") for s in ("", "h", "f", "d")),
)
TYPE_NAMES = SCALAR_TYPES + COMPOUND_TYPES
# Float constants (each also in upper case: wp.PI is wp.pi).
_LOWER_CONSTANTS = ("e", "half_pi", "inf", "ln10", "ln2", "log10e", "log2e", "nan", "phi", "pi", "tau")
CONSTANT_NAMES = _LOWER_CONSTANTS + tuple(c.upper() for c in _LOWER_CONSTANTS)
# Second names of one type: the float32 compound types spelled with their precision (wp.vec3f is wp.vec3).
ALIASES = tuple(
    f"{t}f"
    for t in (
        "vec2",
        "vec3",
        "vec4",
        "mat22",
        "mat33",
        "mat44",
        "quat",
        "transform",
        "spatial_vector",
        "spatial_matrix",
    )
)
