"""The typed signature table: Warp builtins and operators as (template, arg types, return type)."""

from __future__ import annotations

from dataclasses import dataclass

from .types import FLOAT_SCALARS, INT_SCALARS, TYPES, compound, mat, one_literal, vec

# Pseudo type of an RNG state variable (a uint32 from wp.rand_init); only the state name fits it.
RNG = "rng"


@dataclass(frozen=True)
class Sig:
    """One way to build a value of type ``ret``: ``template`` formatted with the arg texts."""

    template: str
    args: tuple[str, ...]
    ret: str
    tag: str  # theme group: arith, math, compare, cast, bitwise, vector, matrix, quat, ...


SIGS: list[Sig] = []


def _sig(template: str, args, ret: str, tag: str) -> None:
    SIGS.append(Sig(template, tuple(args), ret, tag))


def _call(name: str, n: int) -> str:
    return f"wp.{name}(" + ", ".join(f"{{{k}}}" for k in range(n)) + ")"


def _lit(key: str, value: float) -> str:
    if key == "float32":
        return repr(float(value))
    if key == "int32":
        return str(int(value))
    return f"wp.{key}({float(value) if key in FLOAT_SCALARS else int(value)})"


def _float_scalar_sigs(f: str) -> None:
    one = one_literal(f)
    for name in ("sin", "cos", "tan", "sinh", "cosh", "tanh", "exp", "atan", "floor", "ceil", "round", "rint"):
        _sig(_call(name, 1), [f], f, "math")
    for name in ("trunc", "frac", "sign", "abs", "degrees", "radians", "erf", "erfc", "cbrt", "step"):
        _sig(_call(name, 1), [f], f, "math")
    # Domain guards keep results finite for typical inputs.
    _sig("wp.sqrt(wp.abs({0}))", [f], f, "math")
    for name in ("log", "log2", "log10"):
        _sig(f"wp.{name}(wp.abs({{0}}) + {one})", [f], f, "math")
    lo, hi = _lit(f, -1.0), _lit(f, 1.0)
    for name in ("asin", "acos"):
        _sig(f"wp.{name}(wp.clamp({{0}}, {lo}, {hi}))", [f], f, "math")
    _sig(f"wp.erfinv(wp.clamp({{0}}, {_lit(f, -0.9)}, {_lit(f, 0.9)}))", [f], f, "math")
    _sig(f"wp.erfcinv(wp.clamp({{0}}, {_lit(f, 0.1)}, {_lit(f, 1.9)}))", [f], f, "math")
    for name in ("atan2", "min", "max", "copysign"):
        _sig(_call(name, 2), [f, f], f, "math")
    _sig("wp.pow(wp.abs({0}), {1})", [f, f], f, "math")
    for name in ("clamp", "lerp", "smoothstep"):
        _sig(_call(name, 3), [f, f, f], f, "math")
    for name in ("isnan", "isinf", "isfinite"):
        _sig(_call(name, 1), [f], "bool", "math")
    for op in ("+", "-", "*", "/"):
        _sig(f"({{0}} {op} {{1}})", [f, f], f, "arith")
    _sig("({0} % {1})", [f, f], f, "arith")
    _sig("(-{0})", [f], f, "arith")
    # Squares: ``x * x`` would repeat an operand; ``**`` takes a float32 exponent only.
    _sig("({0} ** 2.0)" if f == "float32" else f"wp.pow({{0}}, {_lit(f, 2.0)})", [f], f, "arith")


def _int_scalar_sigs(i: str) -> None:
    one = one_literal(i)
    signed = i != "uint32"
    for op in ("+", "-", "*"):
        _sig(f"({{0}} {op} {{1}})", [i, i], i, "arith")
    divisor = f"(wp.abs({{1}}) + {one})" if signed else f"({{1}} | {one})"
    _sig(f"({{0}} // {divisor})", [i, i], i, "arith")
    _sig(f"({{0}} % {divisor})", [i, i], i, "arith")
    for op in ("&", "|", "^"):
        _sig(f"({{0}} {op} {{1}})", [i, i], i, "bitwise")
    seven = _lit(i, 7)
    _sig(f"({{0}} << ({{1}} & {seven}))", [i, i], i, "bitwise")
    _sig(f"({{0}} >> ({{1}} & {seven}))", [i, i], i, "bitwise")
    _sig("(~{0})", [i], i, "bitwise")
    _sig("wp.invert({0})", [i], i, "bitwise")
    _sig("wp.bit_count({0})", [i], "int32", "bitwise")
    for name in ("min", "max"):
        _sig(_call(name, 2), [i, i], i, "math")
    _sig(_call("clamp", 3), [i, i, i], i, "math")
    if signed:
        _sig("wp.abs({0})", [i], i, "math")
        _sig("wp.sign({0})", [i], i, "math")
        _sig("(-{0})", [i], i, "arith")


