"""Generic code and code generation at module level: Any helpers, overloads, factories, custom adjoints."""

from __future__ import annotations

from . import names as N
from . import slots
from .extras import post_float, post_vec
from .kernel import Kernel
from .writer import IND

_CONCRETE = (
    ("float", "float"), ("wp.float64", "wp.float64"), ("wp.vec3", "float"), ("wp.vec2", "float"),
    ("wp.vec3d", "wp.float64"), ("wp.vec4", "float"), ("wp.float16", "wp.float16"), ("wp.mat22", "float"),
)  # fmt: skip


def _generic_helper(k: Kernel) -> tuple[str, str]:
    """A generic @wp.func over typing.Any; returns (name, call template with {a} {b} {t})."""
    k.mod.need_any()
    form = k.rng.randrange(4)
    name = k.mod.name(("blend", "mix_values", "interpolate", "relax", "accumulate", "axpy_any")[form % 6])
    if form == 0:
        body = ["return a + (b - a) * t"]
    elif form == 1:
        body = ["d = b - a", "return a + d * t"]
    elif form == 2:
        body = ["return a * (type(t)(1.0) - t) + b * t"]
    else:
        body = ["return wp.lerp(a, b, t)"]
    k.mod.block(["@wp.func", f"def {name}(a: Any, b: Any, t: Any):", *(IND + line for line in body)])
    return name, f"{name}({{a}}, {{b}}, {{t}})"


def generic_overload(k: Kernel) -> None:
    """A kernel over ``Any`` dtypes with one concrete ``wp.overload`` reachable at module level."""
    k.mod.need_any()
    generic = k.mod.name("blend_kernel", "lerp_arrays", "relax_generic", "mix_kernel")
    dtype, scalar = k.pick(_CONCRETE)
    _, call = _generic_helper(k)
    k.overload_of = generic
    k.generic = True
    k.decorator = "@wp.kernel"
    names = [k.pick(("a", "x", "src")), k.pick(("b", "y", "target")), k.pick(("out", "dst", "res")), "t"]
    k.params = [(names[0], "wp.array(dtype=Any)"), (names[1], "wp.array(dtype=Any)"),
                (names[2], "wp.array(dtype=Any)"), (names[3], "Any")]  # fmt: skip
    for n in names:
        k.body.locals.add(n)
    (i,) = k.thread(k.pick(("i", "tid")))
    va = k.let(("va", "lhs"), f"{names[0]}[{i}]")
    form = k.rng.randrange(4)
    value = call.format(a=va, b=f"{names[1]}[{i}]", t=names[3])
    if form == 0:
        k.emit(f"{names[2]}[{i}] = {value}")
    elif form == 1:
        k.emit(f"{names[2]}[{i}] += {value}")
    elif form == 2:
        vb = k.let(("vb", "rhs"), f"{names[1]}[{i}]")
        r = k.let(("r", "res"), call.format(a=va, b=vb, t=names[3]))
        k.emit(f"{names[1]}[{i}] = {va}")
        k.emit(f"{names[2]}[{i}] = {r}")
    else:
        r = k.let(("r", "res"), value)
        k.emit(f"{names[2]}[{i}] = {call.format(a=r, b=va, t=names[3])}")
    concrete = [f"wp.array(dtype={dtype})"] * 3 + [scalar]
    for other, other_scalar in k.rng.sample(_CONCRETE, k.rng.randint(0, 2)):
        if other != dtype:
            types = ", ".join([f"wp.array(dtype={other})"] * 3 + [other_scalar])
            k.mod.tail.append(f"wp.overload({generic}, [{types}])")
    k.concrete = list(zip(names, concrete, strict=True))


def user_types(k: Kernel) -> None:
    """User-defined vector and matrix types (wp.types.vector / wp.types.matrix) in a kernel."""
    n = k.rng.randint(5, 8)
    vec = k.mod.name(f"vec{n}", "state_vec", "features")
    k.mod.consts.append(f"{vec} = wp.types.vector(length={n}, dtype=float)")
    rows = k.rng.randint(2, 4)
    mat = k.mod.name(f"mat{rows}{n}", "weights_t", "jacobian_t")
    k.mod.consts.append(f"{mat} = wp.types.matrix(shape=({rows}, {n}), dtype=float)")
    xs = k.array(("features", "states", "inputs"), vec)
    W = k.param(("W", "weights", "J"), mat)
    out = k.array(("out", "proj", "y"), f"wp.vec{rows}")
    (i,) = k.thread(k.pick(("i", "tid")))
    x = k.let(("x", "f"), f"{xs}[{i}]")
    if k.chance(0.5):
        k.emit(f"{x} = {x} / (wp.length({x}) + {k.eps()})")
    y = k.let(("y", "z"), f"{W} * {x}")
    if k.chance(0.5):
        j = k.fresh("j", "r")
        with k.block(f"for {j} in range(wp.static(len({y}))):" if k.chance(0.5) else f"for {j} in range({rows}):"):
            k.emit(f"{y}[{j}] = {slots.any_unary(k, f'{y}[{j}]')}")
    k.emit(f"{out}[{i}] = {y}")


