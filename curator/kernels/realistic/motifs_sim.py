"""Simulation motifs: particle integrators, springs, collisions, reductions, rigid bodies."""

from __future__ import annotations

from . import names as N
from . import slots
from .extras import post_float, post_vec
from .kernel import Kernel


def integrate_particles(k: Kernel) -> None:
    x = k.array(N.POS, "wp.vec3")
    v = k.array(N.VEL, "wp.vec3")
    has_f = k.chance(0.6)
    f = k.array(N.FORCE, "wp.vec3") if has_f else None
    w = k.array(N.INV_MASS, "float") if has_f or k.chance(0.5) else None
    g = k.param(N.GRAVITY, "wp.vec3")
    dt = k.dt()
    (tid,) = k.thread(k.pick(("tid", "i", "p")))
    inv: str | None
    if w is not None and k.chance(0.6):
        inv = k.let(("inv_m", "w0", "im"), f"{w}[{tid}]")
        with k.block(f"if {inv} == 0.0:"):
            k.emit("return")
    else:
        inv = f"{w}[{tid}]" if w is not None else None
    x0 = k.let(("x0", "p0", "pos"), f"{x}[{tid}]")
    v0 = k.let(("v0", "vel", "u0"), f"{v}[{tid}]")
    if f is not None:
        acc = f"{f}[{tid}] * {inv} + {g}" if k.chance(0.7) else f"{g} + {f}[{tid}] * {inv}"
        k.emit(f"{v0} = {v0} + ({acc}) * {dt}")
    elif inv is not None:
        k.emit(f"{v0} += {g} * {inv} * {dt}")
    else:
        k.emit(f"{v0} += {g} * {dt}")
    post_vec(k, v0, dt)
    if k.chance(0.5):
        x1 = k.let(("x1", "p1", "x_new"), f"{x0} + {v0} * {dt}")
        if k.chance(0.4):
            ground = k.scalar(("ground", "floor_y", "ground_level"))
            with k.block(f"if {x1}[1] < {ground}:"):
                k.emit(f"{x1} = wp.vec3({x1}[0], {ground}, {x1}[2])")
                k.emit(f"{v0} = wp.vec3({v0}[0], 0.0, {v0}[2])")
        k.emit(f"{x}[{tid}] = {x1}")
    else:
        k.emit(f"{x}[{tid}] = {x0} + {v0} * {dt}")
    k.emit(f"{v}[{tid}] = {v0}")


def spring_forces(k: Kernel) -> None:
    x = k.array(N.POS, "wp.vec3")
    v = k.array(N.VEL, "wp.vec3") if k.chance(0.6) else None
    idx = k.array(N.IDX, "int", 1)
    rest = k.array(("rest", "rest_length", "spring_rest", "l0"), "float")
    ke = k.scalar(N.STIFF)
    kd = k.scalar(N.DAMPING) if v is not None else None
    f = k.array(N.FORCE, "wp.vec3")
    (tid,) = k.thread(k.pick(("tid", "s", "e")))
    a = k.let(("a", "i", "p"), f"{idx}[{tid} * 2 + 0]")
    b = k.let(("b", "j", "q"), f"{idx}[{tid} * 2 + 1]")
    if k.chance(0.3):
        with k.block(f"if {a} < 0 or {b} < 0:"):
            k.emit("return")
    d = k.let(N.DELTA, f"{x}[{a}] - {x}[{b}]")
    length = k.let(N.DIST, f"wp.length({d})")
    if k.chance(0.5):
        with k.block(f"if {length} < {k.eps()}:"):
            k.emit("return")
    direction = k.let(N.DIR, f"{d} / {length}")
    c = k.let(("c", "stretch", "err"), f"{length} - {rest}[{tid}]")
    post_float(k, c, 1)
    fs = k.let(("fs", "fmag", "force_mag"), f"{ke} * {c}")
    if v is not None:
        dv = k.let(("dv", "vrel", "rel_vel"), f"{v}[{a}] - {v}[{b}]")
        k.emit(f"{fs} += {kd} * wp.dot({direction}, {dv})")
    force = k.let(("force", "fe", "fij"), f"{direction} * {fs}")
    op = k.pick(("atomic_sub", "atomic_add"))
    other = "atomic_add" if op == "atomic_sub" else "atomic_sub"
    k.emit(f"wp.{op}({f}, {a}, {force})")
    k.emit(f"wp.{other}({f}, {b}, {force})")