def _scalar_sigs() -> None:
    scalars = FLOAT_SCALARS + INT_SCALARS
    for f in FLOAT_SCALARS:
        _float_scalar_sigs(f)
    for i in INT_SCALARS:
        _int_scalar_sigs(i)
    for s in scalars:
        for op in ("<", "<=", ">", ">=", "==", "!="):
            _sig(f"({{0}} {op} {{1}})", [s, s], "bool", "compare")
        for src in scalars:
            if src != s:
                _sig(f"{TYPES[s].ctor}({{0}})", [src], s, "cast")
    _sig("float({0})", ["int32"], "float32", "cast")
    _sig("int({0})", ["float32"], "int32", "cast")
    # Round trips through narrow integer widths (wp.int8, wp.uint16, ...).
    for narrow, src, dst in (
        ("int8", "int32", "float32"),
        ("uint8", "uint32", "int32"),
        ("int16", "float32", "int32"),
        ("uint16", "int32", "float64"),
        ("uint64", "int64", "uint32"),
        ("int8", "float64", "int64"),
    ):
        _sig(f"{TYPES[dst].ctor}(wp.{narrow}({{0}}))", [src], dst, "cast")
    for op in ("and", "or"):
        _sig(f"({{0}} {op} {{1}})", ["bool", "bool"], "bool", "compare")
    _sig("(not {0})", ["bool"], "bool", "compare")


def _vector_sigs() -> None:
    for s in FLOAT_SCALARS:
        for n in (2, 3, 4):
            v = vec(s, n).key
            for op in ("+", "-"):
                _sig(f"({{0}} {op} {{1}})", [v, v], v, "arith")
            _sig("({0} * {1})", [v, s], v, "arith")
            _sig("({0} * {1})", [s, v], v, "arith")
            _sig("({0} / {1})", [v, s], v, "arith")
            _sig("(-{0})", [v], v, "arith")
            for name in ("dot",):
                _sig(_call(name, 2), [v, v], s, "vector")
            for name in ("length", "length_sq"):
                _sig(_call(name, 1), [v], s, "vector")
            for name in ("normalize", "abs", "sign"):
                _sig(_call(name, 1), [v], v, "vector")
            for name in ("cw_mul", "cw_div", "min", "max"):
                _sig(_call(name, 2), [v, v], v, "vector")
            _sig(_call("lerp", 3), [v, v, s], v, "vector")
            for name in ("argmin", "argmax"):
                _sig(_call(name, 1), [v], "uint32", "vector")
            _sig(f"{TYPES[v].ctor}(" + ", ".join(f"{{{k}}}" for k in range(n)) + ")", [s] * n, v, "vector")
            _sig(f"{TYPES[v].ctor}({{0}})", [s], v, "vector")
            if n == 3:
                _sig(_call("cross", 2), [v, v], v, "vector")
            if s != "float16":
                _sig(_call("outer", 2), [v, v], mat(s, n).key, "matrix")
            for other in FLOAT_SCALARS:
                if other != s:
                    _sig(f"{TYPES[v].ctor}({{0}})", [vec(other, n).key], v, "cast")
        for name in ("norm_l1", "norm_l2", "norm_huber", "norm_pseudo_huber"):
            _sig(_call(name, 1), [vec("float32", 3).key], "float32", "vector")
        _sig(_call("smooth_normalize", 1), ["vec3"], "vec3", "vector")
    for n in (2, 3, 4):
        v = vec("int32", n).key
        for op in ("+", "-"):
            _sig(f"({{0}} {op} {{1}})", [v, v], v, "arith")
        _sig("({0} * {1})", [v, "int32"], v, "arith")
        _sig(f"{TYPES[v].ctor}(" + ", ".join(f"{{{k}}}" for k in range(n)) + ")", ["int32"] * n, v, "vector")
        _sig(f"{TYPES[v].ctor}({{0}})", [vec("float32", n).key], v, "cast")
        _sig(f"wp.vec{n}({{0}})", [v], vec("float32", n).key, "cast")
        _sig(_call("max", 2), [v, v], v, "vector")


