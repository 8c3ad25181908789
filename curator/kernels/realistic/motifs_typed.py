"""Data stored in other precisions and integer widths: packed colours, integer cells, half and
double geometry, boolean flags, bfloat16 buffers; computed in float32 and written back."""

from __future__ import annotations

from . import names as N
from .extras import post_float
from .kernel import Kernel

_INT_SCALAR = {"b": "wp.int8", "s": "wp.int16", "i": "wp.int32", "l": "wp.int64"}
_UINT_SCALAR = {"ub": "wp.uint8", "us": "wp.uint16", "ui": "wp.uint32", "ul": "wp.uint64"}


def typed_values(k: Kernel) -> None:
    """One of five storage-type computations, chosen per kernel."""
    forms = (_packed_colors, _integer_cells, _integer_cells, _low_precision_points, _low_precision_matrices)
    k.pick((*forms, _component_range, _low_precision_dynamics))(k)


def _const(k: Kernel, name: str) -> str:
    """A Warp constant, mostly in lower case as code bases write it (wp.pi), sometimes wp.PI."""
    return f"wp.{name.upper() if k.chance(0.2) else name}"


def _packed_colors(k: Kernel) -> None:
    """8-bit colours unpacked to float, exposure/gamma applied, packed again."""
    n = k.pick((3, 4))
    src = k.array(("colors", "pixels", "rgba", "albedo"), f"wp.vec{n}ub")
    dst = k.array(("out_colors", "shaded", "result"), f"wp.vec{n}ub") if k.chance(0.6) else src
    (i,) = k.thread(k.pick(("i", "tid", "p")))
    c = k.let(("c", "rgb", "col"), f"wp.vec{n}f({src}[{i}]) / 255.0")
    roll = k.rng.randrange(3)
    if roll == 0:
        ev = k.scalar(("exposure", "ev", "stops"))
        k.emit(f"{c} = {c} * wp.exp({ev} * {_const(k, 'ln2')})")
    elif roll == 1:
        gamma = k.scalar(("gamma", "inv_gamma"))
        comps = ", ".join(f"wp.pow({c}[{j}], {gamma})" for j in range(n))
        k.emit(f"{c} = wp.vec{n}f({comps})")
    else:
        tint = k.param(("tint", "white_balance", "filter_color"), f"wp.vec{n}f")
        k.emit(f"{c} = wp.cw_mul({c}, {tint})")
    lo, hi = f"wp.vec{n}f(0.0)", f"wp.vec{n}f(1.0)"
    k.emit(f"{c} = wp.min(wp.max({c}, {lo}), {hi})")
    if k.chance(0.4):
        bright = k.array(("bright", "lit", "mask"), "wp.bool")
        k.emit(f"{bright}[{i}] = wp.bool(wp.length({c}) > {k.num(0.3, 0.9, 2)})")
    k.emit(f"{dst}[{i}] = wp.vec{n}ub({c} * 255.0 + wp.vec{n}f(0.5))")


def _integer_cells(k: Kernel) -> None:
    """Integer grid coordinates wrapped into a periodic domain, with a linear cell id."""
    n = k.pick((2, 3, 3, 4))
    suffix = k.pick(("i", "i", "l", "s", "b", "ui", "us", "ub", "ul"))
    scalar = {**_INT_SCALAR, **_UINT_SCALAR}[suffix]
    cells = k.array(("cells", "coords", "voxel_ids", "keys"), f"wp.vec{n}{suffix}")
    dims = k.param(("dims", "grid_dims", "res", "shape"), f"wp.vec{n}{suffix}")
    (i,) = k.thread(k.pick(("i", "tid", "p")))
    c = k.let(("c", "cell", "ijk"), f"{cells}[{i}]")
    j = k.fresh("d", "a", "axis")
    loop = f"range(wp.len({c}))" if k.chance(0.6) else f"range({n})"
    check = k.chance(0.3)
    with k.block(f"for {j} in {loop}:"):
        ext = k.let(("ext", "extent", "size_d"), f"wp.max({dims}[{j}], {scalar}(1))")  # no integer mod by zero
        if suffix in _UINT_SCALAR or k.chance(0.5):
            k.emit(f"{c}[{j}] = wp.mod({c}[{j}], {ext})")
        else:
            k.emit(f"{c}[{j}] = wp.mod({c}[{j}] + {ext}, {ext})")
        if check:
            k.emit(f"wp.expect_eq({c}[{j}] < {ext}, True)")
    if k.chance(0.5):
        k.emit(f"{cells}[{i}] = {c}")
    ids = k.array(("cell_ids", "linear", "flat_ids"), "int")
    terms = [f"int({c}[0])"]
    stride = ""
    for a in range(1, n):
        stride = f"int({dims}[{a - 1}])" if not stride else f"{stride} * int({dims}[{a - 1}])"
        terms.append(f"int({c}[{a}]) * {stride}")
    k.emit(f"{ids}[{i}] = " + " + ".join(terms))


