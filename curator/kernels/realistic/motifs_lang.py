"""Language-feature motifs: structs, helpers with several results, generics, overloads, factories."""

from __future__ import annotations

from . import helpers as H
from . import names as N
from . import slots
from .extras import post_float, post_vec
from .kernel import Kernel
from .writer import IND


def struct_model(k: Kernel) -> None:
    """A model struct with a nested material struct and arrays inside, read by an integrator."""
    mat = k.mod.name("Material", "ContactParams", "SoftBody")
    k.mod.block(["@wp.struct", f"class {mat}:", f"{IND}ke: float", f"{IND}kd: float", f"{IND}mu: float"])
    model = k.mod.name("Model", "State", "SimState")
    fields = [f"{IND}{n}: {t}" for n, t in (("x", "wp.array(dtype=wp.vec3)"), ("v", "wp.array(dtype=wp.vec3)"))]
    fields += [f"{IND}gravity: wp.vec3", f"{IND}material: {mat}"]
    if k.chance(0.5):
        fields.append(f"{IND}inv_mass: wp.array(dtype=float)")
    k.mod.block(["@wp.struct", f"class {model}:", *fields])
    m = k.param(("model", "state", "s"), model)
    dt = k.dt()
    (i,) = k.thread(k.pick(("i", "tid")))
    x = k.let(("x", "p"), f"{m}.x[{i}]")
    v = k.let(("v", "u"), f"{m}.v[{i}]")
    if "inv_mass" in fields[-1]:
        with k.block(f"if {m}.inv_mass[{i}] == 0.0:"):
            k.emit("return")
    k.emit(f"{v} += {m}.gravity * {dt}")
    ground = k.scalar(("ground", "floor_y"))
    if k.chance(0.4):
        drag = k.scalar(N.DAMPING)
        k.emit(f"{v} -= {v} * ({drag} * {dt})")
    c = k.let(("c", "pen", "depth"), f"{x}[1] - {ground}")
    with k.block(f"if {c} < 0.0:"):
        vn = k.let(("vn", "v_n"), f"{v}[1]")
        fn = k.let(("fn", "f_n"), f"-{m}.material.ke * {c} - {m}.material.kd * wp.min({vn}, 0.0)")
        ft = k.let(("ft", "f_t"), f"wp.vec3({v}[0], 0.0, {v}[2]) * (-{m}.material.mu * {fn})")
        k.emit(f"{v} += (wp.vec3(0.0, {fn}, 0.0) + {ft}) * {dt}")
    post_vec(k, v, dt, 1)
    k.emit(f"{m}.x[{i}] = {x} + {v} * {dt}")
    k.emit(f"{m}.v[{i}] = {v}")


def struct_records(k: Kernel) -> None:
    """Local struct values built field by field and stored in an array of structs."""
    rec = k.mod.name("Contact", "Hit", "Sample", "Record")
    fields = [("point", "wp.vec3"), ("normal", "wp.vec3"), ("depth", "float"), ("body", "int")]
    k.mod.block(["@wp.struct", f"class {rec}:", *(f"{IND}{n}: {t}" for n, t in fields)])
    x = k.array(N.POS, "wp.vec3")
    out = k.array(("contacts", "hits", "records"), rec)
    (i,) = k.thread(k.pick(("i", "tid")))
    p = k.let(("p", "x0"), f"{x}[{i}]")
    d = k.let(("d", "phi"), H.sdf_call(k, k.pick(H.SDF_PRIMS), p))
    post_float(k, d)
    c = k.let(("c", "rec", "hit"), f"{rec}()")
    k.emit(f"{c}.point = {p}")
    k.emit(f"{c}.normal = wp.normalize({p})")
    k.emit(f"{c}.depth = wp.min({d}, 0.0)")
    k.emit(f"{c}.body = wp.where({d} < 0.0, {i}, -1)")
    if k.chance(0.4):
        with k.block(f"if {c}.depth < 0.0:"):
            k.emit(f"{c}.normal = -{c}.normal")
    k.emit(f"{out}[{i}] = {c}")
    if k.chance(0.5):
        total = k.array(N.ENERGY, "float")
        k.emit(f"wp.atomic_add({total}, 0, {out}[{i}].depth)")