def _matrix_sigs() -> None:
    for s in ("float32", "float64"):
        for n in (2, 3, 4):
            m, v = mat(s, n).key, vec(s, n).key
            for op in ("+", "-", "*"):
                _sig(f"({{0}} {op} {{1}})", [m, m], m, "arith")
            _sig("({0} * {1})", [m, s], m, "arith")
            _sig("({0} * {1})", [s, m], m, "arith")
            _sig("({0} * {1})", [m, v], v, "matrix")
            _sig("wp.mul({0}, {1})", [m, v], v, "matrix")
            _sig("wp.mul({0}, {1})", [m, m], m, "matrix")
            _sig("wp.transpose({0})", [m], m, "matrix")
            _sig("wp.inverse({0})", [m], m, "matrix")
            for name in ("determinant", "trace"):
                _sig(_call(name, 1), [m], s, "matrix")
            _sig(_call("ddot", 2), [m, m], s, "matrix")
            _sig("wp.diag({0})", [v], m, "matrix")
            _sig("wp.get_diag({0})", [m], v, "matrix")
            for name in ("matrix_from_cols", "matrix_from_rows"):
                _sig(_call(name, n), [v] * n, m, "matrix")
        _sig("wp.skew({0})", [vec(s, 3).key], mat(s, 3).key, "matrix")
        other = "float64" if s == "float32" else "float32"
        _sig(f"{mat(s, 3).ctor}({{0}})", [mat(other, 3).key], mat(s, 3).key, "cast")


def _rotation_sigs() -> None:
    for s in ("float32", "float64"):
        q, t, sv = compound("quat", s).key, compound("transform", s).key, compound("spatial_vector", s).key
        v3, m3, m4 = vec(s, 3).key, mat(s, 3).key, mat(s, 4).key
        _sig("({0} * {1})", [q, q], q, "quat")
        for name in ("quat_rotate", "quat_rotate_inv"):
            _sig(_call(name, 2), [q, v3], v3, "quat")
        _sig("wp.quat_inverse({0})", [q], q, "quat")
        _sig("wp.normalize({0})", [q], q, "quat")
        _sig("wp.length({0})", [q], s, "quat")
        _sig("wp.dot({0}, {1})", [q, q], s, "quat")
        _sig("wp.quat_from_axis_angle(wp.normalize({0}), {1})", [v3, s], q, "quat")
        _sig("wp.quat_from_matrix({0})", [m3], q, "quat")
        _sig("wp.quat_to_matrix({0})", [q], m3, "quat")
        _sig("wp.quat_slerp({0}, {1}, {2})", [q, q, s], q, "quat")
        _sig("wp.quat_rpy({0}, {1}, {2})", [s, s, s], q, "quat")
        _sig(f"{TYPES[q].ctor}({{0}}, {{1}}, {{2}}, {{3}})", [s] * 4, q, "quat")
        _sig(f"{TYPES[t].ctor}({{0}}, {{1}})", [v3, q], t, "transform")
        for name in ("transform_point", "transform_vector"):
            _sig(_call(name, 2), [t, v3], v3, "transform")
        _sig("wp.transform_multiply({0}, {1})", [t, t], t, "transform")
        _sig("({0} * {1})", [t, t], t, "transform")
        _sig("wp.transform_inverse({0})", [t], t, "transform")
        _sig("wp.transform_get_translation({0})", [t], v3, "transform")
        _sig("wp.transform_get_rotation({0})", [t], q, "transform")
        if s == "float32":  # the (top, bottom) constructor exists for float32 only
            _sig(f"{TYPES[sv].ctor}({{0}}, {{1}})", [v3, v3], sv, "spatial")
        for name in ("spatial_top", "spatial_bottom"):
            _sig(_call(name, 1), [sv], v3, "spatial")
        for name in ("spatial_cross", "spatial_cross_dual"):
            _sig(_call(name, 2), [sv, sv], sv, "spatial")
        _sig("wp.spatial_dot({0}, {1})", [sv, sv], s, "spatial")
        for op in ("+", "-"):
            _sig(f"({{0}} {op} {{1}})", [sv, sv], sv, "arith")
        _sig("({0} * {1})", [sv, s], sv, "spatial")
        if s == "float32":
            _sig("wp.quat_to_rpy({0})", [q], v3, "quat")
            _sig("wp.quat_twist({0}, {1})", [v3, q], q, "quat")
            _sig("wp.quat_twist_angle({0}, {1})", [v3, q], s, "quat")
            _sig("wp.quat_from_euler({0}, 0, 1, 2)", [v3], q, "quat")
            _sig("wp.quat_from_euler({0}, 2, 1, 0)", [v3], q, "quat")
            _sig("wp.transform_to_matrix({0})", [t], m4, "transform")
            _sig("wp.transform_from_matrix({0})", [m4], t, "transform")
            for name in ("transform_twist", "transform_wrench"):
                _sig(_call(name, 2), [t, sv], sv, "transform")
            _sig("wp.velocity_at_point({0}, {1})", [sv, v3], v3, "spatial")
            _sig("wp.spatial_adjoint({0}, {1})", [m3, m3], "spatial_matrix", "spatial")
            _sig("wp.outer({0}, {1})", [sv, sv], "spatial_matrix", "spatial")
            _sig("({0} * {1})", ["spatial_matrix", sv], sv, "spatial")
            _sig("wp.transpose({0})", ["spatial_matrix"], "spatial_matrix", "spatial")
            _sig("({0} + {1})", ["spatial_matrix", "spatial_matrix"], "spatial_matrix", "arith")


