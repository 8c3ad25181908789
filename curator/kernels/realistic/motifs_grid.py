"""2-d grid motifs: image filters, semi-Lagrangian advection, naive matrix products."""

from __future__ import annotations

from . import names as N
from . import slots
from .extras import post_float, post_vec
from .kernel import Kernel


def _ij(k: Kernel) -> tuple[str, str]:
    i, j = k.thread(*k.pick((("i", "j"), ("x", "y"), ("row", "col"), ("px", "py"))))
    return i, j


def image_ops(k: Kernel) -> None:
    """Per-pixel image work: gradients, thresholds, tone mapping, blends."""
    img = k.array(N.IMG, k.pick(("float", "wp.vec3")), 2)
    vec = "vec3" in k.annotation(img)
    out = k.array(("out", "result", "dst_img", "mask"), "wp.vec3" if vec else "float", 2)
    i, j = _ij(k)
    c = k.let(("c", "pix", "center"), f"{img}[{i}, {j}]")
    if vec:
        post_vec(k, c, None, 1)
    else:
        post_float(k, c, 1)
    form = k.rng.randrange(4)
    if form == 0:
        w = k.let(("w", "width"), f"{img}.shape[0]")
        h = k.let(("h", "height"), f"{img}.shape[1]")
        xr = k.let(("xr", "right"), f"{img}[wp.min({i} + 1, {w} - 1), {j}]")
        yu = k.let(("yu", "up"), f"{img}[{i}, wp.min({j} + 1, {h} - 1)]")
        if vec:
            g = k.let(("g", "grad"), f"wp.length({xr} - {c}) + wp.length({yu} - {c})")
        else:
            g = k.let(("g", "grad"), f"wp.sqrt(({xr} - {c}) ** 2.0 + ({yu} - {c}) ** 2.0)")
        post_float(k, g)
        k.emit(f"{out}[{i}, {j}] = {c} * {g}" if vec else f"{out}[{i}, {j}] = {g}")
    elif form == 1:
        lum = k.let(("lum", "l", "y_lum"), f"wp.dot({c}, wp.vec3(0.2126, 0.7152, 0.0722))" if vec else c)
        thr = k.scalar(N.EPS)
        k.emit(
            f"{out}[{i}, {j}] = wp.where({lum} > {thr}, {c}, wp.vec3(0.0))"
            if vec
            else f"{out}[{i}, {j}] = wp.where({lum} > {thr}, 1.0, 0.0)"
        )
    elif form == 2:
        exposure = k.scalar(("exposure", "gain", "ev"))
        mapped = k.let(("mapped", "tm"), f"{c} * {exposure}")
        if vec:
            k.emit(f"{mapped} = wp.cw_div({mapped}, {mapped} + wp.vec3(1.0))")
        else:
            k.emit(f"{mapped} = {mapped} / (1.0 + {mapped})")
            post_float(k, mapped, 1)
        k.emit(f"{out}[{i}, {j}] = {mapped}")
    else:
        other = k.array(("other", "overlay", "background"), "wp.vec3" if vec else "float", 2)
        alpha = k.scalar(("alpha", "opacity", "t"))
        k.emit(f"{out}[{i}, {j}] = wp.lerp({other}[{i}, {j}], {c}, {alpha})")


def advect_2d(k: Kernel) -> None:
    """Semi-Lagrangian advection: trace back along the velocity, bilinear sample."""
    q = k.array(N.GRID_F, "float", 2)
    vel = k.array(("vel", "u", "velocity"), "wp.vec2", 2)
    out = k.array(("q_new", "out", "advected"), "float", 2)
    dt = k.dt()
    i, j = _ij(k)
    nx = k.let(("nx", "w"), f"{q}.shape[0]")
    ny = k.let(("ny", "h"), f"{q}.shape[1]")
    p = k.let(("p", "pos"), f"wp.vec2(float({i}), float({j})) - {vel}[{i}, {j}] * {dt}")
    x0 = k.let(("x0", "i0"), f"wp.clamp(int(wp.floor({p}[0])), 0, {nx} - 2)")
    y0 = k.let(("y0", "j0"), f"wp.clamp(int(wp.floor({p}[1])), 0, {ny} - 2)")
    fx = k.let(("fx", "tx"), f"wp.clamp({p}[0] - float({x0}), 0.0, 1.0)")
    fy = k.let(("fy", "ty"), f"wp.clamp({p}[1] - float({y0}), 0.0, 1.0)")
    a = k.let(("a", "s0"), f"wp.lerp({q}[{x0}, {y0}], {q}[{x0} + 1, {y0}], {fx})")
    b = k.let(("b", "s1"), f"wp.lerp({q}[{x0}, {y0} + 1], {q}[{x0} + 1, {y0} + 1], {fx})")
    res = k.let(("res", "val"), f"wp.lerp({a}, {b}, {fy})")
    if k.chance(0.5):
        decay = k.scalar(("decay", "dissipation"))
        k.emit(f"{res} *= wp.exp(-{decay} * {dt})")
    post_float(k, res)
    k.emit(f"{out}[{i}, {j}] = {res}")


