"""Optional statements motifs splice in around a value: clamps, guards, damping, static loops."""

from __future__ import annotations

from . import names as N
from . import slots
from .kernel import Kernel


def post_float(k: Kernel, x: str, budget: int = 2) -> None:
    """0..budget optional statements that update the float local ``x`` in place."""
    for _ in range(k.rng.randint(0, budget)):
        roll = k.rng.randrange(10)
        if roll >= 8:
            _constant_step(k, x)
        elif roll == 0:
            lo = k.scalar(("lower", "lo", "min_val"))
            hi = k.scalar(("upper", "hi", "max_val"))
            k.emit(f"{x} = wp.clamp({x}, {lo}, {hi})")
        elif roll == 1:
            with k.block(f"if not wp.isfinite({x}):"):
                k.emit(f"{x} = 0.0")
        elif roll == 2:
            k.emit(f"{x} *= {k.scalar(('scale', 'gain', 'factor'))}")
        elif roll == 3:
            k.emit(f"{x} = {slots.any_unary(k, x)}")
        elif roll == 4:
            k.emit(f"{x} = wp.max({x}, {k.num(0.0, 0.1, 3)})")
        elif roll == 5:
            limit = k.scalar(("limit", "cap", "threshold"))
            with k.block(f"if wp.abs({x}) > {limit}:"):
                k.emit(f"{x} = wp.sign({x}) * {limit}")
        elif roll == 6:
            k.emit(f"{x} += {k.scalar(('bias', 'offset', 'shift'))}")
        else:
            k.emit(f"{x} = {slots.binary(k, x, k.scalar(('ref', 'target', 'floor_val')))}")


def _constant_step(k: Kernel, x: str) -> None:
    """An angle wrap, a unit change or a change of log base, written with Warp's constants."""
    upper = k.chance(0.15)  # wp.PI is wp.pi; a few code bases write it so

    def c(name: str) -> str:
        return f"wp.{name.upper() if upper else name}"

    roll = k.rng.randrange(6)
    if roll == 0:
        k.emit(f"{x} = wp.mod({x}, {c('tau')})")
    elif roll == 1:
        k.emit(f"{x} = wp.clamp({x}, -{c('half_pi')}, {c('half_pi')})")
    elif roll == 2:
        k.emit(f"{x} = {x} * {c('pi')} / 180.0")
    elif roll == 3:
        if k.chance(0.7):
            k.emit(f"{x} = wp.log(wp.abs({x}) + 1.0) * {c(k.pick(('log2e', 'log10e')))}")
        else:
            k.emit(f"{x} = wp.log(wp.abs({x}) + {c('e')})")
    elif roll == 4:
        k.emit(f"{x} = wp.exp(wp.clamp({x}, -8.0, 8.0) * {c(k.pick(('ln2', 'ln10')))})")
    else:
        k.emit(f"{x} = wp.sin({x} * {c('phi')}) * {c('half_pi')}")


def post_vec(k: Kernel, v: str, dt: str | None = None, budget: int = 2) -> None:
    """0..budget optional statements that update the vec3 local ``v`` in place."""
    for _ in range(k.rng.randint(0, budget)):
        roll = k.rng.randrange(6)
        if roll == 0:
            vmax = k.scalar(("max_speed", "v_max", "max_vel"))
            speed = k.let(("speed", "mag", "vlen"), f"wp.length({v})")
            with k.block(f"if {speed} > {vmax}:"):
                k.emit(f"{v} = {v} * ({vmax} / {speed})")
        elif roll == 1 and dt is not None:
            k.emit(f"{v} = {v} * wp.exp(-{k.scalar(N.DAMPING)} * {dt})")
        elif roll == 2:
            k.emit(f"{v} *= {k.num(0.9, 0.999, 3)}")
        elif roll == 3:
            axis = k.param(("up", "normal", "plane_n", "axis"), "wp.vec3")
            k.emit(f"{v} = {v} - wp.dot({v}, {axis}) * {axis}")
        elif roll == 4:
            test = k.pick(
                (f"not wp.isfinite({v})", f"wp.isnan({v})", f"wp.isinf({v})", f"wp.isnan({v}) or wp.isinf({v})")
            )
            with k.block(f"if {test}:"):
                k.emit(f"{v} = wp.vec3(0.0)")
        else:
            lo = k.param(("bounds_lo", "lower", "box_min"), "wp.vec3")
            hi = k.param(("bounds_hi", "upper", "box_max"), "wp.vec3")
            k.emit(f"{v} = wp.min(wp.max({v}, {lo}), {hi})")


def static_loop(k: Kernel, count_pool=("NUM_ITERS", "N_SUB", "STEPS", "ORDER")) -> tuple[str, str]:
    """``for s in range(wp.static(C))`` over a module constant C; returns (loop var, constant)."""
    const = k.mod.const(count_pool, str(k.rng.randint(2, 6)))
    var = k.fresh("s", "it", "m")
    return var, const


def post_int(k: Kernel, x: str, budget: int = 2) -> None:
    """0..budget optional statements that update the int32 local ``x`` in place."""
    for _ in range(k.rng.randint(0, budget)):
        roll = k.rng.randrange(5)
        if roll == 0:
            k.emit(f"{x} = {x} % {k.scalar(('num_buckets', 'table_size', 'modulus'), 'int')}")
        elif roll == 1:
            k.emit(f"{x} &= {k.scalar(('mask', 'bitmask', 'keep_bits'), 'int')}")
        elif roll == 2:
            with k.block(f"if {x} < 0:"):
                k.emit(f"{x} = -{x}")
        elif roll == 3:
            k.emit(f"{x} = wp.min({x}, {k.scalar(('max_index', 'limit', 'cap'), 'int')})")
        else:
            k.emit(f"{x} += {k.scalar(('base', 'offset', 'start'), 'int')}")