def _low_precision_points(k: Kernel) -> None:
    """Half- or double-precision points moved by a rotation about an axis, in float32 arithmetic."""
    p = k.pick(("h", "d"))
    pts = k.array(N.POS, f"wp.vec3{p}")
    (i,) = k.thread(k.pick(("i", "tid")))
    x = k.let(("x", "p", "pt"), f"wp.vec3f({pts}[{i}])")
    if k.chance(0.5):
        xf = k.array(N.BODY_Q, f"wp.transform{p}")
        # a transform converts to no other precision: the point goes to the transform's
        k.emit(f"{x} = wp.vec3f(wp.transform_point({xf}[{i}], wp.vec3{p}({x})))")
    else:
        deg = k.scalar(("angle_deg", "degrees", "yaw_deg"))
        rad = k.let(("angle", "theta", "rad"), f"{deg} * {_const(k, 'pi')} / 180.0")
        k.emit(f"{rad} = wp.mod({rad}, {_const(k, 'tau')})")
        axis = k.pick(("wp.vec3f(0.0, 0.0, 1.0)", "wp.vec3f(0.0, 1.0, 0.0)"))
        q = k.let(("q", "rot", "spin"), f"wp.quat_from_axis_angle({axis}, {rad})")
        k.emit(f"{x} = wp.quat_rotate({q}, {x})")
    if k.chance(0.3):
        rot = k.array(N.ROT, f"wp.quat{p}")
        k.emit(f"{x} = wp.quat_rotate(wp.quatf({rot}[{i}]), {x})")
    if k.chance(0.4):
        m = k.array(("deform", "stretch", "F"), f"wp.mat33{p}")
        # a half matrix converts to float32 in the forward code only (Warp's CPU adjoint does not build)
        k.emit(f"{x} = wp.mat33f({m}[{i}]) * {x}" if p == "d" else f"{x} = wp.vec3f({m}[{i}] * wp.vec3h({x}))")
    out = k.array(("out_points", "moved", "world_pos"), f"wp.vec3{p}") if k.chance(0.5) else pts
    k.emit(f"{out}[{i}] = wp.vec3{p}({x})")


def _component_range(k: Kernel) -> None:
    """Per-element min, max and spread over a vector's components, with inf/nan sentinels."""
    n = k.pick((2, 3, 4))
    kind = k.pick(("h", "d", "f", "bf"))
    if kind == "bf":
        src = k.array(N.IN_F, "wp.bfloat16")
        vals = [f"wp.float32({src}[{{i}} * {n} + {c}])" for c in range(n)]
    else:
        src = k.array(N.IN_F, f"wp.vec{n}{kind}")
        vals = [f"wp.float32({src}[{{i}}][{c}])" for c in range(n)]
    (i,) = k.thread(k.pick(("i", "tid")))
    if kind == "bf":
        k.guard(f"{i} * {n} + {n - 1}", f"{src}.shape[0]")
    lo = k.let(("lo", "vmin", "low"), _const(k, "inf"))
    hi = k.let(("hi", "vmax", "high"), f"-{_const(k, 'inf')}")
    if kind != "bf" and k.chance(0.5):
        v = k.let(("v", "vals", "comp"), f"{src}[{i}]")
        j = k.fresh("c", "j", "axis")
        with k.block(f"for {j} in range(wp.len({v})):"):
            k.emit(f"{lo} = wp.min({lo}, wp.float32({v}[{j}]))")
            k.emit(f"{hi} = wp.max({hi}, wp.float32({v}[{j}]))")
    else:
        for v in vals:
            v = v.format(i=i)
            k.emit(f"{lo} = wp.min({lo}, {v})")
            k.emit(f"{hi} = wp.max({hi}, {v})")
    spread = k.let(("spread", "span", "width"), _const(k, "nan"))
    with k.block(f"if {hi} > {lo}:"):
        k.emit(f"{spread} = {hi} - {lo}")
    if k.chance(0.5):
        k.emit(f"{spread} = wp.log(1.0 + wp.where(wp.isnan({spread}), 0.0, {spread})) * {_const(k, 'log2e')}")
    else:
        k.emit(f"{spread} = wp.where(wp.isnan({spread}), 0.0, {spread})")
    post_float(k, spread, 1)
    dtype = k.pick(("float", "wp.bfloat16", "wp.float16"))
    out = k.array(N.OUT_F, dtype)
    k.emit(f"{out}[{i}] = {spread}" if dtype == "float" else f"{out}[{i}] = {dtype}({spread})")