def matmul_naive(k: Kernel) -> None:
    """One output element per thread: a dot product over the shared dimension."""
    dtype = k.pick(("float", "float", "wp.float64"))
    A = k.array(("A", "a", "lhs"), dtype, 2)
    B = k.array(("B", "b", "rhs"), dtype, 2)
    C = k.array(("C", "c", "out"), dtype, 2)
    i, j = _ij(k)
    acc = k.let(N.ACC, f"{dtype}(0.0)")
    kk = k.fresh("k", "p", "m")
    with k.block(f"for {kk} in range({A}.shape[1]):"):
        k.emit(f"{acc} += {A}[{i}, {kk}] * {B}[{kk}, {j}]")
    if dtype == "float" and k.chance(0.5):
        bias = k.array(("bias", "b_vec"), "float")
        k.emit(f"{acc} = {slots.any_unary(k, f'{acc} + {bias}[{j}]')}")
    if dtype == "float":
        post_float(k, acc)
    k.emit(f"{C}[{i}, {j}] = {acc}")


def grid3d_update(k: Kernel) -> None:
    """A 3-d Eulerian grid pass: a 7-point Laplacian, a divergence, or a gradient, with boundaries."""
    f = k.array(N.GRID_F, "float", 3)
    i, j, m = k.thread(*k.pick((("i", "j", "k"), ("x", "y", "z"))))
    nx = k.let(("nx", "dim_x"), f"{f}.shape[0]")
    ny = k.let(("ny", "dim_y"), f"{f}.shape[1]")
    nz = k.let(("nz", "dim_z"), f"{f}.shape[2]")
    with k.block(f"if {i} < 1 or {j} < 1 or {m} < 1 or {i} >= {nx} - 1 or {j} >= {ny} - 1 or {m} >= {nz} - 1:"):
        k.emit("return")
    form = k.rng.randrange(3)
    if form == 0:
        c = k.let(("c", "center"), f"{f}[{i}, {j}, {m}]")
        lap = k.let(("lap", "acc"), f"{f}[{i} - 1, {j}, {m}] + {f}[{i} + 1, {j}, {m}]")
        k.emit(f"{lap} += {f}[{i}, {j} - 1, {m}] + {f}[{i}, {j} + 1, {m}]")
        k.emit(f"{lap} += {f}[{i}, {j}, {m} - 1] + {f}[{i}, {j}, {m} + 1]")
        res = k.let(("res", "u_new"), f"{c} + {k.scalar(('alpha', 'kappa', 'nu'))} * ({lap} - 6.0 * {c})")
        post_float(k, res)
        out = k.array(("out", "f_next", "phi_new"), "float", 3)
        k.emit(f"{out}[{i}, {j}, {m}] = {res}")
    elif form == 1:
        gx = k.let(("gx", "dfdx"), f"{f}[{i} + 1, {j}, {m}] - {f}[{i} - 1, {j}, {m}]")
        gy = k.let(("gy", "dfdy"), f"{f}[{i}, {j} + 1, {m}] - {f}[{i}, {j} - 1, {m}]")
        gz = k.let(("gz", "dfdz"), f"{f}[{i}, {j}, {m} + 1] - {f}[{i}, {j}, {m} - 1]")
        g = k.let(("grad", "g"), f"wp.vec3({gx}, {gy}, {gz})")
        k.emit(f"{g} = {g} * (0.5 * {k.scalar(('inv_dx', 'inv_h', 'scale'))})")
        post_vec(k, g)
        out = k.array(("grad_out", "normals", "g_field"), "wp.vec3", 3)
        k.emit(f"{out}[{i}, {j}, {m}] = {g}")
    else:
        u = k.array(("vel", "u", "velocity"), "wp.vec3", 3)
        div = k.let(("div", "d"), f"{u}[{i} + 1, {j}, {m}][0] - {u}[{i} - 1, {j}, {m}][0]")
        k.emit(f"{div} += {u}[{i}, {j} + 1, {m}][1] - {u}[{i}, {j} - 1, {m}][1]")
        k.emit(f"{div} += {u}[{i}, {j}, {m} + 1][2] - {u}[{i}, {j}, {m} - 1][2]")
        post_float(k, div, 1)
        k.emit(f"{f}[{i}, {j}, {m}] = 0.5 * {div}")