def reduce_atomic(k: Kernel) -> None:
    """Reductions into a few output cells: sums, extrema, counts, flags."""
    dtype = k.pick(("float", "float", "int", "wp.float64"))
    src = k.array(N.IN_F, dtype, kinds=True)
    (tid,) = k.thread(k.pick(("tid", "i")))
    val = k.let(("val", "x", "value", "s"), f"{src}[{tid}]")
    if dtype == "float":
        post_float(k, val, 1)
    kinds = k.rng.sample(("sum", "min", "max", "count"), k.rng.randint(1, 2))
    kinds += k.rng.sample(("flag", "exch", "cas"), k.rng.randint(0, 2))
    k.rng.shuffle(kinds)
    for kind in kinds:
        if kind in ("sum", "min", "max"):
            # Warp 1.19's adjoint of atomic_min/max does not compile for indexed/fabric arrays
            # (adj_atomic_minmax reads adj_buf.data): those targets are plain arrays
            out = k.array(
                N.ENERGY if kind == "sum" else ("extrema", "bounds", "out_" + kind), dtype, kinds=kind == "sum"
            )
            op = {"sum": k.pick(("atomic_add", "atomic_sub")), "min": "atomic_min", "max": "atomic_max"}[kind]
            k.emit(f"wp.{op}({out}, 0, {val})")
        elif kind == "count":
            counter = k.array(N.COUNT, "int")
            thr = k.scalar(N.EPS, {"float": "float", "int": "int", "wp.float64": "wp.float64"}[dtype])
            with k.block(f"if {val} > {thr}:"):
                slot = k.let(("slot", "dst_idx", "write_idx"), f"wp.atomic_add({counter}, 0, 1)")
                compact = k.array(("compacted", "selected", "active_ids"), "int")
                k.emit(f"{compact}[{slot}] = {tid}")
        elif kind == "flag":
            # a bit per thread whose value passed a threshold: the flags summarise the values read
            unsigned = k.chance(0.5)
            flags = k.array(("flags", "mask", "bits"), "wp.uint32" if unsigned else "int", kinds=True)
            op = k.pick(("atomic_or", "atomic_and", "atomic_xor"))
            bit = f"wp.uint32(1) << wp.uint32({tid} % 32)" if unsigned else f"1 << ({tid} % 31)"
            with k.block(f"if {val} {k.pick(('>', '!=', '<'))} {_zero(dtype)}:"):
                k.emit(f"wp.{op}({flags}, {tid} // 32, {bit})")
        elif kind == "exch":
            last = k.array(("last_value", "latest", "winner"), dtype, kinds=True)
            k.emit(f"wp.atomic_exch({last}, 0, {val})")
        else:
            # the first thread to claim a bucket of its value records itself
            lock = k.array(("lock", "mutex", "claimed"), "int", kinds=True)
            buckets = k.pick(("16", "32", "64"))
            bucket = k.let(("bucket", "b", "cell"), f"wp.abs(int({val})) % {buckets}")
            prev = k.let(("prev", "old", "was"), f"wp.atomic_cas({lock}, {bucket}, 0, 1)")
            with k.block(f"if {prev} == 0:"):
                first = k.array(("first", "leader", "first_hit"), "int")
                k.emit(f"{first}[{bucket}] = {tid}")


def _zero(dtype: str) -> str:
    return {"int": "0", "wp.float64": "wp.float64(0.0)"}.get(dtype, "0.0")