def kernel_factory(k: Kernel) -> None:
    """A closure that builds a kernel specialised on Python values (wp.static branches and loops)."""
    if k.chance(0.4):
        _map_factory(k)
        return
    fname = k.mod.name("make_integrator", "create_kernel", "make_update", "build_step")
    flags = {"clamp_output": k.chance(0.5), "use_damping": k.chance(0.5), "verlet": k.chance(0.4)}
    used = [f for f in flags if k.chance(0.7)]
    sig = ", ".join(["substeps: int", *(f"{f}: bool" for f in used)])
    call = ", ".join([str(k.rng.randint(1, 4)), *(str(flags[f]) for f in used)])
    k.factory = (f"def {fname}({sig}):", f"{fname}({call})")
    k.factory_inner = k.pick(("update", "step_kernel", "integrate", "kernel"))
    x = k.array(N.POS, "wp.vec3")
    v = k.array(N.VEL, "wp.vec3")
    g = k.param(N.GRAVITY, "wp.vec3")
    dt = k.dt()
    (i,) = k.thread(k.pick(("i", "tid")))
    h = k.let(("h", "sub_dt"), f"{dt} / float(substeps)")
    p = k.let(("p", "xi"), f"{x}[{i}]")
    u = k.let(("u", "vi"), f"{v}[{i}]")
    s = k.fresh("s", "step")
    with k.block(f"for {s} in range(wp.static(substeps)):"):
        if "verlet" in used:
            with k.block("if wp.static(verlet):"):
                k.emit(f"{p} += ({u} + {g} * (0.5 * {h})) * {h}")
                k.emit(f"{u} += {g} * {h}")
            with k.block("else:"):
                k.emit(f"{u} += {g} * {h}")
                k.emit(f"{p} += {u} * {h}")
        else:
            k.emit(f"{u} += {g} * {h}")
            k.emit(f"{p} += {u} * {h}")
        if "use_damping" in used:
            with k.block("if wp.static(use_damping):"):
                k.emit(f"{u} *= wp.exp(-{k.scalar(N.DAMPING)} * {h})")
    if "clamp_output" in used:
        with k.block("if wp.static(clamp_output):"):
            lim = k.scalar(("limit", "bound"))
            k.emit(f"{p} = wp.min(wp.max({p}, wp.vec3(-{lim})), wp.vec3({lim}))")
    post_vec(k, u, dt, 1)
    k.emit(f"{x}[{i}] = {p}")
    k.emit(f"{v}[{i}] = {u}")


def _map_factory(k: Kernel) -> None:
    """A factory taking a @wp.func and returning an element-wise kernel that applies it."""
    fn = k.mod.name("sigmoid", "square_fn", "softsign", "bump", "ramp")
    body = k.pick(("return 1.0 / (1.0 + wp.exp(-x))", "return x ** 2.0", "return x / (1.0 + wp.abs(x))",
                   "return wp.exp(-(x ** 2.0))", "return wp.max(x, 0.0)"))  # fmt: skip
    k.mod.block(["@wp.func", f"def {fn}(x: float) -> float:", IND + body])
    fname = k.mod.name("make_map_kernel", "create_elementwise", "make_apply")
    reduce = k.chance(0.5)
    sig = "func, accumulate: bool" if reduce else "func"
    k.factory = (f"def {fname}({sig}):", f"{fname}({fn}, {k.chance(0.5)})" if reduce else f"{fname}({fn})")
    k.factory_inner = k.pick(("apply", "map_kernel", "elementwise"))
    x = k.array(N.IN_F, "float")
    y = k.array(N.OUT_F, "float")
    (i,) = k.thread(k.pick(("i", "tid")))
    r = k.let(("r", "val"), f"func({x}[{i}])")
    post_float(k, r, 1)
    if reduce:
        with k.block("if wp.static(accumulate):"):
            k.emit(f"wp.atomic_add({y}, 0, {r})")
        with k.block("else:"):
            k.emit(f"{y}[{i}] = {r}")
    else:
        k.emit(f"{y}[{i}] = {r}")


