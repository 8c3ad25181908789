"""Category themes: weights that bias statement kinds, value types and builtin groups."""

from __future__ import annotations

from dataclasses import dataclass, field

from .types import TYPES

CATEGORIES: tuple[str, ...] = (
    "arithmetic",
    "vector",
    "matrix",
    "control_flow",
    "math",
    "atomic",
    "nested_loop",
    "multi_conditional",
    "combined",
    "scalar_param",
    "quaternion",
    "transform",
    "spatial",
    "struct",
    "func_call",
    "while_loop",
    "multi_dim",
    "random",
    "bitwise",
    "mixed_precision",
)


def type_group(key: str) -> str:
    """The theme weight group of a type key (``vec3d`` -> ``vecd``)."""
    t = TYPES[key]
    if t.kind == "scalar":
        return {"float32": "f32", "float64": "f64", "float16": "f16"}.get(t.scalar, "int")
    if t.kind == "vec":
        return {"float32": "vec", "float64": "vecd", "float16": "vech", "int32": "veci"}[t.scalar]
    if t.kind == "mat":
        return "mat" if t.scalar == "float32" else "matd"
    if t.kind in ("quat", "transform"):
        return t.kind
    if t.kind in ("spatial", "spatial_matrix"):
        return "spatial"
    return "bool"


@dataclass(frozen=True)
class Theme:
    stmts: dict[str, float]  # statement kind -> weight
    groups: dict[str, float]  # type group -> weight (new locals, arrays, helper signatures)
    tags: dict[str, float]  # builtin tag -> weight
    dims: tuple[float, float, float] = (0.8, 0.15, 0.05)  # launch dim 1/2/3 weights
    size: tuple[int, int] = (4, 24)  # statement budget range
    depth: tuple[int, int] = (1, 3)  # expression depth range
    helpers: tuple[int, int] = (0, 1)  # number of @wp.func helpers
    struct_p: float = 0.08
    rng_p: float = 0.1
    scalar_params: tuple[int, int] = (0, 2)
    arrays: tuple[int, int] = (1, 3)
    extra: dict[str, float] = field(default_factory=dict)


BASE_STMTS = {
    "decl": 5.0,
    "assign": 1.5,
    "aug": 1.5,
    "comp": 0.6,
    "store": 1.5,
    "atomic": 0.5,
    "if": 1.2,
    "for_static": 0.6,
    "for_dyn": 0.6,
    "while": 0.25,
    "decomp": 0.15,
    "struct": 0.6,
}
BASE_GROUPS = {
    "f32": 6.0,
    "f64": 0.8,
    "f16": 0.4,
    "int": 2.0,
    "bool": 0.5,
    "vec": 2.0,
    "vecd": 0.3,
    "vech": 0.2,
    "veci": 0.2,
    "mat": 0.6,
    "matd": 0.15,
    "quat": 0.3,
    "transform": 0.2,
    "spatial": 0.15,
}
BASE_TAGS = {
    "arith": 3.0,
    "math": 2.0,
    "compare": 2.0,
    "cast": 0.6,
    "bitwise": 0.5,
    "vector": 1.5,
    "matrix": 1.0,
    "quat": 1.0,
    "transform": 1.0,
    "spatial": 1.0,
    "random": 2.0,
    "control": 0.4,
}


def _theme(stmts=None, groups=None, tags=None, **kw) -> Theme:
    return Theme(
        stmts=BASE_STMTS | (stmts or {}),
        groups=BASE_GROUPS | (groups or {}),
        tags=BASE_TAGS | (tags or {}),
        **kw,
    )


_LOOPY = {"for_static": 1.5, "for_dyn": 2.0}
THEMES: dict[str, Theme] = {
    "arithmetic": _theme(tags={"arith": 6.0, "math": 1.0}, groups={"int": 3.0}),
    "vector": _theme(
        groups={"vec": 8.0, "vecd": 1.5, "vech": 1.0, "veci": 0.8}, tags={"vector": 5.0}, stmts={"comp": 1.5}
    ),
    "matrix": _theme(
        groups={"mat": 6.0, "matd": 2.0, "vec": 3.0}, tags={"matrix": 6.0}, stmts={"decomp": 1.0, "comp": 1.2}
    ),
    "control_flow": _theme(stmts={"if": 3.0, "for_dyn": 1.2, "while": 0.8}, groups={"bool": 1.5}),
    "math": _theme(tags={"math": 8.0}, groups={"f64": 1.5, "f16": 0.8}),
    "atomic": _theme(stmts={"atomic": 4.0, "store": 2.0}, arrays=(2, 4)),
    "nested_loop": _theme(stmts={"for_static": 2.0, "for_dyn": 3.0}, size=(6, 30), extra={"nest": 0.7}),
    "multi_conditional": _theme(stmts={"if": 4.0}, groups={"bool": 2.0}, extra={"elif": 0.85}),
    "combined": _theme(
        stmts=_LOOPY | {"if": 2.0, "atomic": 1.0}, size=(12, 40), helpers=(0, 2), struct_p=0.3, rng_p=0.3
    ),
    "scalar_param": _theme(scalar_params=(2, 5), groups={"f64": 1.2, "int": 3.0}),
    "quaternion": _theme(groups={"quat": 7.0, "vec": 3.0}, tags={"quat": 6.0}),
    "transform": _theme(groups={"transform": 6.0, "quat": 2.0, "vec": 3.0}, tags={"transform": 6.0, "quat": 2.0}),
    "spatial": _theme(groups={"spatial": 7.0, "vec": 3.0, "mat": 1.0}, tags={"spatial": 6.0}),
    "struct": _theme(stmts={"struct": 4.0}, struct_p=1.0),
    "func_call": _theme(helpers=(1, 3), extra={"call": 4.0}),
    "while_loop": _theme(stmts={"while": 3.0, "if": 1.5}),
    "multi_dim": _theme(dims=(0.0, 0.6, 0.4), stmts={"store": 2.5, "atomic": 1.0}, arrays=(2, 4)),
    "random": _theme(rng_p=1.0, tags={"random": 8.0}),
    "bitwise": _theme(groups={"int": 9.0, "f32": 2.0}, tags={"bitwise": 8.0, "arith": 2.0}),
    "mixed_precision": _theme(
        groups={"f64": 4.0, "f16": 3.0, "vecd": 1.5, "vech": 1.5, "matd": 1.0}, tags={"cast": 6.0}
    ),
}

_TYPE_WEIGHTS: dict[str, dict[str, float]] = {}


def type_weights(category: str) -> dict[str, float]:
    """Weight of every type key for new values in ``category`` (zero-weight types left out)."""
    weights = _TYPE_WEIGHTS.get(category)
    if weights is None:
        groups = THEMES[category].groups
        weights = {k: groups.get(type_group(k), 0.0) for k in TYPES}
        weights = _TYPE_WEIGHTS[category] = {k: w for k, w in weights.items() if w > 0}
    return weights