def grid_scatter(k: Kernel) -> None:
    """Particle-to-grid transfers with multi-index atomics: mass/momentum splats, z-buffers, occupancy bits."""
    ndim = k.pick((2, 3, 3, 4))
    x = k.array(N.POS, "wp.vec3")
    inv_dx = k.scalar(("inv_dx", "inv_cell", "grid_scale"))
    (p,) = k.thread(k.pick(("p", "tid", "i")))
    cell = k.let(("cell", "c", "g"), f"{x}[{p}] * {inv_dx}")
    idx = [k.let((f"i{a}", a, f"c{a}"), f"int(wp.floor({cell}[{n}]))") for n, a in enumerate("xyz"[: min(ndim, 3)])]
    if ndim == 4:
        env = k.array(("env_id", "world", "batch_of"), "int")
        idx = [k.let(("e", "env", "w_id"), f"{env}[{p}]"), *idx]
    where = ", ".join(idx)
    ops = k.rng.sample(("add", "add", "sub", "min", "max", "or", "and", "xor", "cas", "exch"), k.rng.randint(1, 3))
    for op in dict.fromkeys(ops):
        if op in ("add", "sub"):
            m = k.array(("grid_m", "mass_grid", "density"), "float", ndim)
            fr = k.let(("fr", "frac_pos"), f"wp.vec3(wp.frac({cell}[0]), wp.frac({cell}[1]), wp.frac({cell}[2]))")
            w = k.let(("w", "weight"), f"wp.max(1.0 - wp.length({fr} - wp.vec3(0.5)), 0.0)")
            k.emit(f"wp.atomic_{op}({m}, {where}, {w})")
        elif op in ("min", "max"):
            z = k.array(("depth", "zbuf", "height"), "float", ndim)
            k.emit(f"wp.atomic_{op}({z}, {where}, {x}[{p}][2])")
        elif op in ("or", "and", "xor"):
            bits = k.array(("occupancy", "cell_flags", "parity"), "int", ndim)
            bit = f"1 << ({p} % 16)" if op != "and" else f"~(1 << ({p} % 16))"
            k.emit(f"wp.atomic_{op}({bits}, {where}, {bit})")
        elif op == "cas":
            lock = k.array(("lock", "claimed", "taken"), "int", ndim)
            prev = k.let(("prev", "old"), f"wp.atomic_cas({lock}, {where}, 0, 1)")
            with k.block(f"if {prev} == 0:"):
                first = k.array(("first", "owner_p", "rep"), "int")
                k.emit(f"{first}[{p}] = 1")
        else:
            owner = k.array(("owner", "last_p", "winner"), "int", ndim)
            k.emit(f"wp.atomic_exch({owner}, {where}, {p})")


def batched_images(k: Kernel) -> None:
    """A 4-d launch over (batch, channel, row, column): normalisation or a per-channel affine map."""
    img = k.array(("images", "x", "batch"), "float", 4)
    out = k.array(("out", "y", "normalized"), "float", 4)
    b, c, i, j = k.thread("b", "c", "i", "j")
    v = k.let(("v", "px"), f"{img}[{b}, {c}, {i}, {j}]")
    if k.chance(0.5):
        mean = k.array(("mean", "mu"), "float")
        std = k.array(("std", "sigma"), "float")
        k.emit(f"{v} = ({v} - {mean}[{c}]) / ({std}[{c}] + {k.eps()})")
    else:
        scale = k.array(("gamma", "scale"), "float")
        shift = k.array(("beta", "shift"), "float")
        k.emit(f"{v} = {v} * {scale}[{c}] + {shift}[{c}]")
    post_float(k, v)
    k.emit(f"{out}[{b}, {c}, {i}, {j}] = {v}")
