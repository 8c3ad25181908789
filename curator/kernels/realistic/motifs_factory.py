"""Kernel factories: closures that build a kernel specialised on Python values (wp.static
branches and loops, a @wp.func passed in, the dtype)."""

from __future__ import annotations

import contextlib
import functools

from . import names as N
from .extras import post_float, post_vec
from .kernel import Kernel
from .motifs_generic import dtype_factory
from .writer import IND


def kernel_factory(k: Kernel) -> None:
    """A closure that builds a kernel specialised on Python values."""
    roll = k.rng.random()
    if roll < 0.4:
        dtype_factory(k)
    elif roll < 0.7:
        _map_factory(k)
    else:
        _integrator_factory(k)


def _flag(k: Kernel, sig: list[str], call: list[str], pool) -> str | None:
    """``wp.static(flag)`` of a new bool parameter of the factory (added to its ``sig`` and ``call``), or
    None (always on)."""
    if k.chance(0.45):
        return None
    name = k.pick(pool)
    while any(s.startswith(name + ":") for s in sig):
        name += "_on"
    sig.append(f"{name}: bool")
    call.append(str(k.chance(0.6)))
    return f"wp.static({name})"


def _switched(k: Kernel, test: str | None, line: str) -> None:
    """``line``, under ``if test:`` where a factory flag switches it."""
    if test is None:
        k.emit(line)
    else:
        with k.block(f"if {test}:"):
            k.emit(line)


def _ground(k: Kernel, test: str | None, p: str, u: str) -> None:
    """A ground plane the particle bounces off, switched by a factory flag or always on."""
    ground = k.scalar(("ground", "floor_y", "ground_height"))
    outer = k.block(f"if {test}:") if test else contextlib.nullcontext()
    with outer, k.block(f"if {p}[1] < {ground}:"):
        k.emit(f"{p}[1] = {ground}")
        k.emit(f"{u}[1] = -{u}[1] * {k.scalar(('restitution', 'bounce', 'e'))}")


def _step(k: Kernel, flag, p: str, u: str, acc: str, h: str) -> None:
    """One substep of the integrator's scheme; verlet may be switched by a factory flag."""
    scheme = k.pick(("semi_implicit", "explicit", "verlet", "midpoint"))
    if scheme == "verlet" and (test := flag(("verlet", "use_verlet"))) is not None:
        with k.block(f"if {test}:"):
            k.emit(f"{p} += ({u} + {acc} * (0.5 * {h})) * {h}")
            k.emit(f"{u} += {acc} * {h}")
        with k.block("else:"):
            k.emit(f"{u} += {acc} * {h}")
            k.emit(f"{p} += {u} * {h}")
    elif scheme == "explicit":
        k.emit(f"{p} += {u} * {h}")
        k.emit(f"{u} += {acc} * {h}")
    elif scheme == "midpoint":
        mid = k.let(("v_mid", "u_half"), f"{u} + {acc} * (0.5 * {h})")
        k.emit(f"{p} += {mid} * {h}")
        k.emit(f"{u} += {acc} * {h}")
    else:
        k.emit(f"{u} += {acc} * {h}")
        k.emit(f"{p} += {u} * {h}")


def _integrator_factory(k: Kernel) -> None:
    """A particle integrator with substeps, optional force terms and a scheme chosen by flags."""
    fname = k.mod.name("make_integrator", "create_kernel", "make_update", "build_step")
    sig, call = ["substeps: int"], [str(k.rng.randint(1, 4))]
    flag = functools.partial(_flag, k, sig, call)
    x = k.array(N.POS, "wp.vec3")
    v = k.array(N.VEL, "wp.vec3")
    dt = k.dt()
    (i,) = k.thread(k.pick(("i", "tid")))
    h = k.let(("h", "sub_dt"), f"{dt} / float(substeps)")
    p = k.let(("p", "xi"), f"{x}[{i}]")
    u = k.let(("u", "vi"), f"{v}[{i}]")
    terms = k.rng.sample(("force", "spring", "wind", "ground", "drag"), k.rng.randint(0, 3))
    if "force" in terms:
        f = k.array(N.FORCE, "wp.vec3")
        inv_m = f"{k.array(N.INV_MASS, 'float')}[{i}]" if k.chance(0.5) else k.scalar(N.INV_MASS)
        force = f"{f}[{i}] * {inv_m}"
    if "spring" in terms:
        rest = k.array(("rest", "anchor", "x_rest", "targets"), "wp.vec3")
        ke = k.scalar(N.STIFF)
    if "wind" in terms:
        wind = k.param(("wind", "flow", "air_vel"), "wp.vec3")
        kd = k.scalar(("drag_coeff", "kd_air", "c_drag"))
    s = k.fresh("s", "step")
    header = f"for {s} in range(wp.static(substeps)):" if k.chance(0.6) else f"for {s} in range(substeps):"
    with k.block(header):
        acc = k.let(("acc", "a"), k.param(N.GRAVITY, "wp.vec3") if k.chance(0.6) else "wp.vec3(0.0, -9.81, 0.0)")
        for term, text in (("force", "force"), ("spring", "spring"), ("wind", "wind")):
            if term not in terms:
                continue
            line = {
                "force": lambda: f"{acc} += {force}",
                "spring": lambda: f"{acc} += ({rest}[{i}] - {p}) * {ke}",
                "wind": lambda: f"{acc} += ({wind} - {u}) * {kd}",
            }[term]()
            _switched(k, flag((f"use_{text}", f"enable_{text}")), line)
        _step(k, flag, p, u, acc, h)
        if "drag" in terms:
            c = k.scalar(N.DAMPING)
            line = k.pick((f"{u} *= wp.exp(-{c} * {h})", f"{u} = {u} * (1.0 - {c} * {h})"))
            _switched(k, flag(("use_damping", "damped")), line)
        if "ground" in terms:
            _ground(k, flag(("collide_ground", "use_ground")), p, u)
    if k.chance(0.4):
        test = flag(("clamp_output", "clamp_positions"))
        lim = k.scalar(("limit", "bound"))
        _switched(k, test, f"{p} = wp.min(wp.max({p}, wp.vec3(-{lim})), wp.vec3({lim}))")
    post_vec(k, u, dt, 1)
    k.emit(f"{x}[{i}] = {p}")
    k.emit(f"{v}[{i}] = {u}")
    k.factory = (f"def {fname}({', '.join(sig)}):", f"{fname}({', '.join(call)})")
    k.factory_inner = k.pick(("update", "step_kernel", "integrate", "kernel"))