def boundary_collision(k: Kernel) -> None:
    """Particles against a box, a set of planes or a sphere: early returns and branch chains."""
    x = k.array(N.POS, "wp.vec3")
    v = k.array(N.VEL, "wp.vec3")
    rest = k.scalar(("restitution", "bounce", "cor"))
    active = k.array(("active", "alive", "enabled"), "int") if k.chance(0.4) else None
    (tid,) = k.thread(k.pick(("tid", "i", "p")))
    if active is not None:
        with k.block(f"if {active}[{tid}] == 0:"):
            k.emit("return")
    p = k.let(("p", "xp", "pos"), f"{x}[{tid}]")
    u = k.let(("u", "vp", "vel"), f"{v}[{tid}]")
    if k.chance(0.3):  # predict the position first, as position-based solvers do
        k.emit(f"{p} = {p} + {u} * {k.dt()}")
    k.pick((_box_walls, _box_walls, _plane_contacts, _sphere_obstacle))(k, p, u, rest)
    post_vec(k, u, None, 1)
    k.emit(f"{x}[{tid}] = {p}")
    k.emit(f"{v}[{tid}] = {u}")


def _box_walls(k: Kernel, p: str, u: str, rest: str) -> None:
    lo = k.param(("box_lo", "lower", "bounds_min"), "wp.vec3")
    axes = k.rng.sample((0, 1, 2), k.rng.randint(1, 3))
    hi = ""
    for ax in axes:
        with k.block(f"if {p}[{ax}] < {lo}[{ax}]:"):
            k.emit(f"{p}[{ax}] = {lo}[{ax}]")
            k.emit(f"{u}[{ax}] = -{u}[{ax}] * {rest}")
        if k.chance(0.7):
            hi = hi or k.param(("box_hi", "upper", "bounds_max"), "wp.vec3")
            with k.block(f"elif {p}[{ax}] > {hi}[{ax}]:"):
                k.emit(f"{p}[{ax}] = {hi}[{ax}]")
                k.emit(f"{u}[{ax}] = -{u}[{ax}] * {rest}")


def _reflect(k: Kernel, u: str, n: str, rest: str) -> None:
    """The normal part of ``u`` against ``n`` reflected with restitution, the tangent part damped."""
    vn = k.let(("vn", "v_n", "approach"), f"wp.dot({u}, {n})")
    with k.block(f"if {vn} < 0.0:"):
        if k.chance(0.5):
            mu = k.scalar(("friction", "mu", "tangent_damping"))
            vt = k.let(("vt", "v_t", "slide"), f"{u} - {vn} * {n}")
            k.emit(f"{u} = {vt} * (1.0 - {mu}) - {rest} * {vn} * {n}")
        else:
            k.emit(f"{u} = {u} - (1.0 + {rest}) * {vn} * {n}")


def _plane_contacts(k: Kernel, p: str, u: str, rest: str) -> None:
    """Half-spaces stored as (normal, offset) in a vec4 array, each pushed out of in turn."""
    planes = k.array(("planes", "walls", "half_spaces"), "wp.vec4")
    radius = k.scalar(N.RADIUS)
    j = k.fresh("j", "s", "w")
    with k.block(f"for {j} in range({planes}.shape[0]):"):
        pl = k.let(("pl", "plane", "h"), f"{planes}[{j}]")
        n = k.let(("n", "nrm", "normal"), f"wp.vec3({pl}[0], {pl}[1], {pl}[2])")
        d = k.let(("d", "depth", "sd"), f"wp.dot({n}, {p}) + {pl}[3] - {radius}")
        with k.block(f"if {d} < 0.0:"):
            k.emit(f"{p} = {p} - {d} * {n}")
            _reflect(k, u, n, rest)


def _sphere_obstacle(k: Kernel, p: str, u: str, rest: str) -> None:
    """A sphere the particles may not enter: projected to its surface, velocity reflected."""
    c = k.param(("center", "sphere_c", "obstacle"), "wp.vec3")
    big_r = k.scalar(("sphere_radius", "obstacle_r", "R"))
    dlt = k.let(("dlt", "rel", "offset"), f"{p} - {c}")
    dist = k.let(N.DIST, f"wp.length({dlt})")
    with k.block(f"if {dist} < {big_r}:"):
        n = k.let(("n", "nrm", "normal"), f"{dlt} / wp.max({dist}, {k.eps()})")
        k.emit(f"{p} = {c} + {n} * {big_r}")
        _reflect(k, u, n, rest)