def helper_calls(k: Kernel) -> None:
    """A kernel built around helper functions, some returning several values."""
    kind = k.pick(("segment", "frame", "sdf", "speed"))
    x = k.array(N.VEL if kind == "speed" else N.POS, "wp.vec3")
    out = k.array(("out", "result"), "wp.vec3")
    (i,) = k.thread(k.pick(("i", "tid")))
    p = k.let(("p", "x0", "q") if kind != "speed" else ("v", "u", "vel"), f"{x}[{i}]")
    if kind == "segment":
        a, b = k.param(("a", "seg_a", "start"), "wp.vec3"), k.param(("b", "seg_b", "end"), "wp.vec3")
        cp, t = k.fresh("cp", "closest"), k.fresh("t", "s")
        k.emit(f"{cp}, {t} = {H.define(k, 'closest_point_segment')}({p}, {a}, {b})")
        if k.chance(0.5):
            params = k.array(("t_out", "seg_param", "u"), "float")
            k.emit(f"{params}[{i}] = {t}")
            d = k.let(N.DELTA, f"{p} - {cp}")
            post_vec(k, d, None, 2)
            k.emit(f"{out}[{i}] = {d}")
        else:
            k.emit(f"{out}[{i}] = {cp} + ({p} - {cp}) * {slots.falloff(k, t, k.scalar(N.RADIUS))}")
    elif kind == "frame":
        if k.chance(0.5):
            normals = k.array(("normals", "n_in", "surface_n"), "wp.vec3")
            n = k.let(("n", "normal"), f"wp.normalize({normals}[{i}])")
        else:
            n = k.let(("n", "normal"), f"wp.normalize({p})")
        t, b = k.fresh("t", "tangent"), k.fresh("b", "bitangent")
        k.emit(f"{t}, {b} = {H.define(k, 'contact_frame')}({n})")
        if k.chance(0.5):
            local = k.let(("local", "p_local"), f"wp.vec3(wp.dot({p}, {t}), wp.dot({p}, {b}), wp.dot({p}, {n}))")
            post_vec(k, local, None, 2)
            k.emit(f"{out}[{i}] = {local}")
        else:
            k.emit(f"{out}[{i}] = {t} * {p}[0] + {b} * {p}[2] + {n} * {p}[1]")
    elif kind == "speed":
        n = k.param(("n", "normal", "up"), "wp.vec3")
        vn, vt = k.fresh("vn", "v_n"), k.fresh("vt", "v_t")
        k.emit(f"{vn}, {vt} = {H.define(k, 'split_speed')}({p}, {n})")
        mu = k.scalar(("mu", "friction"))
        scale = k.let(("scale", "fric"), f"wp.max(1.0 - {mu} * wp.abs({vn}) / (wp.length({vt}) + {k.eps()}), 0.0)")
        post_float(k, scale, 1)
        if k.chance(0.5):
            rest = k.scalar(("restitution", "bounce"))
            k.emit(f"{out}[{i}] = {vt} * {scale} - {n} * ({vn} * {rest})")
        else:
            k.emit(f"{out}[{i}] = {vt} * {scale}")
    else:
        prims = k.rng.sample(H.SDF_PRIMS, k.rng.randint(2, 3))
        d = k.let(("d", "phi", "dist"), H.sdf_call(k, prims[0], p))
        for prim in prims[1:]:
            other = H.sdf_call(k, prim, p)
            if k.chance(0.5):
                k.emit(f"{d} = {H.define(k, 'smooth_min')}({d}, {other}, {k.num(0.05, 0.5)})")
            else:
                k.emit(f"{d} = wp.{k.pick(('min', 'max'))}({d}, {other})")
        post_float(k, d, 1)
        k.emit(f"{out}[{i}] = {p} - wp.normalize({p}) * {d}")


def struct_helper(k: Kernel) -> None:
    """A @wp.func that takes and returns a struct (an immutable-style particle step)."""
    st = k.mod.name("Particle", "Body", "PointState", "Agent")
    fields = [("x", "wp.vec3"), ("v", "wp.vec3"), ("m", "float")]
    extra = k.rng.sample((("age", "float"), ("flags", "int"), ("omega", "wp.vec3")), k.rng.randint(0, 2))
    fields += extra
    k.mod.block(["@wp.struct", f"class {st}:", *(f"{IND}{n}: {t}" for n, t in fields)])
    fn = k.mod.name("advance", "step_particle", "integrate_state")
    # semi-implicit Euler, explicit Euler, or semi-implicit with linear drag
    scheme = k.rng.randrange(3)
    vel = "(p.v + g * dt) * (1.0 - drag * dt)" if scheme == 2 else "p.v + g * dt"
    body = [f"q = {st}()", f"q.v = {vel}", f"q.x = p.x + {'p' if scheme == 1 else 'q'}.v * dt", "q.m = p.m"]
    for n, _ in extra:
        body.append(
            {"age": "q.age = p.age + dt", "flags": "q.flags = p.flags | 1", "omega": "q.omega = p.omega * 0.99"}[n]
        )
    if k.chance(0.4):  # a ground plane at y = 0
        body += [
            "if q.x[1] < 0.0:",
            f"{IND}q.x = wp.vec3(q.x[0], 0.0, q.x[2])",
            f"{IND}q.v = wp.vec3(q.v[0], 0.0, q.v[2])",
        ]
    sig = f"p: {st}, g: wp.vec3, dt: float" + (", drag: float" if scheme == 2 else "")
    k.mod.block(["@wp.func", f"def {fn}({sig}) -> {st}:", *(IND + b for b in body), IND + "return q"])
    arr = k.array(("particles", "bodies", "agents", "states"), st)
    g = k.param(N.GRAVITY, "wp.vec3")
    dt = k.dt()
    drag = f", {k.param(N.DAMPING, 'float')}" if scheme == 2 else ""
    (i,) = k.thread(k.pick(("i", "tid")))
    if k.chance(0.5):
        p = k.let(("p", "cur"), f"{arr}[{i}]")
        with k.block(f"if {p}.m <= 0.0:"):
            k.emit("return")
        nxt = k.let(("nxt", "q", "p_new"), f"{fn}({p}, {g}, {dt}{drag})")
        post_vec(k, f"{nxt}.v", dt, 1)
        k.emit(f"{arr}[{i}] = {nxt}")
    else:
        k.emit(f"{arr}[{i}] = {fn}({arr}[{i}], {g}, {dt}{drag})")