_UNARY = (
    (("sigmoid", "logistic"), "return 1.0 / (1.0 + wp.exp(-x))"),
    (("square_fn", "squared"), "return x * wp.abs(x)"),
    (("softsign", "soft_sign"), "return x / (1.0 + wp.abs(x))"),
    (("bump", "gaussian"), "return wp.exp(-(x ** 2.0))"),
    (("ramp", "relu"), "return wp.max(x, 0.0)"),
    (("leaky_relu", "leaky"), "return wp.where(x > 0.0, x, 0.01 * x)"),
    (("softplus", "smooth_relu"), "return wp.log(1.0 + wp.exp(x))"),
    (("saturate", "clamp01"), "return wp.clamp(x, 0.0, 1.0)"),
)
_BINARY = (
    (("weighted", "scale_fn"), "return x * w"),
    (("smooth_max", "soft_max2"), "return 0.5 * (x + w + wp.sqrt((x - w) ** 2.0 + 1.0e-6))"),
    (("hinge", "margin"), "return wp.max(x - w, 0.0)"),
    (("huber_fn", "robust"), "a = wp.abs(x - w)\n    if a < 1.0:\n        return 0.5 * a * a\n    return a - 0.5"),
)


def _func(k: Kernel, binary: bool) -> str:
    pool, body = k.pick(_BINARY if binary else _UNARY)
    name = k.mod.name(*pool)
    sig = "x: float, w: float" if binary else "x: float"
    k.mod.block(["@wp.func", f"def {name}({sig}) -> float:", *(IND + line for line in body.split("\n    "))])
    return name


def _map_factory(k: Kernel) -> None:
    """A factory taking @wp.func values and returning an element-wise kernel that applies them."""
    binary = k.chance(0.35)
    funcs = [("func", _func(k, binary))]
    if not binary and k.chance(0.35):
        funcs.append(("post", _func(k, False)))
    sig, call = [n for n, _ in funcs], [f for _, f in funcs]
    fname = k.mod.name("make_map_kernel", "create_elementwise", "make_apply")
    k.factory_inner = k.pick(("apply", "map_kernel", "elementwise"))
    x = k.array(N.IN_F, "float")
    y = k.array(N.OUT_F, "float")
    w = k.array(N.WEIGHTS, "float") if binary else None
    (i,) = k.thread(k.pick(("i", "tid")))
    arg = f"{x}[{i}], {w}[{i}]" if binary else f"{x}[{i}]"
    r = k.let(("r", "val"), f"func({arg})")
    if k.chance(0.3):
        sig.append(k.pick(("passes: int", "repeat: int")))
        call.append(str(k.rng.randint(2, 4)))
        s = k.fresh("s", "it")
        with k.block(f"for {s} in range(wp.static({sig[-1].split(':')[0]})):"):
            k.emit(f"{r} = func({r}, {w}[{i}])" if binary else f"{r} = func({r})")
    if len(funcs) == 2:
        k.emit(f"{r} = post({r})")
    post_float(k, r, 1)
    roll = k.rng.randrange(4)
    if roll == 0:
        sig.append("accumulate: bool")
        call.append(str(k.chance(0.5)))
        with k.block("if wp.static(accumulate):"):
            k.emit(f"wp.atomic_add({y}, 0, {r})")
        with k.block("else:"):
            k.emit(f"{y}[{i}] = {r}")
    elif roll == 1:
        k.emit(f"wp.atomic_add({y}, 0, {r})")
    elif roll == 2:
        k.emit(f"{y}[{i}] += {r}")
    else:
        k.emit(f"{y}[{i}] = {r}")
    k.factory = (f"def {fname}({', '.join(sig)}):", f"{fname}({', '.join(call)})")