def rigid_body_update(k: Kernel) -> None:
    """Semi-implicit Euler on body poses: quaternion integration and normalisation."""
    use_tf = k.chance(0.5)
    q_arr = k.array(N.BODY_Q if use_tf else N.ROT, "wp.transform" if use_tf else "wp.quat")
    w_arr = k.array(N.OMEGA, "wp.vec3")
    dt = k.dt()
    (tid,) = k.thread(k.pick(("tid", "b", "body")))
    if use_tf:
        tf = k.let(("tf", "X", "pose"), f"{q_arr}[{tid}]")
        p = k.let(("p", "com", "x0"), f"wp.transform_get_translation({tf})")
        r = k.let(("r", "q", "rot"), f"wp.transform_get_rotation({tf})")
    else:
        r = k.let(("r", "q", "rot"), f"{q_arr}[{tid}]")
    w = k.let(N.OMEGA[:3], f"{w_arr}[{tid}]")
    form = k.rng.randrange(3)
    if form == 0:
        if k.chance(0.5):
            k.emit(f"{r} = {r} + (0.5 * {dt}) * (wp.quat({w}, 0.0) * {r})")
        else:
            k.emit(f"{r} = {r} + wp.quat({w}, 0.0) * {r} * 0.5 * {dt}")
    elif form == 1:
        angle = k.let(("angle", "theta", "wlen"), f"wp.length({w}) * {dt}")
        with k.block(f"if {angle} > {k.eps()}:"):
            k.emit(f"{r} = wp.quat_from_axis_angle(wp.normalize({w}), {angle}) * {r}")
    else:
        wl = k.let(("w_local", "omega_b", "wb"), f"wp.quat_rotate_inv({r}, {w})")
        k.emit(f"{r} = {r} * wp.quat({wl} * (0.5 * {dt}), 1.0)")
    if k.chance(0.3):
        k.emit(f"{r} = {r} / wp.length({r})")
    else:
        k.emit(f"{r} = wp.normalize({r})")
    if k.chance(0.3):
        test = k.pick((f"not wp.isfinite({r})", f"wp.isnan({r})", f"wp.isinf({r})"))
        with k.block(f"if {test}:"):
            k.emit(f"{r} = wp.quat_identity(dtype=float)")
    if use_tf:
        v_arr = k.array(N.VEL, "wp.vec3")
        k.emit(f"{p} = {p} + {v_arr}[{tid}] * {dt}")
        k.emit(f"{q_arr}[{tid}] = wp.transform({p}, {r})")
    else:
        k.emit(f"{q_arr}[{tid}] = {r}")
    if k.chance(0.5):
        axes = k.array(("axis_out", "up_dir", "heading"), "wp.vec3")
        axis = k.pick(("wp.vec3(0.0, 1.0, 0.0)", "wp.vec3(1.0, 0.0, 0.0)", "wp.vec3(0.0, 0.0, 1.0)"))
        k.emit(f"{axes}[{tid}] = wp.quat_rotate({r}, {axis})")


def sph_density(k: Kernel) -> None:
    """All-pairs neighbour sum with a smoothing kernel (brute force, small n)."""
    x = k.array(N.POS, "wp.vec3")
    h = k.scalar(N.RADIUS)
    mass = k.scalar(N.MASS)
    rho = k.array(("rho", "density", "densities"), "float")
    n = k.scalar(("n", "num_particles", "count"), "int")
    (tid,) = k.thread(k.pick(("tid", "i")))
    xi = k.let(("xi", "p", "x_i"), f"{x}[{tid}]")
    acc = k.let(N.ACC, "float(0.0)")
    j = k.fresh("j", "k", "nbr")
    with k.block(f"for {j} in range({n}):"):
        r = k.let(N.DIST, f"wp.length({xi} - {x}[{j}])")
        if k.chance(0.5):
            with k.block(f"if {r} < {h}:"):
                k.emit(f"{acc} += {mass} * {slots.falloff(k, r, h)}")
        else:
            k.emit(f"{acc} += {mass} * {slots.falloff(k, r, h)}")
    post_float(k, acc, 1)
    k.emit(f"{rho}[{tid}] = {acc}")