def _low_precision_matrices(k: Kernel) -> None:
    """Double matrices symmetrised or projected in float32, half ones in half precision, stored back."""
    p, n = k.pick(("h", "d")), k.pick((2, 3, 4, 4))
    mats = k.array(("A", "mats", "tensors", "stress"), f"wp.mat{n}{n}{p}")
    (i,) = k.thread(k.pick(("i", "tid")))
    # a half matrix stays half: its float32 copy constructor's CPU adjoint does not build in Warp 1.19
    real, lit = ("wp.float32", str) if p == "d" else ("wp.float16", lambda v: f"wp.float16({v})")
    a = k.let(("a", "m", "sigma"), f"wp.mat{n}{n}f({mats}[{i}])" if p == "d" else f"{mats}[{i}]")
    k.emit(f"{a} = {lit(0.5)} * ({a} + wp.transpose({a}))")
    roll = k.rng.randrange(3 if p == "d" else 2)
    if roll == 0:
        tr = k.let(("tr", "trace_a", "mean_p"), f"wp.trace({a}) / {lit(float(n))}")
        k.emit(f"{a} = {a} - {tr} * wp.identity(n={n}, dtype={real})")
    elif roll == 1:
        scale = k.scalar(("scale", "stiffness", "gain"))
        k.emit(f"{a} = {a} * {scale}" if p == "d" else f"{a} = {a} * wp.float16({scale})")
    else:
        d = k.let(("det", "vol", "j"), f"wp.determinant({a})")
        with k.block(f"if wp.abs({d}) > {k.eps()}:"):
            k.emit(f"{a} = wp.inverse({a})")
    out = k.array(("out", "result", "sym"), f"wp.mat{n}{n}{p}") if k.chance(0.5) else mats
    k.emit(f"{out}[{i}] = wp.mat{n}{n}{p}({a})" if p == "d" else f"{out}[{i}] = {a}")


def _low_precision_dynamics(k: Kernel) -> None:
    """Spatial inertia times twist: double storage computed in float32, half storage in half."""
    p = k.pick(("h", "d"))
    inertia = k.array(("body_I", "inertia", "I_s"), f"wp.spatial_matrix{p}")
    twists = k.array(N.BODY_QD, f"wp.spatial_vector{p}")
    (i,) = k.thread(k.pick(("i", "tid", "b")))
    if p == "d":
        m = k.let(("I", "M", "inertia_i"), f"wp.spatial_matrixf({inertia}[{i}])")
        v = k.let(("qd", "twist", "v"), f"wp.spatial_vectorf({twists}[{i}])")
    else:  # no float32 copy of a half matrix (see _low_precision_matrices)
        m = k.let(("I", "M", "inertia_i"), f"{inertia}[{i}]")
        v = k.let(("qd", "twist", "v"), f"{twists}[{i}]")
    f = k.let(("f", "wrench", "h"), f"{m} * {v}")
    if k.chance(0.5):
        e = k.array(N.ENERGY, "float")
        k.emit(f"wp.atomic_add({e}, 0, 0.5 * wp.float32(wp.dot({v}, {f})))")
    if k.chance(0.5):
        dt = k.dt()
        k.emit(f"{v} = {v} - {f} * {dt}" if p == "d" else f"{v} = {v} - {f} * wp.float16({dt})")
        k.emit(f"{twists}[{i}] = wp.spatial_vector{p}({v})")
    out = k.array(("wrenches", "body_f", "momentum"), f"wp.spatial_vector{p}")
    k.emit(f"{out}[{i}] = wp.spatial_vector{p}({f})")
