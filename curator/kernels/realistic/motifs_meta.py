"""Code generation at module level: user vector/matrix types, Any helpers at two types, custom adjoints."""

from __future__ import annotations

from . import names as N
from . import slots
from .extras import post_vec
from .kernel import Kernel
from .motifs_generic import define_helper
from .writer import IND


def _generic_helper(k: Kernel) -> tuple[str, str]:
    """A generic @wp.func over typing.Any; returns (name, call template with {a} {b} {t})."""
    name = define_helper(k, "abt", elementwise=True)
    return name, f"{name}({{a}}, {{b}}, {{t}})"


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


_GRADS = (
    (
        "safe_sqrt",
        "x: float",
        "float",
        ["return wp.sqrt(wp.max(x, 0.0))"],
        ["if x > {eps}:", IND + "wp.adjoint[x] += adj_ret * 0.5 / wp.sqrt(x)"],
        "{v}",
    ),
    ("clip_grad", "x: float", "float", ["return x"], ["wp.adjoint[x] += wp.clamp(adj_ret, -1.0, 1.0)"], "{v}"),
    (
        "safe_norm",
        "v: wp.vec3",
        "float",
        ["return wp.length(v)"],
        ["n = wp.length(v)", "if n > {eps}:", IND + "wp.adjoint[v] += v * (adj_ret / n)"],
        "{p}",
    ),
    ("round_ste", "x: float", "float", ["return wp.round(x)"], ["wp.adjoint[x] += adj_ret"], "{v}"),
    (
        "safe_log",
        "x: float",
        "float",
        ["return wp.log(wp.max(x, {eps}))"],
        ["wp.adjoint[x] += adj_ret / wp.max(x, {eps})"],
        "{v}",
    ),
    (
        "huber",
        "x: float, delta: float",
        "float",
        ["a = wp.abs(x)", "if a < delta:", IND + "return 0.5 * x ** 2.0 / delta", "return a - 0.5 * delta"],
        ["wp.adjoint[x] += adj_ret * wp.clamp(x / delta, -1.0, 1.0)"],
        "{v}, {d}",
    ),
    (
        "safe_acos",
        "c: float",
        "float",
        ["return wp.acos(wp.clamp(c, -1.0, 1.0))"],
        ["d = wp.sqrt(wp.max(1.0 - c ** 2.0, {eps}))", "wp.adjoint[c] += -adj_ret / d"],
        "{c}",
    ),
    (
        "soft_clamp",
        "x: float, hi: float",
        "float",
        ["return hi * wp.tanh(x / hi)"],
        ["t = wp.tanh(x / hi)", "wp.adjoint[x] += adj_ret * (1.0 - t ** 2.0)"],
        "{v}, {d}",
    ),
)


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