_GRADS = (
    ("safe_sqrt", "x: float", "float", ["return wp.sqrt(wp.max(x, 0.0))"],
     ["if x > {eps}:", IND + "wp.adjoint[x] += adj_ret * 0.5 / wp.sqrt(x)"], "{v}"),
    ("clip_grad", "x: float", "float", ["return x"],
     ["wp.adjoint[x] += wp.clamp(adj_ret, -1.0, 1.0)"], "{v}"),
    ("safe_norm", "v: wp.vec3", "float", ["return wp.length(v)"],
     ["n = wp.length(v)", "if n > {eps}:", IND + "wp.adjoint[v] += v * (adj_ret / n)"], "{p}"),
    ("round_ste", "x: float", "float", ["return wp.round(x)"],
     ["wp.adjoint[x] += adj_ret"], "{v}"),
    ("safe_log", "x: float", "float", ["return wp.log(wp.max(x, {eps}))"],
     ["wp.adjoint[x] += adj_ret / wp.max(x, {eps})"], "{v}"),
    ("huber", "x: float, delta: float", "float",
     ["a = wp.abs(x)", "if a < delta:", IND + "return 0.5 * x ** 2.0 / delta", "return a - 0.5 * delta"],
     ["wp.adjoint[x] += adj_ret * wp.clamp(x / delta, -1.0, 1.0)"], "{v}, {d}"),
    ("safe_acos", "c: float", "float", ["return wp.acos(wp.clamp(c, -1.0, 1.0))"],
     ["d = wp.sqrt(wp.max(1.0 - c ** 2.0, {eps}))", "wp.adjoint[c] += -adj_ret / d"], "{c}"),
    ("soft_clamp", "x: float, hi: float", "float", ["return hi * wp.tanh(x / hi)"],
     ["t = wp.tanh(x / hi)", "wp.adjoint[x] += adj_ret * (1.0 - t ** 2.0)"], "{v}, {d}"),
)  # fmt: skip


def custom_grad(k: Kernel) -> None:
    """A loss kernel calling helpers that carry hand-written adjoints (@wp.func_grad)."""
    x = k.array(N.POS, "wp.vec3")
    loss = k.array(("loss", "l", "objective"), "float")
    (i,) = k.thread(k.pick(("i", "tid")))
    p = k.let(("p", "xi"), f"{x}[{i}]")
    chosen = k.rng.sample(_GRADS, k.rng.randint(1, 3))
    uses = "".join(g[-1] for g in chosen)
    v = d = c = ""
    if "{v}" in uses:
        target = k.array(("target", "x_ref", "goal"), "wp.vec3") if k.chance(0.5) else None
        v = k.let(("r", "dist2", "e"), f"wp.length_sq({p} - {target}[{i}])" if target else f"wp.length_sq({p})")
    if "{d}" in uses:
        d = k.scalar(("delta", "scale", "limit"))
    if "{c}" in uses:
        axis = k.param(("axis", "up", "ref_dir"), "wp.vec3")
        c = k.let(("c", "cos_t"), f"wp.dot(wp.normalize({p}), {axis})")
    terms = []
    for name, sig, ret, body, adj, arg in chosen:
        eps = k.eps()
        k.mod.taken.add(name)
        k.mod.block(["@wp.func", f"def {name}({sig}) -> {ret}:", *(IND + b.format(eps=eps) for b in body)])
        adj_lines = [IND + b.format(eps=eps) for b in adj]
        k.mod.block([f"@wp.func_grad({name})", f"def adj_{name}({sig}, adj_ret: {ret}):", *adj_lines])
        terms.append(f"{name}({arg.format(v=v, p=p, d=d, c=c)})")
    val = k.let(("val", "e", "term"), " + ".join(terms))
    if k.chance(0.5):
        w = k.array(N.WEIGHTS, "float")
        k.emit(f"{val} *= {w}[{i}]")
    k.emit(f"wp.atomic_add({loss}, 0, {val})")


def generic_helpers(k: Kernel) -> None:
    """A plain kernel calling one generic helper at two concrete types (vec3 and float)."""
    _, call = _generic_helper(k)
    x = k.array(N.POS, "wp.vec3")
    target = k.array(("target", "goal", "x_ref"), "wp.vec3")
    e = k.array(N.ENERGY, "float")
    t = k.scalar(("alpha", "blend", "relax"))
    (i,) = k.thread(k.pick(("i", "tid")))
    p = k.let(("p", "xi"), call.format(a=f"{x}[{i}]", b=f"{target}[{i}]", t=t))
    if k.chance(0.5):
        post_vec(k, p, None, 1)
    k.emit(f"{x}[{i}] = {p}")
    d = k.let(("d", "err"), f"wp.length({p} - {target}[{i}])")
    if k.chance(0.5):
        prev = k.array(("prev_err", "last", "hist"), "float")
        k.emit(f"{prev}[{i}] = {call.format(a=f'{prev}[{i}]', b=d, t=t)}")
    k.emit(f"wp.atomic_add({e}, 0, {d})")