def _random_sigs() -> None:
    _sig("wp.randf({0})", [RNG], "float32", "random")
    _sig("wp.randf({0}, {1}, {1} + 1.0)", [RNG, "float32"], "float32", "random")
    _sig("wp.randn({0})", [RNG], "float32", "random")
    _sig("wp.randi({0})", [RNG], "int32", "random")
    _sig("wp.randi({0}, 0, 16)", [RNG], "int32", "random")
    _sig("wp.randu({0})", [RNG], "uint32", "random")
    _sig("wp.poisson({0}, wp.abs({1}))", [RNG, "float32"], "uint32", "random")
    for arg in ("float32", "vec2", "vec3", "vec4"):
        _sig("wp.noise({0}, {1})", [RNG, arg], "float32", "random")
    _sig("wp.pnoise({0}, {1}, 4)", [RNG, "float32"], "float32", "random")
    _sig("wp.pnoise({0}, {1}, 4, 8)", [RNG, "vec2"], "float32", "random")
    _sig("wp.pnoise({0}, {1}, 2, 4, 8)", [RNG, "vec3"], "float32", "random")
    _sig("wp.curlnoise({0}, {1})", [RNG, "vec2"], "vec2", "random")
    _sig("wp.curlnoise({0}, {1}, wp.uint32(3), 2.0, 0.5)", [RNG, "vec3"], "vec3", "random")
    _sig("wp.curlnoise({0}, {1})", [RNG, "vec4"], "vec3", "random")
    for name in ("sample_unit_sphere", "sample_unit_sphere_surface", "sample_unit_hemisphere", "sample_unit_cube"):
        _sig(_call(name, 1), [RNG], "vec3", "random")
    _sig("wp.sample_unit_hemisphere_surface({0})", [RNG], "vec3", "random")
    for name in ("sample_unit_disk", "sample_unit_ring", "sample_unit_square", "sample_triangle"):
        _sig(_call(name, 1), [RNG], "vec2", "random")


def _where_sigs() -> None:
    for key in TYPES:
        _sig("wp.where({0}, {1}, {2})", ["bool", key, key], key, "control")


_scalar_sigs()
_vector_sigs()
_matrix_sigs()
_rotation_sigs()
_random_sigs()
_where_sigs()

SIGS_BY_RET: dict[str, list[Sig]] = {}
for _s in SIGS:
    SIGS_BY_RET.setdefault(_s.ret, []).append(_s)
